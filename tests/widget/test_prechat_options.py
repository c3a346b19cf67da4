"""The pre-chat form as the widget is told about it (``options.prechat``)."""

import pytest

from helpdesk.widget.models import PrechatField
from helpdesk.widget.options import widget_options

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def form_inbox(inbox):
    inbox.prechat_enabled = True
    inbox.save()
    PrechatField.objects.create(
        tenant=inbox.tenant, inbox=inbox, position=0, key="name", kind="name",
        label="Your name", required=True,
    )  # fmt: skip
    PrechatField.objects.create(
        tenant=inbox.tenant, inbox=inbox, position=1, key="email", kind="email", label="E-mail"
    )
    PrechatField.objects.create(
        tenant=inbox.tenant, inbox=inbox, position=2, key="topic", kind="choice",
        label="Topic", required=True, choices="Billing\n Shipping \n\n",
    )  # fmt: skip
    return inbox


def test_the_options_list_the_fields_in_order(form_inbox):
    assert widget_options(form_inbox, language="en")["prechat"] == {
        "enabled": True,
        "fields": [
            {"key": "name", "kind": "name", "label": "Your name", "required": True, "choices": []},
            {"key": "email", "kind": "email", "label": "E-mail", "required": False, "choices": []},
            {
                "key": "topic",
                "kind": "choice",
                "label": "Topic",
                "required": True,
                "choices": ["Billing", "Shipping"],
            },
        ],
    }


def test_a_form_switched_off_or_without_fields_is_not_enabled(form_inbox, tenant):
    form_inbox.prechat_enabled = False
    form_inbox.save()
    assert widget_options(form_inbox, language="en")["prechat"] == {"enabled": False, "fields": []}

    form_inbox.prechat_enabled = True
    form_inbox.save()
    PrechatField.objects.all().delete()
    assert widget_options(form_inbox, language="en")["prechat"]["enabled"] is False
