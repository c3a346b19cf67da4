"""Bot replies whose worker died: a streaming reply's lease, and the sweep that closes a reply
whose lease ran out with the bot's fallback and a handoff. No processes here; the real killed
worker is tests/faults/test_worker_kill.py."""

import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from helpdesk.ai.pipeline import bot_reply, reply_client_id
from helpdesk.ai.reply_leases import orphaned_replies_close, reply_lease_renew
from helpdesk.conversations.lifecycle import conversation_takeover
from helpdesk.conversations.models import Conversation, Message
from helpdesk.conversations.services import Sender
from helpdesk.realtime.events import conversation_group
from tests.factories import (
    BotConfigFactory,
    ConversationFactory,
    InboxFactory,
    ModelBotFactory,
    post_message,
)

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async

LEASE = 30


@pytest.fixture(autouse=True)
def _lease(settings):
    settings.BOT_REPLY_LEASE_SECONDS = LEASE


@pytest.fixture
def bot(tenant):
    return BotConfigFactory(tenant=tenant, fallback_message="Sorry, a person will help you.")


@pytest.fixture
def conversation(tenant, bot):
    return ConversationFactory(tenant=tenant, inbox=InboxFactory(tenant=tenant, bot=bot))


def streaming_reply(conversation, text="", age=0.0):
    """A customer message and the bot's reply to it, streaming, last renewed ``age`` s ago."""
    trigger = post_message(conversation, "hello", Sender.contact())
    reply = post_message(
        conversation, "", Sender.bot(), client_id=reply_client_id(trigger.pk), state="streaming"
    )
    assert reply_lease_renew(tenant_id=conversation.tenant_id, message_id=reply.pk, text=text)
    Message.objects.filter(pk=reply.pk).update(updated_at=timezone.now() - timedelta(seconds=age))
    return trigger, reply


def bot_messages(conversation):
    return list(
        Message.objects.filter(conversation=conversation, sender_type="bot").order_by("seq")
    )


def test_a_reply_whose_lease_ran_out_is_closed_with_the_fallback_and_a_handoff(
    conversation, listen
):
    _, reply = streaming_reply(conversation, text="Half an ans", age=LEASE + 1)
    customer = listen(conversation_group(conversation.tenant_id, conversation.pk))

    assert orphaned_replies_close() == 1

    closed, fallback = bot_messages(conversation)
    assert (closed.pk, closed.state, closed.text) == (reply.pk, "interrupted", "Half an ans")
    assert closed.metadata == {"interrupted": "worker_lost"}
    assert (fallback.text, fallback.client_id, fallback.metadata) == (
        "Sorry, a person will help you.",
        f"{reply.client_id}:fallback",
        {"fallback": True},
    )
    conversation.refresh_from_db()
    assert conversation.status == "queued"
    assert conversation.handoff_reason == "bot_unavailable:its worker stopped mid-reply"
    events = customer.events()
    [updated] = [e for e in events if e["type"] == "message.updated"]
    assert (updated["data"]["id"], updated["data"]["state"]) == (reply.pk, "interrupted")
    assert {"sender": "bot", "name": "", "typing": False} in [
        e["data"] for e in events if e["type"] == "typing"
    ]
    created = [e["data"]["text"] for e in events if e["type"] == "message.created"]
    assert created[0] == "Sorry, a person will help you."
    assert events[-1]["type"] == "conversation.updated"
    assert events[-1]["data"]["status"] == "queued"


def test_a_reply_renewed_within_its_lease_is_left_alone(conversation):
    _, reply = streaming_reply(conversation, age=LEASE - 5)

    assert orphaned_replies_close() == 0

    reply.refresh_from_db()
    assert reply.state == "streaming"
    assert Conversation.objects.get(pk=conversation.pk).status == "bot"


def test_sweeping_again_closes_nothing_more(conversation):
    streaming_reply(conversation, age=LEASE + 1)

    assert orphaned_replies_close() == 1
    assert orphaned_replies_close() == 0

    assert [m.state for m in bot_messages(conversation)] == ["interrupted", "complete"]


def test_where_an_agent_took_over_the_orphan_is_closed_without_a_bot_fallback(conversation, agent):
    _, reply = streaming_reply(conversation, text="Partial", age=LEASE + 1)
    conversation_takeover(tenant=conversation.tenant, conversation_id=conversation.pk, agent=agent)

    assert orphaned_replies_close() == 1

    assert [(m.pk, m.state) for m in bot_messages(conversation)] == [(reply.pk, "interrupted")]
    assert Conversation.objects.get(pk=conversation.pk).status == "assigned"


def test_renewing_a_finished_reply_says_it_is_gone(conversation):
    _, reply = streaming_reply(conversation, age=LEASE + 1)
    orphaned_replies_close()

    assert not reply_lease_renew(tenant_id=conversation.tenant_id, message_id=reply.pk, text="x")
    reply.refresh_from_db()
    assert reply.text == ""


def test_renewing_takes_the_tenant_into_account(conversation, other_tenant):
    _, reply = streaming_reply(conversation)

    assert not reply_lease_renew(tenant_id=other_tenant.pk, message_id=reply.pk, text="stolen")


async def test_a_job_redelivered_after_the_sweep_gives_no_second_reply(conversation):
    trigger, _ = await db(streaming_reply)(conversation, age=LEASE + 1)
    await db(orphaned_replies_close)()

    outcome = await bot_reply(trigger)

    assert outcome.status == "skipped"
    assert len(await db(bot_messages)(conversation)) == 2


async def test_a_live_reply_slower_than_its_lease_keeps_it(settings, tenant, fake_llm):
    """Its worker renews the lease on a clock of its own, not on tokens: a model that pauses
    longer than the lease between tokens is slow, not dead."""
    settings.BOT_REPLY_LEASE_SECONDS = 0.6
    bot = await db(ModelBotFactory)(
        tenant=tenant,
        base_url=fake_llm.base_url,
        request_timeout_seconds=5,
    )
    conversation = await db(ConversationFactory)(
        tenant=tenant, inbox=await db(InboxFactory)(tenant=tenant, bot=bot)
    )
    fake_llm.script(reply="Slow but alive.", tokens_per_second=1.2)
    trigger = await db(post_message)(conversation, "hello", Sender.contact())

    answering = asyncio.ensure_future(bot_reply(trigger))
    closed = 0
    while not answering.done():
        closed += await db(orphaned_replies_close)()
        await asyncio.sleep(0.05)

    assert (await answering).status == "answered"
    assert closed == 0
    [reply] = await db(bot_messages)(conversation)
    assert (reply.text, reply.state) == ("Slow but alive.", "complete")
