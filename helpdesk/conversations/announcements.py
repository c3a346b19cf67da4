"""Changes in the domain, for the apps above it: a registry they fill at start.

The domain does not know who cares that a conversation changed (the AI writes the agent who
receives it a summary; webhooks tell a tenant's own systems; metrics may follow).
``lifecycle.py`` and ``services.py`` announce each change here as they make it, and each app
says in its ``AppConfig.ready()`` what it does:

``listen_to_changes(name, handler, changes=HAND_CHANGES, wants=None)``
    ``handler(change)`` is called with a ``ConversationChange`` of one of ``changes`` once the
    transaction that made the change has committed — never inside it, and never for a change
    that was rolled back. It runs in the committing thread, so it must be quick: enqueue a job
    (helpdesk/core/jobs.py), never call a model. A handler that fails is logged and the others
    still run. ``changes`` defaults to the changes of a conversation's hands (handoff,
    transfer).

    ``wants(change)``, when given, is asked first, synchronously, on every announcement of one
    of ``changes``: it must answer from memory (no query, no network), because announcing sits
    on the realtime hot path. When no listener wants a change, announcing it costs that check
    and nothing else (no on-commit callback, no job).

``achange_announce(change)`` is the same for async code whose change is already committed (the
fast path's one-statement insert): the listeners run on the blocking-call pool, and only when
one of them wants the change.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import partial

from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)


class Change(StrEnum):
    HANDOFF = "handoff"  # bot → queued: a human should answer
    TRANSFER = "transfer"  # assigned → assigned to another agent
    CREATED = "created"  # a conversation was opened
    STATUS_CHANGED = "status_changed"  # ``status`` is the new status
    ASSIGNED = "assigned"  # ``to_user_id`` now has the conversation
    MESSAGE_CREATED = "message_created"  # ``message_id`` was stored (a bot's once complete)
    CONTACT_CHANGED = "contact_changed"  # ``contact_id``'s details changed (no conversation)
    RATED = "rated"  # the customer rated the (resolved) conversation: ratings.py


# What listeners hear unless they say otherwise: a conversation changed hands.
HAND_CHANGES = frozenset({Change.HANDOFF, Change.TRANSFER})


@dataclass(frozen=True)
class ConversationChange:
    change: Change
    tenant_id: int
    conversation_id: int | None  # None for a contact's change
    by_user_id: int | None = None  # the agent who made it (none for the bot's handoff)
    to_user_id: int | None = None  # the agent who receives the conversation, when one does
    status: str = ""  # the conversation's status after the change
    message_id: int | None = None
    contact_id: int | None = None
    # When it happened (orders webhook deliveries); not part of what the change is.
    at: datetime = field(default_factory=timezone.now, compare=False)


@dataclass(frozen=True)
class _Listener:
    handler: Callable[[ConversationChange], None]
    changes: frozenset[Change]
    wants: Callable[[ConversationChange], bool] | None


_listeners: dict[str, _Listener] = {}


def listen_to_changes(
    name: str,
    handler: Callable[[ConversationChange], None],
    changes: Iterable[Change] = HAND_CHANGES,
    wants: Callable[[ConversationChange], bool] | None = None,
) -> None:
    """Have ``handler`` hear of every change of ``changes`` that ``wants`` (registered once
    per app, at start)."""
    _listeners[name] = _Listener(handler, frozenset(changes), wants)


def _interested(change: ConversationChange) -> list[str]:
    names = []
    for name, listener in list(_listeners.items()):
        if change.change not in listener.changes:
            continue
        try:
            if listener.wants is None or listener.wants(change):
                names.append(name)
        except Exception:
            logger.exception("Listener %r could not say whether it wants %s", name, change)
    return names


def change_announce(change: ConversationChange) -> None:
    """Tell every interested listener of ``change`` after the current transaction commits."""
    names = _interested(change)
    if names:
        transaction.on_commit(partial(_deliver, change, names))


async def achange_announce(change: ConversationChange) -> None:
    """Tell every interested listener of an already committed ``change``, from async code."""
    names = _interested(change)
    if names:
        from helpdesk.core.asyncdb import db_call

        await db_call(_deliver)(change, names)


def _deliver(change: ConversationChange, names: list[str]) -> None:
    for name in names:
        listener = _listeners.get(name)
        if listener is None:
            continue
        try:
            listener.handler(change)
        except Exception:
            # The change is made and stored; a listener's failure must not undo the others.
            logger.exception("Listener %r failed on %s", name, change)


# --- The usual changes, made from the rows the domain holds ---------------------------------------


def status_changed(conversation, *, by_user_id: int | None = None) -> ConversationChange:
    """``conversation`` (saved with its new status) changed status."""
    return ConversationChange(
        Change.STATUS_CHANGED,
        conversation.tenant_id,
        conversation.pk,
        by_user_id=by_user_id,
        status=conversation.status,
    )


def assigned(conversation, *, by_user_id: int | None = None) -> ConversationChange:
    """``conversation`` (saved with its new assignee) went to ``conversation.assignee``."""
    return ConversationChange(
        Change.ASSIGNED,
        conversation.tenant_id,
        conversation.pk,
        by_user_id=by_user_id,
        to_user_id=conversation.assignee_id,
        status=conversation.status,
    )


def conversation_created(conversation) -> ConversationChange:
    return ConversationChange(
        Change.CREATED, conversation.tenant_id, conversation.pk, status=conversation.status
    )


def message_created(message) -> ConversationChange:
    """``message`` was stored (a streamed bot message: once it is complete)."""
    return ConversationChange(
        Change.MESSAGE_CREATED,
        message.tenant_id,
        message.conversation_id,
        message_id=message.pk,
        at=message.created_at or timezone.now(),
    )


def contact_changed(contact) -> ConversationChange:
    """``contact``'s details (name, e-mail, ...) changed."""
    return ConversationChange(
        Change.CONTACT_CHANGED, contact.tenant_id, None, contact_id=contact.pk
    )
