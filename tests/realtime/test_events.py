import pytest

from helpdesk.conversations.models import Message
from helpdesk.conversations.services import Sender, conversation_start, message_post
from helpdesk.realtime.events import (
    agents_group,
    conversation_group,
    conversation_staff_group,
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
