"""Reads for conversations and messages. Every query is filtered by the tenant passed in."""

from django.db.models import QuerySet

from helpdesk.conversations.models import Conversation, Message
from helpdesk.core.errors import InvalidInput, NotFound
from helpdesk.core.validation import clean_id
from helpdesk.tenants.models import Tenant

MESSAGES_PAGE_MAX = 200


def conversation_get(*, tenant: Tenant, conversation_id: int) -> Conversation:
    """The tenant's conversation, or NotFound — also for another tenant's id."""
    conversation = (
        Conversation.objects.select_related("contact", "inbox")
        .filter(tenant=tenant, pk=clean_id(conversation_id, what="Conversation"))
        .first()
    )
    if conversation is None:
        raise NotFound("Conversation not found.")
    return conversation


def messages_after(
    *,
    tenant: Tenant,
    conversation_id: int,
    after_seq: int = 0,
    include_private: bool = False,
    limit: int = 100,
) -> list[Message]:
    """Messages with ``seq > after_seq`` in order, at most ``limit`` of them.

    Customers pass ``include_private=False``: private notes are left out. The seq range stays
    the same either way, so a client resumes from the last seq it saw whatever it was shown.
    """
    if isinstance(after_seq, bool) or not isinstance(after_seq, int) or after_seq < 0:
        raise InvalidInput("after_seq must be a non-negative integer.", field="seq")
    if not 1 <= limit <= MESSAGES_PAGE_MAX:
        raise InvalidInput(f"limit must be between 1 and {MESSAGES_PAGE_MAX}.", field="limit")
    conversation = conversation_get(tenant=tenant, conversation_id=conversation_id)
    messages: QuerySet[Message] = Message.objects.filter(
        tenant=tenant, conversation=conversation, seq__gt=after_seq
    ).select_related("sender_user")
    if not include_private:
        messages = messages.exclude(kind=Message.Kind.NOTE)
    return list(messages.order_by("seq")[:limit])
