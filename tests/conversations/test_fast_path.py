"""acustomer_message_send: the same rules, rows and events as customer_message_send, whichever
path serves the message (one statement on the loop's connection in service mode, the ORM in a
thread otherwise and for anything unusual)."""

import asyncio

import pytest
from channels.db import database_sync_to_async

from helpdesk.conversations import fast_path
from helpdesk.conversations.models import Conversation, Message
from helpdesk.conversations.services import customer_message_send
from helpdesk.core.errors import NotFound, RateLimited, TextEmpty, TextTooLong
from helpdesk.plugins.models import PluginConfig
from helpdesk.realtime.events import agents_group, conversation_group
from tests.conftest import fresh_rate_window, service_mode
from tests.factories import ContactFactory, ConversationFactory

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async
IP = "203.0.113.9"


async def send(conversation, text, client_id, *, contact=None, conversation_id="same"):
    return await fast_path.acustomer_message_send(
        tenant=conversation.tenant,
        inbox=conversation.inbox,
        contact=contact or conversation.contact,
        conversation_id=conversation.pk if conversation_id == "same" else conversation_id,
        text=text,
        client_id=client_id,
        client_ip=IP,
    )


async def send_through_the_orm(conversation, text, client_id):
    """The same message through customer_message_send, in a thread, as before the fast path."""
    return await db(customer_message_send)(
        tenant=conversation.tenant,
        inbox=conversation.inbox,
        contact=conversation.contact,
        conversation_id=conversation.pk,
        text=text,
        client_id=client_id,
        client_ip=IP,
    )


@pytest.fixture
def open_conversation(tenant, inbox, contact):
    return ConversationFactory(
        tenant=tenant, inbox=inbox, contact=contact, status=Conversation.Status.QUEUED
    )


def without_identity(payload: dict) -> dict:
    """A payload without what differs between two messages by nature (ids, seq, clocks)."""
    drop = {"id", "client_id", "seq", "created_at", "last_message_at", "last_seq", "text",
            "preview"}  # fmt: skip
    cleaned = {k: v for k, v in payload.items() if k not in drop}
    if "last_message" in cleaned:
        cleaned["last_message"] = without_identity(cleaned["last_message"])
    return cleaned


async def test_both_paths_store_the_same_row_and_announce_the_same_events(
    open_conversation, listen
):
    conversation = open_conversation
    # Listeners run their own event loops: made and read in threads, off this test's loop.
    customer = await asyncio.to_thread(
        listen, conversation_group(conversation.tenant_id, conversation.pk)
    )
    agents = await asyncio.to_thread(listen, agents_group(conversation.tenant_id))

    fast = await send(conversation, "from the loop", "c-fast")
    slow = await send_through_the_orm(conversation, "from a thread", "c-slow")

    assert (fast.created, slow.created) == (True, True)
    assert (fast.message.seq, slow.message.seq) == (1, 2)
    rows = await db(list)(
        Message.objects.filter(conversation=conversation)
        .order_by("seq")
        .values("tenant_id", "seq", "client_id", "sender_type", "sender_user_id", "kind",
                "text", "metadata", "state")
    )  # fmt: skip
    assert rows == [
        {"tenant_id": conversation.tenant_id, "seq": 1, "client_id": "c-fast",
         "sender_type": "contact", "sender_user_id": None, "kind": "text",
         "text": "from the loop", "metadata": {}, "state": "complete"},
        {"tenant_id": conversation.tenant_id, "seq": 2, "client_id": "c-slow",
         "sender_type": "contact", "sender_user_id": None, "kind": "text",
         "text": "from a thread", "metadata": {}, "state": "complete"},
    ]  # fmt: skip
    stored = await db(Conversation.objects.get)(pk=conversation.pk)
    assert stored.last_seq == 2
    assert (
        stored.last_message_at
        == (await db(Message.objects.get)(seq=2, conversation=stored)).created_at
    )

    # Published from two places (the loop, a thread): compared in seq order.
    created = sorted(await asyncio.to_thread(customer.events), key=lambda e: e["seq"])
    updated = sorted(await asyncio.to_thread(agents.events), key=lambda e: e["seq"])
    assert [e["type"] for e in created] == ["message.created", "message.created"]
    assert [e["seq"] for e in created] == [1, 2]
    assert [e["data"]["text"] for e in created] == ["from the loop", "from a thread"]
    assert without_identity(created[0]["data"]) == without_identity(created[1]["data"])
    assert [e["type"] for e in updated] == ["conversation.updated", "conversation.updated"]
    assert without_identity(updated[0]["data"]) == without_identity(updated[1]["data"])
    assert updated[0]["data"]["last_message"]["preview"] == "from the loop"


