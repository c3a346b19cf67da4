from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser

from helpdesk.conversations.models import Conversation, Message
from helpdesk.conversations.selectors import (
    ConversationCursor,
    conversation_cursor,
    conversations_for_console,
    conversations_last_messages,
)
from helpdesk.conversations.services import Sender
from helpdesk.core.errors import InvalidInput
from tests.factories import ConversationFactory, MembershipFactory, post_message

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def other_agent(tenant):
    return MembershipFactory(tenant=tenant).user


@pytest.fixture
def board(tenant, agent, other_agent):
    """One conversation per kind of row the console tabs tell apart."""
    return {
        "bot": ConversationFactory(tenant=tenant, status="bot", last_message_at=at(1)),
        "queued": ConversationFactory(tenant=tenant, status="queued", last_message_at=at(2)),
        "mine": ConversationFactory(
            tenant=tenant, status="assigned", assignee=agent, last_message_at=at(3)
        ),
        "theirs": ConversationFactory(
            tenant=tenant, status="assigned", assignee=other_agent, last_message_at=at(4)
        ),
        "mine_resolved": ConversationFactory(
            tenant=tenant, status="resolved", assignee=agent, last_message_at=at(5)
        ),
        "silent": ConversationFactory(tenant=tenant, status="bot", last_message_at=None),
    }


@pytest.fixture
def foreign(other_tenant, agent):
    """Another tenant's rows, one per status; the mine-like one is even assigned to ``agent``."""
    return [
        ConversationFactory(tenant=other_tenant, status="bot", last_message_at=at(10)),
        ConversationFactory(tenant=other_tenant, status="queued", last_message_at=at(11)),
        ConversationFactory(
            tenant=other_tenant, status="assigned", assignee=agent, last_message_at=at(12)
        ),
        ConversationFactory(tenant=other_tenant, status="resolved", last_message_at=at(13)),
    ]


def ids(conversations):
    return [c.pk for c in conversations]


def listing(tenant, user, view, **kwargs):
    return conversations_for_console(tenant=tenant, user=user, view=view, **kwargs)


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        ("bot", ["bot", "silent"]),
        ("queued", ["queued"]),
        ("mine", ["mine"]),
        ("all", ["mine_resolved", "theirs", "mine", "queued", "bot", "silent"]),
    ],
)
def test_each_view_lists_its_conversations_newest_activity_first(
    tenant, agent, board, foreign, view, expected
):
    assert ids(listing(tenant, agent, view)) == [board[name].pk for name in expected]


@pytest.mark.parametrize("view", ["bot", "queued", "mine", "all"])
def test_another_tenants_rows_never_appear(tenant, other_tenant, agent, board, foreign, view):
    foreign_ids = set(ids(foreign))

    assert not foreign_ids & set(ids(listing(tenant, agent, view)))
    assert set(ids(listing(other_tenant, agent, "all"))) == foreign_ids


def test_mine_is_empty_for_a_user_without_id(tenant, board):
    # assignee_id=None would otherwise match every unassigned conversation.
    assert listing(tenant, AnonymousUser(), "mine") == []


def test_conversations_without_messages_come_last_newest_first(tenant, agent):
    old_silent = ConversationFactory(tenant=tenant, last_message_at=None)
    active = ConversationFactory(tenant=tenant, last_message_at=at(0))
    new_silent = ConversationFactory(tenant=tenant, last_message_at=None)

    assert ids(listing(tenant, agent, "all")) == [active.pk, new_silent.pk, old_silent.pk]


def test_equal_activity_is_ordered_by_id_descending(tenant, agent):
    first = ConversationFactory(tenant=tenant, last_message_at=at(0))
    second = ConversationFactory(tenant=tenant, last_message_at=at(0))

    assert ids(listing(tenant, agent, "all")) == [second.pk, first.pk]


