"""Webhook deliveries to a real HTTP receiver: signed, retried, ordered, tenant-bound."""

import re
from pathlib import Path

import pytest

from helpdesk.conversations import announcements
from helpdesk.conversations.announcements import message_created
from helpdesk.conversations.lifecycle import (
    conversation_handoff,
    conversation_resolve,
    conversation_takeover,
)
from helpdesk.conversations.models import Conversation
from helpdesk.conversations.services import Sender, conversation_start, message_post
from helpdesk.webhooks.delivery import deliveries_resend, webhooks_enable
from helpdesk.webhooks.models import Webhook, WebhookDelivery
from tests.factories import ContactFactory, ConversationFactory, InboxFactory, MembershipFactory
from tests.webhooks.conftest import settle

pytestmark = pytest.mark.django_db(transaction=True)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def documented_verify():
    """The Python verification snippet of docs/webhooks.md, as a receiver would paste it."""
    source = re.search(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S).group(1)
    namespace: dict = {}
    exec(source, namespace)  # noqa: S102 - our own documentation
    return namespace["verify"]


def post(conversation, agent, text="hello", client_id=None):
    return message_post(
        tenant=conversation.tenant,
        conversation_id=conversation.pk,
        sender=Sender.agent(agent),
        text=text,
        client_id=client_id,
    ).message


def deliveries(**filters):
    return list(WebhookDelivery.objects.filter(**filters).order_by("occurred_at", "id"))


def test_a_delivery_is_signed_and_verifies_with_the_documented_snippet(
    receiver, make_webhook, conversation, agent
):
    webhook = make_webhook(receiver.url)

    message = post(conversation, agent, text="你好")

    settle(lambda: receiver.received)
    request = receiver.received[0]
    verify = documented_verify()
    assert verify(webhook.secret, request.headers, request.body)
    assert not verify("whsec_wrong", request.headers, request.body)
    assert not verify(webhook.secret, request.headers, request.body + b" ")
    old = {
        **request.headers,
        "X-Helpdesk-Timestamp": str(int(request.headers["X-Helpdesk-Timestamp"]) - 3600),
    }
    assert not verify(webhook.secret, old, request.body)
    body = request.json
    assert body["type"] == "message.created"
    assert body["tenant"] == conversation.tenant.slug
    assert body["data"]["message"]["text"] == "你好"
    assert body["data"]["message"]["id"] == message.pk
    assert body["data"]["conversation"]["id"] == conversation.pk
    assert request.headers["X-Helpdesk-Event"] == "message.created"
    assert request.headers["X-Helpdesk-Delivery"] == body["id"]
    delivery = settle(lambda: deliveries(status="delivered"))[0]
    assert str(delivery.event_id) == body["id"]
    assert delivery.last_status_code == 200
    assert delivery.response_ms is not None


def test_a_500_is_retried_with_the_same_event_id(receiver, make_webhook, conversation, agent):
    make_webhook(receiver.url)
    receiver.answers = [500]

    post(conversation, agent)

    delivery = settle(lambda: deliveries(status="delivered"))[0]
    assert delivery.attempts == 2
    assert len(receiver.received) == 2
    assert len({r.json["id"] for r in receiver.received}) == 1


