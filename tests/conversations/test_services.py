import pytest
from django.db import transaction

from helpdesk.conversations.models import Conversation, Message
from helpdesk.conversations.services import (
    Sender,
    contact_get_or_create,
    conversation_mark_read,
    conversation_start,
    message_post,
)
from helpdesk.core.errors import ConversationClosed, InvalidInput, NotFound, TextEmpty, TextTooLong
from tests.factories import BotConfigFactory, ContactFactory, ConversationFactory, InboxFactory

pytestmark = pytest.mark.django_db


def post(conversation, text="hello", **kwargs):
    kwargs.setdefault("sender", Sender.contact())
    return message_post(
        tenant=conversation.tenant, conversation_id=conversation.pk, text=text, **kwargs
    )


def test_conversation_start_opens_a_bot_conversation(tenant, inbox, contact):
    inbox.bot = BotConfigFactory(tenant=tenant)
    inbox.save()

    conversation = conversation_start(tenant=tenant, inbox=inbox, contact=contact)

    assert conversation.status == Conversation.Status.BOT
    assert conversation.last_seq == 0
    assert conversation.tenant == tenant


def test_an_inbox_without_a_bot_queues_new_conversations_for_agents(tenant, inbox, contact):
    conversation = conversation_start(tenant=tenant, inbox=inbox, contact=contact)

    assert conversation.status == Conversation.Status.QUEUED
    assert conversation.queued_at is not None
    assert conversation.handoff_reason == "no_bot"


def test_conversation_start_rejects_another_tenants_inbox(tenant, other_tenant, contact):
    foreign_inbox = InboxFactory(tenant=other_tenant)

    with pytest.raises(NotFound):
        conversation_start(tenant=tenant, inbox=foreign_inbox, contact=contact)
    assert not Conversation.objects.exists()


def test_conversation_start_rejects_another_tenants_contact(tenant, other_tenant, inbox):
    with pytest.raises(NotFound):
        conversation_start(tenant=tenant, inbox=inbox, contact=ContactFactory(tenant=other_tenant))


def test_conversation_start_rejects_a_disabled_inbox(tenant, contact):
    with pytest.raises(NotFound):
        conversation_start(
            tenant=tenant, inbox=InboxFactory(tenant=tenant, is_active=False), contact=contact
        )


def test_contact_get_or_create_is_stable_per_visitor(tenant, other_tenant):
    first = contact_get_or_create(tenant=tenant)
    again = contact_get_or_create(tenant=tenant, visitor_id=first.visitor_id)
    elsewhere = contact_get_or_create(tenant=other_tenant, visitor_id=first.visitor_id)

    assert again == first
    assert elsewhere != first
    assert elsewhere.tenant == other_tenant


def test_message_post_assigns_consecutive_seqs(conversation):
    results = [post(conversation, f"m{i}") for i in range(3)]

    assert [r.message.seq for r in results] == [1, 2, 3]
    conversation.refresh_from_db()
    assert conversation.last_seq == 3
    assert conversation.last_message_at == results[-1].message.created_at


def test_message_post_strips_text_and_keeps_unicode(conversation):
    result = post(conversation, "  你好，我想退货 🙂  ")

    assert result.message.text == "你好，我想退货 🙂"


def test_message_post_is_idempotent_on_client_id(conversation):
    first = post(conversation, "hello", client_id="c-1")
    again = post(conversation, "hello (resent)", client_id="c-1")

    assert first.created is True
    assert again.created is False
    assert again.message.pk == first.message.pk
    assert again.message.text == "hello"
    assert Message.objects.count() == 1
    conversation.refresh_from_db()
    assert conversation.last_seq == 1


def test_same_client_id_in_two_conversations_are_two_messages(tenant, inbox, contact):
    one = ConversationFactory(tenant=tenant, inbox=inbox, contact=contact)
    two = ConversationFactory(tenant=tenant, inbox=inbox, contact=contact)

    post(one, client_id="same")
    post(two, client_id="same")

    assert Message.objects.count() == 2


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_message_post_rejects_empty_text(conversation, text):
    with pytest.raises(TextEmpty) as error:
        post(conversation, text)

    assert error.value.code == "text_empty"
    assert not Message.objects.exists()


def test_message_post_rejects_oversized_text(conversation, settings):
    settings.MESSAGE_MAX_CHARS = 10

    with pytest.raises(TextTooLong) as error:
        post(conversation, "x" * 11)

    assert error.value.code == "text_too_long"
    assert error.value.details["limit"] == 10
    assert not Message.objects.exists()


def test_message_post_accepts_text_at_the_limit(conversation, settings):
    settings.MESSAGE_MAX_CHARS = 10

    assert post(conversation, "x" * 10).created


@pytest.mark.parametrize("text", [None, 42, ["hi"], {"t": "hi"}])
def test_message_post_rejects_non_string_text(conversation, text):
    with pytest.raises(InvalidInput) as error:
        post(conversation, text)

    assert error.value.code == "invalid"


