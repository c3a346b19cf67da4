"""A message stored by the fast path (one statement on the loop, service mode) is announced
to webhooks like any other."""

import asyncio

import pytest

from helpdesk.conversations import fast_path
from helpdesk.conversations.models import Conversation
from helpdesk.core import apg
from helpdesk.webhooks.models import WebhookDelivery
from tests.factories import ConversationFactory
from tests.webhooks.conftest import settle

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]


@pytest.fixture
def open_conversation(tenant, inbox, contact):
    return ConversationFactory(
        tenant=tenant, inbox=inbox, contact=contact, status=Conversation.Status.QUEUED
    )


@pytest.fixture
def webhook(receiver, make_webhook):
    return make_webhook(receiver.url)


async def test_a_fast_path_message_is_delivered(receiver, webhook, open_conversation, monkeypatch):
    assert apg.available()
    paths = []
    store_fast = fast_path._store_fast

    async def spy(**kwargs):
        result = await store_fast(**kwargs)
        paths.append("fast" if result is not None else "orm")
        return result

    monkeypatch.setattr(fast_path, "_store_fast", spy)

    result = await fast_path.acustomer_message_send(
        tenant=open_conversation.tenant,
        inbox=open_conversation.inbox,
        contact=open_conversation.contact,
        conversation_id=open_conversation.pk,
        text="over the fast path",
        client_id="fast-1",
        client_ip="203.0.113.9",
    )

    assert paths == ["fast"]
    await asyncio.to_thread(
        settle, lambda: WebhookDelivery.objects.filter(status="delivered").exists()
    )
    body = receiver.received[0].json
    assert body["type"] == "message.created"
    assert body["data"]["message"]["id"] == result.message.pk
    assert body["data"]["message"]["text"] == "over the fast path"
