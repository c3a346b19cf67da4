"""Who acts on a conversation's messages: registries that the apps above this one fill at start.

The domain does not know the bot or the plugins (they import it, never the other way round).
It announces what happened here, and each app says in its ``AppConfig.ready()`` what it does
about it:

``follow_customer_messages(name, condition=…, handler=…, stage=…)``
    A customer wrote. Once the message is stored, one job (``helpdesk.customer_message_received``,
    helpdesk/conversations/tasks.py) loads it and awaits every follower's ``handler(message)``
    on the job loop (helpdesk/core/loop.py): the ``ENRICH`` stage first, then ``ANSWER``, and
    in the order they registered within a stage. The plugins enrich, the bot answers, so the
    bot sees what the plugins attached. A handler may return a short report for the job's
    result. Like the job, it must be safe to run twice.

    ``condition`` says when the handler has work, so that a plain chat's message costs no job
    at all: the fast path (helpdesk/conversations/fast_path.py) evaluates the conditions in the
    statement that stores the message, so the answer costs no round trip and is never stale.
    It is an SQL boolean expression over ``%(tenant)s`` (the tenant's id) and ``conversation``
    (the conversation's row as the message left it: ``conversation.status``). The handlers
    still decide for themselves: the general path enqueues the job for every message.

``filter_agent_text_with(name, text_filter)``
    An agent is about to send a reply. ``text_filter(tenant=…, text=…)`` returns the text to
    store; the filters chain in the order they registered. Private notes are not filtered.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import IntEnum

from helpdesk.conversations.models import Message
from helpdesk.tenants.models import Tenant


class Stage(IntEnum):
    ENRICH = 1
    ANSWER = 2


@dataclass(frozen=True)
class Follower:
    name: str
    condition: str
    handler: Callable[[Message], Awaitable[str | None]]
    stage: Stage


_followers: dict[str, Follower] = {}
_agent_text_filters: dict[str, Callable[..., str]] = {}


def follow_customer_messages(
    name: str,
    *,
    condition: str,
    handler: Callable[[Message], Awaitable[str | None]],
    stage: Stage,
) -> None:
    """Have ``handler`` act on customer messages (registered once per app, at start)."""
    _followers[name] = Follower(name, f"({condition})", handler, stage)


def customer_message_followers() -> list[Follower]:
    """The followers in the order they act."""
    return sorted(_followers.values(), key=lambda follower: follower.stage)


def followed_sql() -> str:
    """One SQL expression: does anyone act on this message?"""
    return " OR ".join(follower.condition for follower in _followers.values()) or "FALSE"


async def customer_message_follow(message: Message) -> list[str]:
    """Hand a stored customer message (its tenant loaded) to every follower; their reports."""
    reports = []
    for follower in customer_message_followers():
        report = await follower.handler(message)
        if report:
            reports.append(report)
    return reports


def filter_agent_text_with(name: str, text_filter: Callable[..., str]) -> None:
    """Have ``text_filter(tenant=…, text=…)`` rewrite agents' replies before they are stored."""
    _agent_text_filters[name] = text_filter


def agent_text_filter(*, tenant: Tenant, text: str) -> str:
    """An agent's reply as the registered filters leave it."""
    for text_filter in _agent_text_filters.values():
        text = text_filter(tenant=tenant, text=text)
    return text
