"""The look-and-feel options of an inbox (sound, unread count in the title, launcher label,
proactive greeting) reach the widget with its token, and the admin refuses values out of range."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from helpdesk.widget.options import widget_options
from tests.realtime.conftest import ORIGIN

pytestmark = pytest.mark.django_db(transaction=True)


def token_answer(inbox):
    response = Client().post(
        "/widget/api/visitor",
        data=json.dumps({"inbox": inbox.public_key}),
        content_type="application/json",
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_the_token_answer_carries_the_defaults(inbox):
    options = token_answer(inbox)["options"]

    assert options["sound"] is True
    assert options["title_unread"] is True
    assert options["launcher_label"] == ""
    assert options["proactive"] == {"message": "", "delay_seconds": 0}


def test_the_token_answer_carries_the_inbox_settings(inbox):
    inbox.sound_enabled = False
    inbox.title_unread_enabled = False
    inbox.launcher_label = "Questions? Chat with us"
    inbox.proactive_message = "Need help choosing a tent?"
    inbox.proactive_delay_seconds = 12
    inbox.save()

    options = token_answer(inbox)["options"]

    assert options["sound"] is False
    assert options["title_unread"] is False
    assert options["launcher_label"] == "Questions? Chat with us"
    assert options["proactive"] == {"message": "Need help choosing a tent?", "delay_seconds": 12}


def test_options_are_those_of_widget_options(inbox):
    inbox.launcher_label = "Hi"
    inbox.save()

    answered = token_answer(inbox)["options"]
    expected = widget_options(inbox, language="en")
    for key in ("sound", "title_unread", "launcher_label", "proactive"):
        assert answered[key] == expected[key]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("launcher_label", "x" * 61),
        ("proactive_message", "x" * 301),
        ("proactive_delay_seconds", 3601),
        ("proactive_delay_seconds", -1),
    ],
)
def test_out_of_range_values_are_refused(inbox, field, value):
    setattr(inbox, field, value)

    with pytest.raises(ValidationError) as caught:
        inbox.full_clean()

    assert field in caught.value.message_dict


def test_values_at_the_limits_are_accepted(inbox):
    inbox.launcher_label = "x" * 60
    inbox.proactive_message = "x" * 300
    inbox.proactive_delay_seconds = 3600

    inbox.full_clean()


def test_the_admin_form_refuses_values_out_of_range(tenant_admin, inbox):
    from django.contrib.admin.sites import site
    from django.forms.models import model_to_dict
    from django.test import RequestFactory

    from helpdesk.tenants.models import Inbox

    request = RequestFactory().get("/admin/")
    request.user = tenant_admin
    form_class = site._registry[Inbox].get_form(request, inbox)
    fields = form_class.base_fields
    assert {"sound_enabled", "title_unread_enabled", "launcher_label"} <= set(fields)
    data = {name: value for name, value in model_to_dict(inbox).items() if value is not None}
    data.update(launcher_label="x" * 61, proactive_delay_seconds=3601)

    form = form_class(data=data, instance=inbox)

    assert not form.is_valid()
    assert "launcher_label" in form.errors
    assert "proactive_delay_seconds" in form.errors
