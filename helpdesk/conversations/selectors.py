"""Reads for conversations and messages. Every query is filtered by the tenant passed in."""

from datetime import datetime
from typing import NamedTuple

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F, Q, QuerySet

from helpdesk.conversations.models import Conversation, Message
from helpdesk.core.errors import InvalidInput, NotFound
from helpdesk.core.validation import MAX_ID, clean_id
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


# --- The agent console ---------------------------------------------------------------------------

CONSOLE_VIEWS = ("bot", "queued", "mine", "all")
CONSOLE_PAGE_MAX = 200


class ConversationCursor(NamedTuple):
    """Where a console list page ended: the sort key of its last row.

    Paging by key rather than by offset means a conversation that moves to the top between two
    page loads shifts nothing under the reader: no row is skipped, none shown twice.
    """

    last_message_at: datetime | None
    id: int


def conversation_cursor(conversation: Conversation) -> ConversationCursor:
    """The cursor that continues a list after ``conversation``."""
    return ConversationCursor(conversation.last_message_at, conversation.pk)


def conversations_for_console(
    *,
    tenant: Tenant,
    user: AbstractBaseUser,
    view: str,
    limit: int = 50,
    before: ConversationCursor | None = None,
) -> list[Conversation]:
    """One page of a console tab, most recent activity first.

    ``bot`` and ``queued`` list the conversations in that status, ``mine`` the open ones
    assigned to ``user``, ``all`` every conversation including resolved ones. Conversations
    without any message sort after all others (newest first among themselves). ``before``
    continues after the row a previous page ended with.
    """
    if view not in CONSOLE_VIEWS:
        raise InvalidInput(f"view must be one of {', '.join(CONSOLE_VIEWS)}.", field="view")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= CONSOLE_PAGE_MAX:
        raise InvalidInput(f"limit must be between 1 and {CONSOLE_PAGE_MAX}.", field="limit")

    conversations = Conversation.objects.filter(tenant=tenant)
    if view == "bot":
        conversations = conversations.filter(status=Conversation.Status.BOT)
    elif view == "queued":
        conversations = conversations.filter(status=Conversation.Status.QUEUED)
    elif view == "mine":
        if user.pk is None:
            # assignee_id=None would mean "unassigned": never hand those out as someone's own.
            return []
        conversations = conversations.filter(
            assignee_id=user.pk, status__in=Conversation.OPEN_STATUSES
        )
    if before is not None:
        conversations = conversations.filter(_after_cursor(before))
    return list(
        conversations.select_related("contact", "inbox", "assignee").order_by(
            F("last_message_at").desc(nulls_last=True), "-id"
        )[:limit]
    )


def _after_cursor(cursor: ConversationCursor) -> Q:
    if not _valid_cursor(cursor):
        raise InvalidInput("before is not a valid cursor.", field="before")
    # The order is (last_message_at desc nulls last, id desc); "after" the cursor means later
    # in that order.
    if cursor.last_message_at is None:
        return Q(last_message_at__isnull=True, id__lt=cursor.id)
    return (
        Q(last_message_at__lt=cursor.last_message_at)
        | Q(last_message_at=cursor.last_message_at, id__lt=cursor.id)
        | Q(last_message_at__isnull=True)
    )


def _valid_cursor(cursor: object) -> bool:
    if not isinstance(cursor, ConversationCursor):
        return False
    at, pk = cursor
    if at is not None and not (isinstance(at, datetime) and at.tzinfo is not None):
        return False
    return not isinstance(pk, bool) and isinstance(pk, int) and 0 <= pk <= MAX_ID


def conversations_last_messages(
    *, tenant: Tenant, conversations: list[Conversation]
) -> dict[int, Message]:
    """The newest message (private notes included) of each conversation, by conversation id.

    One query for the whole page, through the (conversation, seq) unique index.
    """
    wanted = Q()
    for conversation in conversations:
        if conversation.tenant_id == tenant.pk and conversation.last_seq:
            wanted |= Q(conversation_id=conversation.pk, seq=conversation.last_seq)
    if not wanted:
        return {}
    messages = Message.objects.filter(wanted, tenant=tenant)
    return {message.conversation_id: message for message in messages}
