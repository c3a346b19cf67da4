"""What an event's ``data`` holds: plain JSON built from the rows when the event is recorded."""

from typing import Any

from helpdesk.conversations.announcements import ConversationChange
from helpdesk.conversations.models import Contact, Conversation, Message, Rating
from helpdesk.webhooks import events


def _time(value) -> str | None:
    return value.isoformat() if value else None


def conversation_data(conversation: Conversation) -> dict[str, Any]:
    return {
        "id": conversation.pk,
        "status": conversation.status,
        "inbox_id": conversation.inbox_id,
        "contact_id": conversation.contact_id,
        "assignee_id": conversation.assignee_id,
        "handoff_reason": conversation.handoff_reason,
        "created_at": _time(conversation.created_at),
        "resolved_at": _time(conversation.resolved_at),
    }


def contact_data(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "name": contact.name,
        "email": contact.email,
        "language": contact.language,
        "created_at": _time(contact.created_at),
    }


def message_data(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "seq": message.seq,
        "sender_type": message.sender_type,
        "sender_user_id": message.sender_user_id,
        "kind": message.kind,
        "text": message.text,
        "state": message.state,
        "created_at": _time(message.created_at),
    }


def rating_data(rating: Rating) -> dict[str, Any]:
    return {
        "score": rating.score,
        "scale": rating.scale,
        "satisfied": rating.satisfied,
        "comment": rating.comment,
        "agent_id": rating.agent_id,
        "bot_id": rating.bot_id,
        "created_at": _time(rating.created_at),
    }


def user_data(user) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.get_full_name() or user.get_username()}


def event_data(event: str, change: ConversationChange) -> dict[str, Any] | None:
    """The ``data`` of ``event`` for ``change``, or None when its rows are gone."""
    if event == events.CONTACT_CHANGED:
        contact = Contact.objects.filter(tenant_id=change.tenant_id, pk=change.contact_id).first()
        return None if contact is None else {"contact": contact_data(contact)}
    conversation = (
        Conversation.objects.select_related("assignee", "contact")
        .filter(tenant_id=change.tenant_id, pk=change.conversation_id)
        .first()
    )
    if conversation is None:
        return None
    data: dict[str, Any] = {"conversation": conversation_data(conversation)}
    if event == events.CONVERSATION_CREATED:
        data["contact"] = contact_data(conversation.contact)
    elif event == events.CONVERSATION_STATUS_CHANGED:
        # The status this change made (the conversation may have moved on since).
        data["status"] = change.status
        data["by_user_id"] = change.by_user_id
    elif event == events.CONVERSATION_ASSIGNED:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(pk=change.to_user_id).first()
        data["assignee"] = user_data(user)
        data["by_user_id"] = change.by_user_id
    elif event == events.CONVERSATION_HANDOFF:
        data["reason"] = conversation.handoff_reason
    elif event == events.CONVERSATION_RATED:
        rating = Rating.objects.filter(
            tenant_id=change.tenant_id, conversation=conversation
        ).first()
        if rating is None:
            return None
        data["rating"] = rating_data(rating)
    elif event == events.MESSAGE_CREATED:
        message = Message.objects.filter(
            tenant_id=change.tenant_id, conversation=conversation, pk=change.message_id
        ).first()
        if message is None:
            return None
        data["message"] = message_data(message)
    return data
