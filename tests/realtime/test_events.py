import asyncio

import pytest

from helpdesk.conversations.models import Message
from helpdesk.conversations.services import Sender, conversation_start, message_post
from helpdesk.realtime.events import (
    LAYER_MESSAGE_TYPE,
    _Publisher,
    agents_group,
    conversation_group,
    conversation_staff_group,
    envelope,
)

pytestmark = pytest.mark.django_db


def test_message_created_is_published_after_commit(
    conversation, listen, django_capture_on_commit_callbacks
):
    customer = listen(conversation_group(conversation.tenant_id, conversation.pk))
    agents = listen(agents_group(conversation.tenant_id))

    with django_capture_on_commit_callbacks() as callbacks:
        message_post(
            tenant=conversation.tenant,
            conversation_id=conversation.pk,
            sender=Sender.contact(),
            text="hello",
            client_id="c1",
        )
        assert customer.events(wait=0.05) == [], "nothing may be sent before the commit"
    for callback in callbacks:
        callback()

    [created] = customer.events()
    assert created["type"] == "message.created"
    assert created["conversation"] == conversation.pk
    assert created["seq"] == 1
    assert created["data"]["text"] == "hello"
    assert created["data"]["client_id"] == "c1"
    [updated] = agents.events()
    assert updated["type"] == "conversation.updated"
    assert updated["data"]["last_message"]["preview"] == "hello"


def test_a_resend_is_not_published_again(conversation, listen, django_capture_on_commit_callbacks):
    customer = listen(conversation_group(conversation.tenant_id, conversation.pk))
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            message_post(
                tenant=conversation.tenant,
                conversation_id=conversation.pk,
                sender=Sender.contact(),
                text="hello",
                client_id="same",
            )

    assert [e["seq"] for e in customer.events()] == [1]


def test_private_notes_only_reach_the_staff_group(
    conversation, agent, listen, django_capture_on_commit_callbacks
):
    customer = listen(conversation_group(conversation.tenant_id, conversation.pk))
    staff = listen(conversation_staff_group(conversation.tenant_id, conversation.pk))

    with django_capture_on_commit_callbacks(execute=True):
        message_post(
            tenant=conversation.tenant,
            conversation_id=conversation.pk,
            sender=Sender.agent(agent),
            text="VIP, be nice",
            kind=Message.Kind.NOTE,
        )

    assert customer.events() == []
    [note] = staff.events()
    assert note["data"]["kind"] == "note"


def test_events_carry_the_tenant_in_their_group_names(conversation):
    assert conversation_group(7, 1001) == "t7.c1001"
    assert conversation_staff_group(7, 1001) == "t7.c1001.staff"
    assert agents_group(7) == "t7.agents"


def test_conversation_start_tells_the_agents(
    tenant, inbox, contact, listen, django_capture_on_commit_callbacks
):
    agents = listen(agents_group(tenant.pk))
    other_tenant_agents = listen(agents_group(tenant.pk + 1))

    with django_capture_on_commit_callbacks(execute=True):
        conversation = conversation_start(tenant=tenant, inbox=inbox, contact=contact)

    [event] = agents.events()
    assert event["type"] == "conversation.updated"
    assert event["data"]["id"] == conversation.pk
    assert event["data"]["status"] == "queued"  # the inbox has no bot
    assert other_tenant_agents.events(wait=0.05) == []


class SlowLayer:
    """Records sends; a send for conversation 1 takes a while (a busy Redis round trip)."""

    def __init__(self):
        self.sent: list[tuple[int, int]] = []

    async def group_send(self, group, message):
        event = message["event"]
        if event["conversation"] == 1:
            await asyncio.sleep(0.2)
        self.sent.append((event["conversation"], event["seq"]))


async def test_a_slow_conversation_does_not_hold_up_another_in_the_same_group():
    layer = SlowLayer()
    publisher = _Publisher(layer)
    group = agents_group(1)

    def event(conversation_id, seq):
        return {"type": LAYER_MESSAGE_TYPE, "event": envelope(
            "conversation.updated", conversation_id=conversation_id, data={}, seq=seq
        )}  # fmt: skip

    publisher.submit(group, event(1, 1))
    publisher.submit(group, event(1, 2))
    publisher.submit(group, event(2, 1))
    await asyncio.sleep(0.05)
    assert layer.sent == [(2, 1)]  # not in single file behind conversation 1

    async def drained():
        while publisher.pending:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(drained(), 5)
    assert layer.sent == [(2, 1), (1, 1), (1, 2)]  # within a conversation, in order
    assert publisher.pending == {}
