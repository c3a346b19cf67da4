"""The data parts of realtime events and API answers, built in one place for every transport."""

from typing import Any

from helpdesk.conversations.attachments import attachment_payload, message_attachments
from helpdesk.conversations.models import Conversation, Message
from helpdesk.tenants.access import display_name


def message_payload(message: Message) -> dict[str, Any]:
    # Files travel as ``attachments`` with fresh signed URLs, not as raw metadata.
    files = message_attachments(message)
    metadata = message.metadata
    if files:
        metadata = {key: value for key, value in metadata.items() if key != "attachments"}
    return {
        "id": message.pk,
        "seq": message.seq,
        "client_id": message.client_id,
        "sender": message.sender_type,
        "sender_name": _sender_name(message),
        "kind": message.kind,
        "text": message.text,
        "metadata": metadata,
        "attachments": [attachment_payload(message.tenant_id, file) for file in files],
        "state": message.state,
        "created_at": message.created_at.isoformat(),
    }


def conversation_payload(
    conversation: Conversation, *, last_message: Message | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": conversation.pk,
        "status": conversation.status,
        "inbox": conversation.inbox_id,
        "contact": _contact(conversation.contact),
        "assignee": conversation.assignee_id,
        "assignee_name": display_name(conversation.assignee) if conversation.assignee_id else None,
        "has_bot": conversation.inbox.bot_id is not None,
        "last_seq": conversation.last_seq,
        "handoff_reason": conversation.handoff_reason,
        "follow_up": conversation.follow_up,
        "last_message_at": _iso(conversation.last_message_at),
        "created_at": _iso(conversation.created_at),
        "rating": rating_payload(_rating(conversation)),
    }
    if last_message is not None:
        payload["last_message"] = {
            "seq": last_message.seq,
            "sender": last_message.sender_type,
            "kind": last_message.kind,
            "preview": last_message.text[:140],
        }
    return payload


def rating_payload(rating) -> dict[str, Any] | None:
    """A conversation's rating (helpdesk/conversations/ratings.py) as the widget, the console
    and the API show it; None when it is not rated."""
    if rating is None:
        return None
    return {
        "score": rating.score,
        "scale": rating.scale,
        "comment": rating.comment,
        "created_at": _iso(rating.created_at),
    }


def _rating(conversation: Conversation):
    """The conversation's rating without a query where none can exist: only a resolved
    conversation is ever rated, so an open one (the fast path builds those without the
    database) answers None at once. A reopened conversation keeps its rating, shown again when
    it is resolved again. Listings select_related("rating"), so this reads the cache there."""
    if conversation.status != Conversation.Status.RESOLVED or conversation.pk is None:
        return None
    try:
        return conversation.rating
    except Conversation.rating.RelatedObjectDoesNotExist:
        return None


def _contact(contact) -> dict[str, Any]:
    """What the customer said they are called ("" while anonymous) and the start of their
    visitor id: each screen says "Visitor 7d1c…" in its own language (one payload reaches
    agents of several)."""
    return {
        "id": contact.pk,
        "name": contact.name or contact.email,
        "visitor": str(contact.visitor_id)[:8],
    }


def _sender_name(message: Message) -> str:
    """An agent's name; empty for the others, whom each screen names in its own language (the
    same payload reaches a Chinese customer and an English agent)."""
    if message.sender_type == Message.SenderType.AGENT and message.sender_user is not None:
        return display_name(message.sender_user)
    return ""


def _iso(value) -> str | None:
    return value.isoformat() if value else None
