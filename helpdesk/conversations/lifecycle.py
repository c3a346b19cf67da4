"""Conversation status changes. Each transition is validated, stored and announced here, and
nowhere else: bots, agents, admin actions and jobs all call these functions.

    bot ──handoff──▶ queued
"""

from django.db import transaction
from django.utils import timezone

from helpdesk.conversations.models import Conversation, Message
from helpdesk.conversations.serializers import conversation_payload
from helpdesk.conversations.services import Sender, message_post
from helpdesk.core.errors import ServiceError
from helpdesk.core.validation import clean_id
from helpdesk.realtime.events import (
    agents_group,
    conversation_control_group,
    conversation_group,
    envelope,
    publish_on_commit,
)
from helpdesk.tenants.models import Tenant

HANDOFF_TEXT = "You're being connected to a member of our team. They'll reply here shortly."


class InvalidTransition(ServiceError):
    code = "invalid_transition"
    default_message = "The conversation cannot make that change in its current state."


def _locked(tenant: Tenant, conversation_id: int) -> Conversation:
    from helpdesk.core.errors import NotFound

    conversation = (
        Conversation.objects.select_for_update()
        .select_related("contact")
        .filter(tenant=tenant, pk=clean_id(conversation_id, what="Conversation"))
        .first()
    )
    if conversation is None:
        raise NotFound("Conversation not found.")
    return conversation


def announce_conversation(conversation: Conversation) -> None:
    """Tell agents and the conversation's own subscribers about its new state."""
    event = envelope(
        "conversation.updated",
        conversation_id=conversation.pk,
        seq=conversation.last_seq,
        data=conversation_payload(conversation),
    )
    publish_on_commit(agents_group(conversation.tenant_id), event)
    publish_on_commit(conversation_group(conversation.tenant_id, conversation.pk), event)


def conversation_handoff(*, tenant: Tenant, conversation_id: int, reason: str) -> Conversation:
    """bot → queued: a human should answer. Tells the customer and every agent."""
    with transaction.atomic():
        conversation = _locked(tenant, conversation_id)
        if conversation.status != Conversation.Status.BOT:
            raise InvalidTransition(
                f"Only a conversation with the bot can be handed off (it is {conversation.status})."
            )
        conversation.status = Conversation.Status.QUEUED
        conversation.handoff_reason = reason[:200]
        conversation.queued_at = timezone.now()
        conversation.save(update_fields=["status", "handoff_reason", "queued_at", "updated_at"])
        message_post(
            tenant=tenant,
            conversation_id=conversation.pk,
            sender=Sender.system(),
            text=HANDOFF_TEXT,
            kind=Message.Kind.EVENT,
            metadata={"event": "handoff", "reason": conversation.handoff_reason},
        )
        conversation.refresh_from_db()
        stop_bot_on_commit(conversation)
        announce_conversation(conversation)
    return conversation


def stop_bot_on_commit(conversation: Conversation) -> None:
    """Any bot reply streaming in this conversation stops at its next flush."""
    publish_on_commit(
        conversation_control_group(conversation.tenant_id, conversation.pk),
        envelope("bot.stop", conversation_id=conversation.pk, data={"status": conversation.status}),
    )
