"""What a widget says about being answered: open or not, is anyone there, when a human is back,
how long a human typically takes (``options.hours`` and GET /widget/api/availability)."""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import DateTimeField, DurationField, ExpressionWrapper, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from helpdesk.conversations.assignment import pick_agent
from helpdesk.conversations.metrics import duration_percentiles
from helpdesk.conversations.models import Conversation, Message
from helpdesk.core.ratelimit import rate_limit_hit
from helpdesk.tenants.models import Inbox
from helpdesk.widget.hours import Schedule
from helpdesk.widget.services import inbox_for_key

REPLY_TIME_DAYS = 7
REPLY_TIME_MIN_SAMPLES = 3  # fewer answered conversations than this: no figure
REPLY_TIME_CACHE_SECONDS = 300
_NOTHING = {"value": None}
# GET /widget/api/availability: the same answer for every visitor of an inbox for this long,
# and at most this many requests per address and minute.
AVAILABILITY_CACHE_SECONDS = 10
RATE_IP_AVAILABILITY = getattr(settings, "RATE_IP_AVAILABILITY", (60, 60))


def inbox_availability(inbox: Inbox, now: datetime | None = None) -> dict[str, Any]:
    """``open`` (within business hours), ``agents_available`` (an agent of the tenant online,
    with a console open and room for another conversation), ``back_at`` (ISO datetime of the
    next opening while closed, else null), ``reply_time_seconds`` (reply_time_seconds) and
    ``has_bot`` (a bot answers first: the widget offers the offline form only without one)."""
    now = now or timezone.now()
    schedule = Schedule(inbox, around=now.date())
    is_open = schedule.is_open(now)
    back_at = None if is_open else schedule.next_opening(now)
    return {
        "open": is_open,
        "agents_available": pick_agent(tenant=inbox.tenant) is not None,
        "back_at": back_at.isoformat() if back_at else None,
        "reply_time_seconds": reply_time_seconds(inbox, now=now),
        "has_bot": inbox.bot_id is not None,
    }


def availability_for_key(*, inbox_key: object, origin: str | None, client_ip: str) -> dict:
    """inbox_availability for the inbox with this public key, if the page's origin may use it;
    kept AVAILABILITY_CACHE_SECONDS per inbox, rate-limited per address."""
    rate_limit_hit("availability", f"ip:{client_ip}", RATE_IP_AVAILABILITY)
    inbox = inbox_for_key(inbox_key, origin=origin)
    key = f"widget:availability:{inbox.pk}"
    answer = cache.get(key)
    if answer is None:
        answer = inbox_availability(inbox)
        cache.set(key, answer, AVAILABILITY_CACHE_SECONDS)
    return answer


def reply_time_key(inbox_id: int) -> str:
    return f"widget:reply-time:{inbox_id}"


def reply_time_seconds(inbox: Inbox, *, now: datetime | None = None) -> int | None:
    """The median time a customer of ``inbox`` waited for a human's first answer, over the
    conversations started in the last REPLY_TIME_DAYS days; None with fewer than
    REPLY_TIME_MIN_SAMPLES answered. Kept REPLY_TIME_CACHE_SECONDS in the cache per inbox."""
    key = reply_time_key(inbox.pk)
    cached = cache.get(key)
    if cached is not None:
        return cached["value"]
    value = _reply_time(inbox, now=now or timezone.now())
    cache.set(key, {"value": value} if value is not None else _NOTHING, REPLY_TIME_CACHE_SECONDS)
    return value


def _reply_time(inbox: Inbox, *, now: datetime) -> int | None:
    """From when a human was asked for (``queued_at``; ``created_at`` for a conversation an
    agent took without a queue) to the first agent's text after it. The bot's answers do not
    count: ``first_response_at`` is the bot's in a conversation it handed off, so the agent's
    first message is looked up instead (the same median as the reports, metrics.py)."""
    waiting_since = Coalesce(F("queued_at"), F("created_at"))
    first_agent_at = Subquery(
        Message.objects.filter(
            conversation=OuterRef("pk"),
            sender_type=Message.SenderType.AGENT,
            kind=Message.Kind.TEXT,
            created_at__gte=Coalesce(OuterRef("queued_at"), OuterRef("created_at")),
        )
        .order_by("seq")
        .values("created_at")[:1],
        output_field=DateTimeField(),
    )
    answered = (
        Conversation.objects.filter(
            tenant_id=inbox.tenant_id,
            inbox=inbox,
            created_at__gte=now - timedelta(days=REPLY_TIME_DAYS),
        )
        .annotate(_first_agent_at=first_agent_at)
        .filter(_first_agent_at__isnull=False)
    )
    figures = duration_percentiles(
        answered,
        ExpressionWrapper(F("_first_agent_at") - waiting_since, output_field=DurationField()),
        fractions=(0.5,),
    )
    if figures["count"] < REPLY_TIME_MIN_SAMPLES or figures["median"] is None:
        return None
    return max(0, round(figures["median"]))
