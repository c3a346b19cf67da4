"""Webhooks in the admin, as a tenant admin: create with event checkboxes, see the secret and
the deliveries, resend, re-enable; never another tenant's rows."""

import pytest
from django.urls import reverse

from helpdesk.webhooks.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db

ADD = reverse("admin:webhooks_webhook_add")
CHANGELIST = reverse("admin:webhooks_webhook_changelist")
DELIVERIES = reverse("admin:webhooks_webhookdelivery_changelist")


def change_url(webhook):
    return reverse("admin:webhooks_webhook_change", args=[webhook.pk])


def a_delivery(webhook, **fields):
    from django.utils import timezone

    values = {
        "tenant": webhook.tenant,
        "webhook": webhook,
        "event": "message.created",
        "conversation_id": 1,
        "payload": {"x": 1},
        "occurred_at": timezone.now(),
        "status": "dead",
        "attempts": 7,
        "last_status_code": 500,
        "last_error": "HTTP 500",
        "response_ms": 42,
    }
    values.update(fields)
    return WebhookDelivery.objects.create(**values)


def test_the_add_page_offers_the_events_as_checkboxes(tenant_admin_client):
    response = tenant_admin_client.get(ADD)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'type="checkbox" name="events" value="message.created"' in html
    assert 'value="conversation.rated"' in html
    assert 'name="tenant"' not in html


def test_a_tenant_admin_creates_a_webhook_with_a_secret(tenant_admin_client, tenant):
    response = tenant_admin_client.post(
        ADD,
        {
            "url": "https://hooks.example.com/helpdesk",
            "events": ["message.created", "conversation.assigned"],
            "is_active": "on",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    webhook = Webhook.objects.get()
    assert webhook.tenant == tenant
    assert webhook.events == ["message.created", "conversation.assigned"]
    assert webhook.secret.startswith("whsec_")
    assert len(webhook.secret) > 30
    page = tenant_admin_client.get(change_url(webhook)).content.decode()
    assert webhook.secret in page


def test_a_private_address_is_refused_in_the_form(tenant_admin_client, settings):
    settings.WEBHOOK_ALLOWED_INTERNAL_HOSTS = []
    response = tenant_admin_client.post(
        ADD, {"url": "http://127.0.0.1:8000/x", "events": ["message.created"], "is_active": "on"}
    )

    assert response.status_code == 200
    assert "internal network" in response.content.decode()
    assert not Webhook.objects.exists()


def test_no_event_is_refused(tenant_admin_client):
    response = tenant_admin_client.post(ADD, {"url": "https://hooks.example.com/x"})

    assert response.status_code == 200
    assert not Webhook.objects.exists()


def test_the_deliveries_show_status_time_and_error(tenant_admin_client, tenant):
    webhook = Webhook.objects.create(tenant=tenant, url="https://a.example.com", events=[])
    a_delivery(webhook)

    page = tenant_admin_client.get(DELIVERIES).content.decode()
    assert "HTTP 500" in page
    assert "42" in page
    assert "HTTP 500" in tenant_admin_client.get(change_url(webhook)).content.decode()
    filtered = tenant_admin_client.get(f"{DELIVERIES}?webhook__id__exact={webhook.pk}")
    assert filtered.status_code == 200


def test_another_tenants_rows_are_not_found(tenant_admin_client, other_tenant):
    webhook = Webhook.objects.create(tenant=other_tenant, url="https://b.example.com", events=[])
    delivery = a_delivery(webhook)

    assert tenant_admin_client.get(change_url(webhook)).status_code == 404
    assert "b.example.com" not in tenant_admin_client.get(CHANGELIST).content.decode()
    url = reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk])
    assert tenant_admin_client.get(url).status_code == 404


def test_the_resend_action(tenant_admin_client, tenant, monkeypatch):
    sent = []
    monkeypatch.setattr("helpdesk.core.jobs.enqueue", lambda task, *args: sent.append(args))
    webhook = Webhook.objects.create(tenant=tenant, url="https://a.example.com", events=[])
    delivery = a_delivery(webhook)

    response = tenant_admin_client.post(
        DELIVERIES, {"action": "resend", "_selected_action": [delivery.pk]}, follow=True
    )

    assert response.status_code == 200
    assert "1 delivery will be sent again." in response.content.decode()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert sent == [(delivery.pk,)]


def test_the_enable_action(tenant_admin_client, tenant):
    from django.utils import timezone

    webhook = Webhook.objects.create(
        tenant=tenant,
        url="https://a.example.com",
        events=["message.created"],
        is_active=False,
        disabled_at=timezone.now(),
        disabled_reason="20 deliveries in a row failed",
        consecutive_failures=20,
    )
    page = tenant_admin_client.get(change_url(webhook)).content.decode()
    assert "20 deliveries in a row failed" in page

    response = tenant_admin_client.post(
        CHANGELIST, {"action": "enable", "_selected_action": [webhook.pk]}, follow=True
    )

    assert "1 webhook enabled." in response.content.decode()
    webhook.refresh_from_db()
    assert (webhook.is_active, webhook.disabled_at, webhook.consecutive_failures) == (True, None, 0)


def test_a_superuser_chooses_the_tenant(admin_client, tenant):
    response = admin_client.post(
        ADD,
        {
            "tenant": tenant.pk,
            "url": "https://hooks.example.com/x",
            "events": ["contact.changed"],
            "is_active": "on",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Webhook.objects.get().tenant == tenant