def test_a_timeout_is_retried(receiver, make_webhook, conversation, agent, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    receiver.slow_seconds = 1.5
    receiver.answers = ["slow"]
    make_webhook(receiver.url)

    post(conversation, agent)

    delivery = settle(lambda: deliveries(status="delivered"), timeout=15)[0]
    assert delivery.attempts == 2
    assert len(receiver.received) == 2


def test_a_conversations_events_arrive_in_order_even_when_one_is_retried(
    receiver, make_webhook, conversation, agent
):
    make_webhook(receiver.url)
    receiver.answers = [500, 500]

    for n in range(4):
        post(conversation, agent, text=f"m{n}")

    settle(lambda: len(deliveries(status="delivered")) == 4)
    texts = [r.json["data"]["message"]["text"] for r in receiver.received]
    # m0 failed twice; nothing after it went before it was delivered.
    assert texts == ["m0", "m0", "m0", "m1", "m2", "m3"]


def test_another_conversation_does_not_wait(receiver, make_webhook, conversation, agent):
    make_webhook(receiver.url)
    other = ConversationFactory(
        tenant=conversation.tenant, inbox=conversation.inbox, contact=conversation.contact
    )
    receiver.answers = [500]

    post(conversation, agent, text="first")
    settle(lambda: deliveries(status="failed") or deliveries(status="delivered"))
    post(other, agent, text="second")

    settle(lambda: len(deliveries(status="delivered")) == 2)
    texts = [r.json["data"]["message"]["text"] for r in receiver.received]
    assert sorted(texts) == ["first", "first", "second"]


def test_nothing_is_sent_to_a_private_address(
    receiver, make_webhook, conversation, agent, settings
):
    settings.WEBHOOK_ALLOWED_INTERNAL_HOSTS = []
    settings.WEBHOOK_RETRY_SECONDS = []
    make_webhook(receiver.url)

    post(conversation, agent)

    delivery = settle(lambda: deliveries(status="dead"))[0]
    assert receiver.received == []
    assert delivery.last_error.startswith("private_address")
    assert delivery.last_status_code is None


def test_repeated_failures_disable_the_webhook_and_enabling_sends_what_waited(
    receiver, make_webhook, conversation, agent, settings
):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    settings.WEBHOOK_RETRY_SECONDS = [0.1] * 10
    webhook = make_webhook(receiver.url)
    receiver.answers = [503] * 3

    post(conversation, agent, text="a")

    settle(lambda: not Webhook.objects.get(pk=webhook.pk).is_active)
    webhook.refresh_from_db()
    assert webhook.disabled_at is not None
    assert "3" in webhook.disabled_reason
    assert "HTTP 503" in webhook.disabled_reason
    assert len(receiver.received) == 3
    # Nothing more goes to a disabled webhook, and it hears no new events.
    post(conversation, agent, text="b")
    settle(lambda: True)
    assert len(receiver.received) == 3
    assert deliveries(status="delivered") == []

    webhooks_enable(tenant=conversation.tenant, webhook_ids=[webhook.pk])

    settle(lambda: deliveries(status="delivered"))
    webhook.refresh_from_db()
    assert (webhook.is_active, webhook.consecutive_failures, webhook.disabled_reason) == (
        True,
        0,
        "",
    )
    assert [r.json["data"]["message"]["text"] for r in receiver.received] == ["a"] * 4


def test_a_delivery_can_be_sent_again(receiver, make_webhook, conversation, agent):
    make_webhook(receiver.url)
    post(conversation, agent)
    delivery = settle(lambda: deliveries(status="delivered"))[0]

    assert deliveries_resend(tenant=conversation.tenant, delivery_ids=[delivery.pk]) == 1

    settle(lambda: len(receiver.received) == 2)
    assert receiver.received[0].json["id"] == receiver.received[1].json["id"]
    settle(lambda: deliveries(status="delivered"))


def test_a_tenants_events_never_reach_another_tenants_webhook(
    receiver, make_webhook, conversation, agent, other_tenant
):
    from tests.webhooks.conftest import Receiver

    other_receiver = Receiver()
    try:
        make_webhook(receiver.url)
        make_webhook(other_receiver.url, tenant=other_tenant)
        other_conversation = ConversationFactory(
            tenant=other_tenant,
            inbox=InboxFactory(tenant=other_tenant),
            contact=ContactFactory(tenant=other_tenant),
        )
        other_agent = MembershipFactory(tenant=other_tenant).user

        post(conversation, agent, text="mine")
        post(other_conversation, other_agent, text="theirs")

        settle(lambda: len(deliveries(status="delivered")) == 2)
        assert [r.json["data"]["message"]["text"] for r in receiver.received] == ["mine"]
        assert [r.json["data"]["message"]["text"] for r in other_receiver.received] == ["theirs"]
        assert receiver.received[0].json["tenant"] == conversation.tenant.slug
        # A foreign tenant's id is ignored by the admin actions' services.
        foreign = WebhookDelivery.objects.get(tenant=other_tenant)
        assert deliveries_resend(tenant=conversation.tenant, delivery_ids=[foreign.pk]) == 0
    finally:
        other_receiver.close()


def test_the_lifecycle_events_arrive_in_order(receiver, make_webhook, tenant, contact, agent):
    make_webhook(
        receiver.url,
        events=[
            "conversation.created",
            "conversation.status_changed",
            "conversation.assigned",
            "conversation.handoff",
        ],
    )
    from tests.factories import BotConfigFactory

    inbox = InboxFactory(tenant=tenant, bot=BotConfigFactory(tenant=tenant))
    conversation = conversation_start(tenant=tenant, inbox=inbox, contact=contact)
    conversation_handoff(tenant=tenant, conversation_id=conversation.pk, reason="asked")
    conversation_takeover(tenant=tenant, conversation_id=conversation.pk, agent=agent)
    conversation_resolve(tenant=tenant, conversation_id=conversation.pk, agent=agent)

    settle(lambda: len(deliveries(status="delivered")) == 6)
    got = [(r.json["type"], r.json["data"].get("status")) for r in receiver.received]
    assert got == [
        ("conversation.created", None),
        ("conversation.status_changed", "queued"),
        ("conversation.handoff", None),
        ("conversation.status_changed", "assigned"),
        ("conversation.assigned", None),
        ("conversation.status_changed", "resolved"),
    ]
    assigned = receiver.received[4].json["data"]
    assert assigned["assignee"]["id"] == agent.pk
    assert receiver.received[0].json["data"]["contact"]["id"] == contact.pk
    assert Conversation.objects.get(pk=conversation.pk).status == "resolved"


def test_announcing_costs_nothing_when_no_webhook_listens(make_webhook, conversation, agent):
    message = post(conversation, agent)
    change = message_created(message)

    assert announcements._interested(change) == []

    webhook = make_webhook("https://hooks.example.com/x", events=["conversation.created"])
    assert announcements._interested(change) == []
    webhook.events = ["message.created"]
    webhook.save()
    assert announcements._interested(change) == ["webhooks"]
    webhook.delete()
    assert announcements._interested(change) == []


def test_a_contact_change_is_delivered_without_a_conversation(receiver, make_webhook, contact):
    from django.db import transaction

    from helpdesk.conversations.announcements import change_announce, contact_changed

    make_webhook(receiver.url, events=["contact.changed"])
    contact.name = "Li Lei"
    contact.email = "li@example.com"
    with transaction.atomic():
        contact.save()
        change_announce(contact_changed(contact))

    settle(lambda: deliveries(status="delivered"))
    body = receiver.received[0].json
    assert body["type"] == "contact.changed"
    assert body["data"]["contact"] == {
        "id": contact.pk,
        "name": "Li Lei",
        "email": "li@example.com",
        "language": contact.language,
        "created_at": contact.created_at.isoformat(),
    }
    assert deliveries()[0].conversation_id is None
