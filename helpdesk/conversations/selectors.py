"""Reads for conversations and messages. Every query is filtered by the tenant passed in."""

from datetime import UTC, datetime
from typing import NamedTuple

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext, gettext_lazy

from helpdesk.conversations.models import Conversation, Message
from helpdesk.core.errors import InvalidInput, NotFound
from helpdesk.core.validation import MAX_ID, clean_id
from helpdesk.tenants.models import Tenant

MESSAGES_PAGE_MAX = 200


def conversation_get(*, tenant: Tenant, conversation_id: int) -> Conversation:
    """The tenant's conversation, or NotFound — also for another tenant's id."""
    conversation = (
        Conversation.objects.select_related("contact", "inbox", "assignee", "rating")
        .filter(
            tenant=tenant,
            pk=clean_id(conversation_id, not_found=gettext_lazy("Conversation not found.")),
        )
        .first()
    )
    if conversation is None:
        raise NotFound(gettext("Conversation not found."))
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
        raise InvalidInput(gettext("after_seq must be a non-negative integer."), field="seq")
    if not 1 <= limit <= MESSAGES_PAGE_MAX:
        raise InvalidInput(_limit_message(MESSAGES_PAGE_MAX), field="limit")
    conversation = conversation_get(tenant=tenant, conversation_id=conversation_id)
    messages: QuerySet[Message] = Message.objects.filter(
        tenant=tenant, conversation=conversation, seq__gt=after_seq
    ).select_related("sender_user")
    if not include_private:
        messages = messages.exclude(kind=Message.Kind.NOTE)
    return list(messages.order_by("seq")[:limit])


# --- The agent console ---------------------------------------------------------------------------

CONSOLE_VIEWS = ("bot", "queued", "mine", "follow_up", "all")
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


def cursor_token(cursor: ConversationCursor) -> str:
    """An opaque, URL-safe form of a list cursor: ``<microseconds since epoch|n>_<id>``."""
    at = cursor.last_message_at
    stamp = "n" if at is None else str(_micros(at))
    return f"{stamp}_{cursor.id}"


def cursor_from_token(raw: str | None, *, field: str) -> ConversationCursor | None:
    """The cursor a ``cursor_token`` stands for (None for none); InvalidInput for anything else."""
    if raw is None or raw == "":
        return None
    stamp, sep, pk = raw.partition("_")
    try:
        if not sep or not pk.isascii() or not pk.isdecimal() or len(raw) > 48:
            raise ValueError
        at = None if stamp == "n" else _from_micros(int(stamp))
        cursor = ConversationCursor(at, int(pk))
        if cursor.id > MAX_ID:
            raise ValueError
    except (ValueError, OverflowError, OSError):
        raise InvalidInput(
            gettext("%(field)s is not a valid cursor.") % {"field": field}, field=field
        ) from None
    return cursor


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(value: datetime) -> int:
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _from_micros(value: int) -> datetime:
    if value < 0:
        raise ValueError
    seconds, micros = divmod(value, 1_000_000)
    return datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=micros)


