import asyncio

import pytest

from helpdesk.conversations.announcements import Change, listen_to_changes
from helpdesk.conversations.follow_up import follow_up_request
from helpdesk.conversations.handoff_reasons import OFFLINE, reason_text
from helpdesk.conversations.models import Conversation, Message
from helpdesk.conversations.serializers import conversation_payload
from helpdesk.core.errors import (
    ConversationClosed,
    EmailInvalid,
    EmailRequired,
    InvalidInput,
    NotFound,
    RateLimited,
    TextEmpty,
)
from helpdesk.realtime.events import agents_group, conversation_group
from tests.conftest import fresh_rate_window
from tests.factories import ContactFactory, ConversationFactory, InboxFactory

pytestmark = pytest.mark.django_db(transaction=True)


def request(inbox, contact, conversation_id=None, email="ada@Example.COM", text="Where is it?",
            name="", **kwargs):  # fmt: skip
    return follow_up_request(
        tenant=inbox.tenant,
        inbox=inbox,
        contact=contact,
        conversation_id=conversation_id,
        email=email,
        text=text,
        name=name,
        client_ip=kwargs.get("client_ip", "198.51.100.7"),
    )


def test_a_new_follow_up_is_queued_without_the_bot_with_the_text(inbox, contact):
    conversation = request(inbox, contact, name="Ada")

    assert conversation.status == Conversation.Status.QUEUED
    assert conversation.follow_up is True
    assert conversation.handoff_reason == OFFLINE
    assert conversation.queued_at is not None
    message = Message.objects.get(conversation=conversation)
    assert (message.sender_type, message.text) == (Message.SenderType.CONTACT, "Where is it?")
    contact.refresh_from_db()
    assert (contact.email, contact.name) == ("ada@example.com", "Ada")
    assert conversation_payload(conversation)["follow_up"] is True
    assert reason_text(conversation.handoff_reason) == (
        "Left with the offline form: answer by e-mail."
    )


def test_a_new_follow_up_ignores_the_bot_of_the_inbox(tenant, contact):
    from tests.factories import BotConfigFactory

    inbox = InboxFactory(tenant=tenant, bot=BotConfigFactory(tenant=tenant))

    conversation = request(inbox, contact)

    assert conversation.status == Conversation.Status.QUEUED


def test_a_new_follow_up_is_announced_to_agents_live(inbox, contact, listen):
    agents = listen(agents_group(inbox.tenant_id))
    heard = []
    listen_to_changes("test-follow-up", heard.append, changes={Change.CREATED})
    try:
        conversation = request(inbox, contact)
    finally:
        from helpdesk.conversations import announcements

        announcements._listeners.pop("test-follow-up", None)

    events = agents.events()
    updated = [e for e in events if e["type"] == "conversation.updated"]
    assert updated
    assert all(e["data"]["follow_up"] for e in updated)
    assert updated[0]["data"]["status"] == "queued"
    assert any(e["type"] == "notification" for e in events)
    assert [c.conversation_id for c in heard] == [conversation.pk]


def test_the_same_request_twice_leaves_one_conversation(inbox, contact):
    first = request(inbox, contact)
    again = request(inbox, contact)

    assert again.pk == first.pk
    assert Message.objects.filter(conversation=first).count() == 1
    other = request(inbox, contact, text="Another question")
    assert other.pk != first.pk


def test_an_open_conversation_is_marked_with_the_customer_text(inbox, contact, listen):
    conversation = ConversationFactory(
        tenant=inbox.tenant,
        inbox=inbox,
        contact=contact,
        status=Conversation.Status.QUEUED,
    )
    watching = listen(conversation_group(inbox.tenant_id, conversation.pk))

    marked = request(inbox, contact, conversation.pk, text="Please write to me")

    assert marked.pk == conversation.pk
    assert marked.follow_up is True
    assert marked.status == Conversation.Status.QUEUED
    assert Message.objects.get(conversation=conversation).text == "Please write to me"
    updates = [e for e in watching.events() if e["type"] == "conversation.updated"]
    assert any(e["data"].get("follow_up") for e in updates)


