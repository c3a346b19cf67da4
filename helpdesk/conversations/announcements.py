"""Changes of a conversation's hands, for the apps above the domain: a registry they fill at start.

The domain does not know who cares that a conversation changed hands (the AI writes the agent
who receives it a summary; webhooks or metrics may follow). ``lifecycle.py`` announces each
change here as it makes it, and each app says in its ``AppConfig.ready()`` what it does:

``listen_to_changes(name, handler)``
    ``handler(change)`` is called with a ``ConversationChange`` once the transaction that made
    the change has committed — never inside it, and never for a change that was rolled back. It
    runs in the committing thread, so it must be quick: enqueue a job (helpdesk/core/jobs.py),
    never call a model. A handler that fails is logged and the others still run.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial

from django.db import transaction

logger = logging.getLogger(__name__)


class Change(StrEnum):
    HANDOFF = "handoff"  # bot → queued: a human should answer
    TRANSFER = "transfer"  # assigned → assigned to another agent


@dataclass(frozen=True)
class ConversationChange:
    change: Change
    tenant_id: int
    conversation_id: int
    by_user_id: int | None = None  # the agent who made it (none for the bot's handoff)
    to_user_id: int | None = None  # the agent who receives the conversation, when one does


_listeners: dict[str, Callable[[ConversationChange], None]] = {}


def listen_to_changes(name: str, handler: Callable[[ConversationChange], None]) -> None:
    """Have ``handler`` hear of every conversation change (registered once per app, at start)."""
    _listeners[name] = handler


def change_announce(change: ConversationChange) -> None:
    """Tell every listener of ``change`` after the current transaction commits."""
    transaction.on_commit(partial(_deliver, change))


def _deliver(change: ConversationChange) -> None:
    for name, handler in list(_listeners.items()):
        try:
            handler(change)
        except Exception:
            # The change is made and stored; a listener's failure must not undo the others.
            logger.exception("Listener %r failed on %s", name, change)
