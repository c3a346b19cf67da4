import pytest

from helpdesk.conversations.models import Message
from helpdesk.conversations.selectors import conversation_get, messages_after
from helpdesk.conversations.services import Sender
from helpdesk.core.errors import InvalidInput, NotFound
from tests.factories import post_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def transcript(conversation, agent):
    """seq 1 customer, 2 bot, 3 private note, 4 agent."""

    return [
        post_message(conversation, "hi", Sender.contact()),
        post_message(conversation, "hello from the bot", Sender.bot()),
        post_message(conversation, "VIP customer", Sender.agent(agent), Message.Kind.NOTE),
        post_message(conversation, "hello from an agent", Sender.agent(agent)),
    ]


def test_messages_after_returns_later_messages_in_seq_order(conversation, transcript):
    messages = messages_after(
        tenant=conversation.tenant,
        conversation_id=conversation.pk,
        after_seq=1,
        include_private=True,
    )

    assert [m.seq for m in messages] == [2, 3, 4]


def test_customers_never_get_private_notes(conversation, transcript):
    messages = messages_after(tenant=conversation.tenant, conversation_id=conversation.pk)

    assert [m.seq for m in messages] == [1, 2, 4]
    assert all(m.kind != Message.Kind.NOTE for m in messages)


def test_messages_after_the_last_seq_is_empty(conversation, transcript):
    assert (
        messages_after(
            tenant=conversation.tenant,
            conversation_id=conversation.pk,
            after_seq=4,
            include_private=True,
        )
        == []
    )


def test_messages_after_honours_the_limit(conversation, transcript):
    messages = messages_after(
        tenant=conversation.tenant, conversation_id=conversation.pk, include_private=True, limit=2
    )

    assert [m.seq for m in messages] == [1, 2]


@pytest.mark.parametrize("after_seq", [-1, "3", None, 1.5, True])
def test_messages_after_rejects_a_bad_seq(conversation, after_seq):
    with pytest.raises(InvalidInput) as error:
        messages_after(
            tenant=conversation.tenant, conversation_id=conversation.pk, after_seq=after_seq
        )

    assert error.value.details["field"] == "seq"


@pytest.mark.parametrize("limit", [0, 201])
def test_messages_after_rejects_a_bad_limit(conversation, limit):
    with pytest.raises(InvalidInput):
        messages_after(tenant=conversation.tenant, conversation_id=conversation.pk, limit=limit)


def test_another_tenants_conversation_is_not_found(conversation, transcript, other_tenant):
    with pytest.raises(NotFound):
        messages_after(tenant=other_tenant, conversation_id=conversation.pk)
    with pytest.raises(NotFound):
        conversation_get(tenant=other_tenant, conversation_id=conversation.pk)


def test_messages_after_uses_one_query_for_the_page(
    conversation, transcript, django_assert_max_num_queries
):
    with django_assert_max_num_queries(2):
        messages = messages_after(
            tenant=conversation.tenant, conversation_id=conversation.pk, include_private=True
        )
        names = [m.sender_user.username for m in messages if m.sender_user]

    assert len(names) == 2