def test_an_open_conversation_may_be_marked_without_text(inbox, contact):
    conversation = ConversationFactory(tenant=inbox.tenant, inbox=inbox, contact=contact)

    marked = request(inbox, contact, conversation.pk, text="")

    assert marked.follow_up is True
    assert not Message.objects.filter(conversation=conversation).exists()


def test_a_new_follow_up_needs_text(inbox, contact):
    with pytest.raises(TextEmpty):
        request(inbox, contact, text="  ")
    assert not Conversation.objects.exists()


@pytest.mark.parametrize(
    ("email", "error"),
    [
        ("", EmailRequired),
        ("   ", EmailRequired),
        (None, EmailRequired),
        ("not-an-address", EmailInvalid),
        ("a@b", EmailInvalid),
        ("a" * 250 + "@example.com", EmailInvalid),
        ("ada@example.com\n", None),
    ],
)
def test_email_is_validated_with_stable_codes(inbox, contact, email, error):
    if error is None:
        assert request(inbox, contact, email=email).follow_up
        return
    with pytest.raises(error) as raised:
        request(inbox, contact, email=email)
    assert raised.value.code in {"email_required", "email_invalid"}
    assert raised.value.details == {"field": "email"}
    assert not Conversation.objects.exists()
    contact.refresh_from_db()
    assert contact.email == ""


def test_a_too_long_name_is_refused(inbox, contact):
    with pytest.raises(InvalidInput):
        request(inbox, contact, name="n" * 201)


def test_another_contacts_conversation_is_not_found(inbox, contact):
    someone = ContactFactory(tenant=inbox.tenant)
    theirs = ConversationFactory(tenant=inbox.tenant, inbox=inbox, contact=someone)

    with pytest.raises(NotFound):
        request(inbox, contact, theirs.pk)
    theirs.refresh_from_db()
    assert theirs.follow_up is False


def test_another_tenants_conversation_is_not_found(inbox, contact, other_tenant):
    theirs = ConversationFactory(tenant=other_tenant)

    with pytest.raises(NotFound):
        request(inbox, contact, theirs.pk)


def test_a_resolved_conversation_is_closed(inbox, contact):
    conversation = ConversationFactory(
        tenant=inbox.tenant, inbox=inbox, contact=contact, status=Conversation.Status.RESOLVED
    )

    with pytest.raises(ConversationClosed):
        request(inbox, contact, conversation.pk)


def test_follow_ups_count_against_the_customer_message_limit(inbox, contact, settings):
    settings.RATE_CUSTOMER_MESSAGES = (2, 60)
    fresh_rate_window(60)
    request(inbox, contact, text="one")
    request(inbox, contact, text="two")

    with pytest.raises(RateLimited):
        request(inbox, contact, text="three")


async def test_a_customer_message_keeps_the_follow_up_mark_in_its_announcement(
    inbox, contact, listen
):
    """The fast path (service mode) builds the conversation from its statement's columns: the
    follow-up mark must be among them, or the console would lose the badge on the next message."""
    from channels.db import database_sync_to_async

    from helpdesk.conversations.fast_path import acustomer_message_send

    conversation = await database_sync_to_async(request)(inbox, contact)
    # Listeners run their own event loops: made and read in threads, off this test's loop.
    agents = await asyncio.to_thread(listen, agents_group(inbox.tenant_id))

    await acustomer_message_send(
        tenant=inbox.tenant,
        inbox=inbox,
        contact=contact,
        conversation_id=conversation.pk,
        text="Any news?",
        client_id="c-2",
        client_ip="198.51.100.7",
    )

    events = await asyncio.to_thread(agents.events)
    updated = [e for e in events if e["type"] == "conversation.updated"]
    assert updated
    assert updated[-1]["data"]["follow_up"] is True
    assert updated[-1]["data"]["last_message"]["preview"] == "Any news?"
