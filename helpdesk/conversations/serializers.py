"""The data parts of realtime events and API answers, built in one place for every transport."""

from typing import Any

from helpdesk.conversations.models import Conversation, Message
from helpdesk.tenants.access import display_name


def message_payload(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "seq": message.seq,
        "client_id": message.client_id,
        "sender": message.sender_type,
        "sender_name": _sender_name(message),
        "kind": message.kind,
        "text": message.text,
        "metadata": message.metadata,
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
        "last_message_at": _iso(conversation.last_message_at),
        "created_at": _iso(conversation.created_at),
    }
    if last_message is not None:
        payload["last_message"] = {
            "seq": last_message.seq,
            "sender": last_message.sender_type,
            "kind": last_message.kind,
            "preview": last_message.text[:140],
        }
    return payload


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
