"""A webhook's signing secret is encrypted at rest, like bots' API keys."""

import pytest

from helpdesk.webhooks.models import Webhook

pytestmark = pytest.mark.django_db


def test_the_secret_is_not_stored_in_clear(tenant):
    webhook = Webhook.objects.create(tenant=tenant, url="https://crm.example.com/hook")

    stored = Webhook.objects.filter(pk=webhook.pk).values_list("secret_encrypted", flat=True).get()

    assert webhook.secret.startswith("whsec_")
    assert webhook.secret not in stored
    assert Webhook.objects.get(pk=webhook.pk).secret == webhook.secret
