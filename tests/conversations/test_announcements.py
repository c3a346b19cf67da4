"""Changes of a conversation's hands, announced to the apps above the domain after commit."""

import pytest
from django.db import transaction

from helpdesk.conversations import announcements
from helpdesk.conversations.announcements import (
    Change,
    ConversationChange,
    change_announce,
    listen_to_changes,
)
from helpdesk.conversations.lifecycle import conversation_handoff, conversation_transfer
from helpdesk.conversations.models import Conversation
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def heard(monkeypatch):
    """The changes a listener of the test hears; the apps' listeners are left out meanwhile."""
    monkeypatch.setattr(announcements, "_listeners", {})
    changes = []
    listen_to_changes("test", changes.append)
    return changes


def test_the_ai_app_listens_for_changes():
    assert list(announcements._listeners) == ["assist summary", "webhooks"]


def test_a_handoff_is_announced_once_it_is_committed(conversation, heard):
    conversation_handoff(tenant=conversation.tenant, conversation_id=conversation.pk, reason="x")

    assert heard == [ConversationChange(Change.HANDOFF, conversation.tenant_id, conversation.pk)]


def test_a_transfer_is_announced_with_who_gave_and_who_receives(conversation, agent, heard):
    colleague = MembershipFactory(tenant=conversation.tenant).user
    Conversation.objects.filter(pk=conversation.pk).update(status="assigned", assignee=agent)

    conversation_transfer(
        tenant=conversation.tenant,
        conversation_id=conversation.pk,
        agent=agent,
        to_user_id=colleague.pk,
    )

    assert heard == [
        ConversationChange(
            Change.TRANSFER,
            conversation.tenant_id,
            conversation.pk,
            by_user_id=agent.pk,
            to_user_id=colleague.pk,
        )
    ]


def test_nothing_is_announced_before_the_commit_nor_after_a_rollback(conversation, heard):
    change = ConversationChange(Change.HANDOFF, conversation.tenant_id, conversation.pk)

    with transaction.atomic():
        change_announce(change)
        assert heard == []
    assert heard == [change]

    def announce_then_fail():
        with transaction.atomic():
            change_announce(change)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        announce_then_fail()
    assert heard == [change]


def test_a_failing_listener_does_not_keep_the_others_from_hearing(conversation, heard, caplog):
    def broken(change):
        raise ValueError("broken listener")

    listen_to_changes("broken", broken)
    listen_to_changes("after", heard.append)
    change = ConversationChange(Change.HANDOFF, conversation.tenant_id, conversation.pk)

    change_announce(change)

    assert heard == [change, change]
    assert "broken" in caplog.text