def test_paging_with_the_cursor_walks_the_whole_list_once(tenant, agent):
    stamps = [at(3), at(3), at(1), None, at(2), None, at(3)]
    for stamp in stamps:
        ConversationFactory(tenant=tenant, last_message_at=stamp)
    everything = ids(listing(tenant, agent, "all"))

    walked, before = [], None
    while True:
        page = listing(tenant, agent, "all", limit=2, before=before)
        walked += ids(page)
        if len(page) < 2:
            break
        before = conversation_cursor(page[-1])

    assert walked == everything
    assert len(everything) == len(stamps)


def test_the_limit_caps_the_page(tenant, agent, board):
    assert len(listing(tenant, agent, "all", limit=2)) == 2


@pytest.mark.parametrize("view", ["", "Bot", "resolved", "assigned", None, 1])
def test_an_unknown_view_is_invalid_input(tenant, agent, view):
    with pytest.raises(InvalidInput) as error:
        listing(tenant, agent, view)

    assert error.value.details["field"] == "view"


@pytest.mark.parametrize("limit", [0, -1, 201, True, "10", 2.0])
def test_a_bad_limit_is_invalid_input(tenant, agent, limit):
    with pytest.raises(InvalidInput) as error:
        listing(tenant, agent, "all", limit=limit)

    assert error.value.details["field"] == "limit"


@pytest.mark.parametrize(
    "before",
    [
        (None, 5),  # a plain tuple, not a cursor
        ConversationCursor(datetime(2026, 1, 1), 5),  # noqa: DTZ001 - naive on purpose
        ConversationCursor("2026-01-01", 5),
        ConversationCursor(None, -1),
        ConversationCursor(None, 2**63),
        ConversationCursor(None, True),
        ConversationCursor(None, "5"),
    ],
)
def test_a_bad_cursor_is_invalid_input(tenant, agent, before):
    with pytest.raises(InvalidInput) as error:
        listing(tenant, agent, "all", before=before)

    assert error.value.details["field"] == "before"


def test_a_page_is_one_query_with_contact_inbox_and_assignee(
    tenant, agent, board, django_assert_num_queries
):
    with django_assert_num_queries(1):
        page = listing(tenant, agent, "all")
        names = [(str(c.contact), c.inbox.name, c.assignee and c.assignee.username) for c in page]

    assert len(names) == len(board)


def test_the_query_count_does_not_grow_with_the_page(tenant, agent, django_assert_num_queries):
    for minute in range(30):
        ConversationFactory(
            tenant=tenant, status="assigned", assignee=agent, last_message_at=at(minute)
        )

    with django_assert_num_queries(1):
        page = listing(tenant, agent, "mine")
        [(c.contact.pk, c.inbox.pk, c.assignee.pk) for c in page]

    assert len(page) == 30


# --- conversations_last_messages -----------------------------------------------------------------


def test_last_messages_are_the_newest_of_each_conversation_notes_included(
    tenant, agent, django_assert_num_queries
):
    talk = ConversationFactory(tenant=tenant)
    noted = ConversationFactory(tenant=tenant)
    silent = ConversationFactory(tenant=tenant)
    post_message(talk, "hi", Sender.contact())
    newest = post_message(talk, "hello", Sender.bot())
    post_message(noted, "question", Sender.contact())
    note = post_message(noted, "VIP", Sender.agent(agent), Message.Kind.NOTE)
    conversations = list(Conversation.objects.filter(pk__in=[talk.pk, noted.pk, silent.pk]))

    with django_assert_num_queries(1):
        last = conversations_last_messages(tenant=tenant, conversations=conversations)

    assert {pk: m.pk for pk, m in last.items()} == {talk.pk: newest.pk, noted.pk: note.pk}


def test_last_messages_ignore_another_tenants_conversations(tenant, other_tenant):
    foreign = ConversationFactory(tenant=other_tenant)
    post_message(foreign, "secret", Sender.contact())
    foreign.refresh_from_db()

    assert conversations_last_messages(tenant=tenant, conversations=[foreign]) == {}


def test_last_messages_of_nothing_cost_no_query(tenant, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert conversations_last_messages(tenant=tenant, conversations=[]) == {}
