"""The domain's announcements as webhooks use them: which listener hears what, and when."""

import asyncio

import pytest

from helpdesk.conversations import announcements
from helpdesk.conversations.announcements import (
    Change,
    ConversationChange,
    achange_announce,
    change_announce,
    listen_to_changes,
)
from helpdesk.conversations.services import Sender, message_post

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(announcements, "_listeners", {})


def test_a_listener_hears_the_changes_of_hands_unless_it_asks_for_more(registry, conversation):
    hands, everything = [], []
    listen_to_changes("hands", hands.append)
    listen_to_changes("all", everything.append, changes=list(Change))

    message_post(
        tenant=conversation.tenant,
        conversation_id=conversation.pk,
        sender=Sender.contact(),
        text="hi",
    )
    change_announce(ConversationChange(Change.HANDOFF, conversation.tenant_id, conversation.pk))

    assert [c.change for c in hands] == [Change.HANDOFF]
    assert [c.change for c in everything] == [Change.MESSAGE_CREATED, Change.HANDOFF]
    assert everything[0].message_id is not None


def test_a_change_nobody_wants_registers_no_commit_callback(registry, conversation, monkeypatch):
    heard = []
    listen_to_changes("picky", heard.append, changes=list(Change), wants=lambda change: False)
    callbacks = []
    monkeypatch.setattr(
        announcements.transaction, "on_commit", lambda func, **kw: callbacks.append(func)
    )

    change_announce(ConversationChange(Change.STATUS_CHANGED, conversation.tenant_id, 1))

    assert callbacks == []
    assert heard == []


def test_async_code_announces_a_committed_change_off_the_loop(registry):
    import threading

    threads = []
    listen_to_changes(
        "async",
        lambda change: threads.append(threading.current_thread().name),
        changes=list(Change),
    )

    asyncio.run(achange_announce(ConversationChange(Change.MESSAGE_CREATED, 1, 2, message_id=3)))

    assert len(threads) == 1
    assert threads[0] != threading.current_thread().name