@pytest.mark.parametrize("client_id", ["", "x" * 65, "has space", "<script>", 12])
def test_message_post_rejects_malformed_client_id(conversation, client_id):
    with pytest.raises(InvalidInput) as error:
        post(conversation, client_id=client_id)

    assert error.value.details["field"] == "client_id"
    assert not Message.objects.exists()


@pytest.mark.parametrize("bad_id", [0, -1, 999_999, "abc", None, True, 2**70, "1; DROP"])
def test_message_post_to_unknown_conversation_is_not_found(conversation, bad_id):
    with pytest.raises(NotFound) as error:
        message_post(
            tenant=conversation.tenant, conversation_id=bad_id, sender=Sender.contact(), text="hi"
        )

    assert error.value.code == "not_found"


def test_another_tenants_conversation_is_indistinguishable_from_unknown(conversation, other_tenant):
    with pytest.raises(NotFound) as foreign:
        message_post(
            tenant=other_tenant, conversation_id=conversation.pk, sender=Sender.contact(), text="hi"
        )
    with pytest.raises(NotFound) as missing:
        message_post(
            tenant=other_tenant,
            conversation_id=conversation.pk + 1000,
            sender=Sender.contact(),
            text="hi",
        )

    assert (foreign.value.code, foreign.value.message) == (
        missing.value.code,
        missing.value.message,
    )
    assert not Message.objects.exists()


def test_message_post_to_resolved_conversation_is_refused(conversation):
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.RESOLVED)

    with pytest.raises(ConversationClosed) as error:
        post(conversation)

    assert error.value.code == "conversation_closed"
    assert not Message.objects.exists()


def test_resend_after_resolution_returns_the_stored_message(conversation):
    first = post(conversation, client_id="c-1")
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.RESOLVED)

    again = post(conversation, client_id="c-1")

    assert again.created is False
    assert again.message.pk == first.message.pk


def test_only_agents_write_private_notes(conversation, agent):
    with pytest.raises(InvalidInput):
        post(conversation, kind=Message.Kind.NOTE)

    note = post(conversation, kind=Message.Kind.NOTE, sender=Sender.agent(agent)).message

    assert note.is_private
    assert note.sender_user == agent


def test_only_the_system_records_events(conversation):
    with pytest.raises(InvalidInput):
        post(conversation, kind=Message.Kind.EVENT)

    assert post(conversation, kind=Message.Kind.EVENT, sender=Sender.system()).created


def test_unknown_kind_is_invalid(conversation):
    with pytest.raises(InvalidInput):
        post(conversation, kind="shout")


@pytest.mark.parametrize("metadata", ["cards", ["a"], {"blob": "x" * 20_000}])
def test_message_post_rejects_bad_metadata(conversation, metadata):
    with pytest.raises(InvalidInput) as error:
        post(conversation, metadata=metadata)

    assert error.value.details["field"] == "metadata"


def test_first_response_is_the_first_agent_or_bot_text(conversation, agent):
    post(conversation, "customer asks")
    conversation.refresh_from_db()
    assert conversation.first_response_at is None

    post(conversation, "internal", kind=Message.Kind.NOTE, sender=Sender.agent(agent))
    conversation.refresh_from_db()
    assert conversation.first_response_at is None

    reply = post(conversation, "bot answers", sender=Sender.bot()).message
    post(conversation, "agent answers", sender=Sender.agent(agent))
    conversation.refresh_from_db()
    assert conversation.first_response_at == reply.created_at


def test_a_rolled_back_post_leaves_no_message_and_no_seq(conversation):
    def post_then_fail():
        with transaction.atomic():
            post(conversation, "will vanish")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        post_then_fail()

    conversation.refresh_from_db()
    assert conversation.last_seq == 0
    assert post(conversation, "kept").message.seq == 1


def test_a_read_mark_moves_forward_only_and_never_past_the_newest_message(conversation):
    post(conversation, "one")
    post(conversation, "two")

    assert conversation_mark_read(tenant=conversation.tenant, conversation_id=conversation.pk,
                                  reader=Message.SenderType.CONTACT, seq=99) == 2  # fmt: skip
    assert conversation_mark_read(tenant=conversation.tenant, conversation_id=conversation.pk,
                                  reader=Message.SenderType.CONTACT, seq=1) == 2  # fmt: skip


def test_a_read_mark_in_another_tenants_conversation_is_not_found(conversation, other_tenant):
    post(conversation, "one")

    with pytest.raises(NotFound):
        conversation_mark_read(
            tenant=other_tenant,
            conversation_id=conversation.pk,
            reader=Message.SenderType.CONTACT,
            seq=1,
        )
    assert Conversation.objects.get(pk=conversation.pk).contact_last_read_seq == 0