async def test_a_resend_is_stored_once_and_answered_with_the_stored_message(open_conversation):
    first = await send(open_conversation, "hello", "c-1")
    again = await send(open_conversation, "hello (typed again)", "c-1")

    assert first.created
    assert not again.created
    assert again.message.pk == first.message.pk
    assert again.message.text == "hello"
    assert await db(Message.objects.filter(conversation=open_conversation).count)() == 1
    assert (await db(Conversation.objects.get)(pk=open_conversation.pk)).last_seq == 1


async def test_concurrent_messages_get_consecutive_seqs(open_conversation):
    results = await asyncio.gather(
        *(send(open_conversation, f"message {n}", f"c-{n}") for n in range(20))
    )

    assert sorted(r.message.seq for r in results) == list(range(1, 21))
    assert (await db(Conversation.objects.get)(pk=open_conversation.pk)).last_seq == 20


async def test_writing_in_a_resolved_conversation_reopens_it(open_conversation):
    await db(Conversation.objects.filter(pk=open_conversation.pk).update)(
        status=Conversation.Status.RESOLVED
    )

    result = await send(open_conversation, "one more thing", "c-1")

    assert result.created
    reopened = await db(Conversation.objects.get)(pk=open_conversation.pk)
    assert reopened.status != Conversation.Status.RESOLVED


async def test_someone_elses_conversation_is_not_found(open_conversation, other_tenant):
    stranger = await db(ContactFactory)(tenant=open_conversation.tenant)
    with pytest.raises(NotFound):
        await send(open_conversation, "hi", "c-1", contact=stranger)

    elsewhere = await db(ConversationFactory)(tenant=other_tenant)
    with pytest.raises(NotFound):
        await send(open_conversation, "hi", "c-2", conversation_id=elsewhere.pk)

    assert await db(Message.objects.count)() == 0


async def test_bad_text_is_refused_before_anything_is_stored(open_conversation):
    with pytest.raises(TextEmpty):
        await send(open_conversation, "   ", "c-1")
    with pytest.raises(TextTooLong):
        await send(open_conversation, "x" * 4001, "c-2")
    assert await db(Message.objects.count)() == 0


async def test_both_paths_count_against_the_same_rate_limit(open_conversation, settings):
    settings.RATE_CUSTOMER_MESSAGES = (2, 60)
    fresh_rate_window(60)
    await send(open_conversation, "one", "c-1")
    await send_through_the_orm(open_conversation, "two", "c-2")

    with pytest.raises(RateLimited):
        await send(open_conversation, "three", "c-3")


@pytest.mark.services
async def test_a_job_follows_only_messages_that_someone_acts_on(open_conversation, monkeypatch):
    """Plain chat enqueues nothing; a conversation with the bot, or a tenant with an enabled
    plugin, gets the job that runs them."""
    enqueued = []

    async def record(task, *args):
        enqueued.append(args[0])

    monkeypatch.setattr(fast_path.jobs, "aenqueue", record)
    assert service_mode()

    queued = await send(open_conversation, "to an agent", "c-1")
    assert enqueued == []

    await db(Conversation.objects.filter(pk=open_conversation.pk).update)(
        status=Conversation.Status.BOT
    )
    with_bot = await send(open_conversation, "to the bot", "c-2")
    assert enqueued == [with_bot.message.pk]

    await db(Conversation.objects.filter(pk=open_conversation.pk).update)(
        status=Conversation.Status.QUEUED
    )
    await db(PluginConfig.objects.create)(
        tenant=open_conversation.tenant, plugin_id="product_links", enabled=True
    )
    with_plugin = await send(open_conversation, "https://shop.example.com/p/1", "c-3")
    assert enqueued == [with_bot.message.pk, with_plugin.message.pk]
    assert queued.created