def conversations_page(
    *,
    tenant: Tenant,
    status: str | None = None,
    inbox_id: int | None = None,
    assignee_id: int | None = None,
    limit: int = 50,
    before: ConversationCursor | None = None,
    follow_up: bool | None = None,
) -> list[Conversation]:
    """One page of the tenant's conversations for the REST API, most recent activity first,
    filtered by status, inbox, assignee and follow-up by e-mail; ``before`` continues after a
    previous page."""
    conversations = Conversation.objects.filter(tenant=tenant)
    if status is not None:
        conversations = conversations.filter(status=status)
    if inbox_id is not None:
        conversations = conversations.filter(inbox_id=inbox_id)
    if assignee_id is not None:
        conversations = conversations.filter(assignee_id=assignee_id)
    if follow_up is not None:
        conversations = conversations.filter(follow_up=follow_up)
    if before is not None:
        conversations = conversations.filter(_after_cursor(before))
    return list(
        conversations.select_related("contact", "inbox", "assignee", "rating").order_by(
            F("last_message_at").desc(nulls_last=True), "-id"
        )[:limit]
    )


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
    assigned to ``user``, ``follow_up`` the open ones whose customer left an e-mail to be
    answered by (the widget's offline form), ``all`` every conversation including resolved
    ones. Conversations
    without any message sort after all others (newest first among themselves). ``before``
    continues after the row a previous page ended with.
    """
    if view not in CONSOLE_VIEWS:
        raise InvalidInput(
            gettext("view must be one of %(views)s.") % {"views": ", ".join(CONSOLE_VIEWS)},
            field="view",
        )
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= CONSOLE_PAGE_MAX:
        raise InvalidInput(_limit_message(CONSOLE_PAGE_MAX), field="limit")

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
    elif view == "follow_up":
        conversations = conversations.filter(follow_up=True, status__in=Conversation.OPEN_STATUSES)
    if before is not None:
        conversations = conversations.filter(_after_cursor(before))
    return list(
        conversations.select_related("contact", "inbox", "assignee", "rating").order_by(
            F("last_message_at").desc(nulls_last=True), "-id"
        )[:limit]
    )


def _after_cursor(cursor: ConversationCursor) -> Q:
    if not _valid_cursor(cursor):
        raise InvalidInput(gettext("before is not a valid cursor."), field="before")
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


# --- A contact's history (the console's side panel) -----------------------------------------------

CONTACT_HISTORY_MAX = 50
CARD_FIELDS = ("product_id", "title", "price", "currency", "image", "url", "stock")
# How many of the contact's newest messages with cards are read to collect distinct cards: the
# panel shows the recent ones, and an old, chatty contact must not make it read everything.
CARD_MESSAGES_SCANNED = 200


def contact_conversations(
    *, tenant: Tenant, contact_id: int, exclude_id: int | None = None, limit: int = 20
) -> list[Conversation]:
    """The contact's conversations, newest first, leaving out ``exclude_id`` (the open one).

    At most ``limit``; ask for one more than you show to know whether there are others. An id
    of another tenant's contact finds nothing.
    """
    if (
        isinstance(limit, bool)
        or not isinstance(limit, int)
        or not 1 <= limit <= CONTACT_HISTORY_MAX + 1
    ):
        raise InvalidInput(_limit_message(CONTACT_HISTORY_MAX + 1), field="limit")
    conversations = Conversation.objects.filter(
        tenant=tenant, contact_id=clean_id(contact_id, not_found=gettext_lazy("Contact not found."))
    )
    if exclude_id is not None:
        conversations = conversations.exclude(pk=exclude_id)
    return list(
        conversations.select_related("contact", "inbox", "rating").order_by("-created_at", "-id")[
            :limit
        ]
    )


def contact_product_cards(*, tenant: Tenant, contact_id: int, limit: int = 20) -> list[dict]:
    """Product cards that plugins attached to the contact's messages, newest first.

    One card per URL (the newest mention wins; cards without a URL are kept apart by title),
    each with ``conversation`` and ``seen_at`` saying where it was last mentioned. Only the
    card fields of ``docs/protocol.md`` are passed on, never the rest of the metadata.
    """
    if (
        isinstance(limit, bool)
        or not isinstance(limit, int)
        or not 1 <= limit <= CONTACT_HISTORY_MAX
    ):
        raise InvalidInput(_limit_message(CONTACT_HISTORY_MAX), field="limit")
    messages = (
        Message.objects.filter(
            tenant=tenant,
            conversation__tenant=tenant,
            conversation__contact_id=clean_id(
                contact_id, not_found=gettext_lazy("Contact not found.")
            ),
            sender_type=Message.SenderType.CONTACT,
            metadata__has_key="cards",
        )
        .only("conversation_id", "metadata", "created_at")
        .order_by("-created_at", "-id")[:CARD_MESSAGES_SCANNED]
    )
    cards: list[dict] = []
    seen: set[str] = set()
    for message in messages:
        found = message.metadata.get("cards") if isinstance(message.metadata, dict) else None
        if not isinstance(found, list):
            continue
        # Within one message the first card is the first link: keep the customer's order.
        for card in found:
            if not isinstance(card, dict):
                continue
            url = card.get("url") if isinstance(card.get("url"), str) else ""
            key = f"u:{url}" if url else f"t:{card.get('title')}"
            if key in seen or not (url or card.get("title")):
                continue
            seen.add(key)
            cards.append(
                {
                    **{name: card.get(name) for name in CARD_FIELDS},
                    "conversation": message.conversation_id,
                    "seen_at": message.created_at.isoformat(),
                }
            )
            if len(cards) == limit:
                return cards
    return cards


def customer_conversation_check(*, tenant: Tenant, inbox, contact, conversation_id: int) -> int:
    """The id, if it names this contact's conversation in this inbox; NotFound otherwise —
    for another visitor's or another tenant's conversation as for a missing one."""
    conversation_id = clean_id(conversation_id, not_found=gettext_lazy("Conversation not found."))
    if not Conversation.objects.filter(
        tenant=tenant, inbox=inbox, contact=contact, pk=conversation_id
    ).exists():
        raise NotFound(gettext("Conversation not found."))
    return conversation_id


def customer_latest_conversation(*, tenant: Tenant, inbox, contact) -> Conversation | None:
    """The conversation a returning visitor picks up: their newest one in this inbox."""
    return (
        Conversation.objects.select_related("contact", "inbox", "assignee", "rating")
        .filter(tenant=tenant, inbox=inbox, contact=contact)
        .order_by("-created_at")
        .first()
    )


def _limit_message(most: int) -> str:
    return gettext("limit must be between 1 and %(max)d.") % {"max": most}
