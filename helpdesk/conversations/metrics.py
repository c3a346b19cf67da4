"""Reports on a tenant's conversations: volumes, response and resolution times, the bot's share
and handoffs. Read-only selectors; every one takes the tenant and a period. What the bot's model
cost is the ai app's (helpdesk/ai/metrics.py); the console's reports page puts both together.

How things are counted
----------------------
- **Cohort by start.** A conversation belongs to the period (and to the day) in which it was
  created. Its first response, resolution and handoff count there too, even when they came
  later, so "of the conversations started on Monday, 3 were handed off" adds up.
- **Days are UTC days**, the same on every server; the period is whole days, ending with today.
- **Started with the bot**: every conversation except those queued no later than they were
  created (an inbox without a bot queues a new conversation at once, stamping ``queued_at``
  before ``created_at``). **Handed off**: started with the bot and later queued — a ``queued_at``
  after ``created_at``, or a ``handoff`` event.
- **Resolved by the bot alone**: resolved, never queued, never handed off, no assignee, no
  message from an agent (private notes included) and no event that gave it to an agent
  (takeover, accept, assign, transfer, or a reopen to an agent).
- **Percentiles** (median, p90) are ``percentile_cont``: linear interpolation between the two
  nearest ranks, as PostgreSQL's ``percentile_cont`` and numpy's default compute them. SQLite
  has no such aggregate, so both engines take the same path: the database counts the rows,
  then sorts the durations and answers only the one or two rows around each rank
  (``ORDER BY … LIMIT 2 OFFSET k``). Nothing loads the whole list; the number of queries does
  not grow with the data.
- Rates and percentiles of nothing are ``None``, never a division by zero.
"""

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from helpdesk.conversations.handoff_reasons import reason_text
from helpdesk.conversations.models import Conversation, Message
from helpdesk.core.errors import InvalidInput
from helpdesk.tenants.models import Tenant

DEFAULT_DAYS = 30
MAX_DAYS = 366
HANDOFF_REASONS_LIMIT = 10
NO_REASON = gettext_lazy("(no reason given)")

# Events that put a conversation in an agent's hands. A reopen counts when it went to an agent:
# one who reopened it ("by"), or the last agent the customer went back to ("to"); a customer
# writing again may also reopen to the bot, which carries neither.
ASSIGNING_EVENTS = ("takeover", "accept", "assign", "transfer")

# Upper bounds of the time-distribution buckets; the last bucket is open-ended.
DISTRIBUTION_EDGES: tuple[tuple[str, timedelta | None], ...] = (
    ("< 30 s", timedelta(seconds=30)),
    ("30 s – 2 min", timedelta(minutes=2)),
    ("2 – 10 min", timedelta(minutes=10)),
    ("10 – 60 min", timedelta(hours=1)),
    ("1 – 4 h", timedelta(hours=4)),
    ("4 – 24 h", timedelta(days=1)),
    ("> 1 day", None),
)


@dataclass(frozen=True)
class MetricsPeriod:
    """Whole UTC days: ``start`` (midnight of the first day, included) to ``end`` (excluded)."""

    start: datetime
    end: datetime

    @property
    def days(self) -> list[date]:
        first = self.start.date()
        return [first + timedelta(days=n) for n in range((self.end - self.start).days)]


def metrics_period(*, days: int = DEFAULT_DAYS, now: datetime | None = None) -> MetricsPeriod:
    """The last ``days`` UTC days, today included."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise InvalidInput(
            gettext("days must be an integer from 1 to %(max)d.") % {"max": MAX_DAYS}, field="days"
        )
    today = (now or timezone.now()).astimezone(UTC).date()
    start = datetime.combine(today - timedelta(days=days - 1), time.min, tzinfo=UTC)
    return MetricsPeriod(start=start, end=start + timedelta(days=days))


# --- Building blocks ---------------------------------------------------------------------------


def _cohort(tenant: Tenant, period: MetricsPeriod | None) -> QuerySet[Conversation]:
    period = period or metrics_period()
    return Conversation.objects.filter(
        tenant=tenant, created_at__gte=period.start, created_at__lt=period.end
    )


def _events(*names: str) -> QuerySet[Message]:
    # The outer conversation is the tenant's, and so are its messages: no tenant filter needed
    # inside a correlated subquery on conversation.
    return Message.objects.filter(
        conversation=OuterRef("pk"), kind=Message.Kind.EVENT, metadata__event__in=list(names)
    )


def _handoff_event() -> Exists:
    return Exists(_events("handoff"))


def _queued_later() -> Q:
    return Q(queued_at__isnull=False, queued_at__gt=F("created_at"))


def _started_with_bot() -> Q:
    return Q(queued_at__isnull=True) | _queued_later() | Q(_handoff_event())


def _handed_off() -> Q:
    return _queued_later() | Q(_handoff_event())


def _resolved_by_bot() -> Q:
    agent_message = Exists(
        Message.objects.filter(conversation=OuterRef("pk"), sender_type=Message.SenderType.AGENT)
    )
    given_to_agent = Q(Exists(_events(*ASSIGNING_EVENTS))) | Q(
        Exists(_events("reopen").filter(Q(metadata__has_key="by") | Q(metadata__has_key="to")))
    )
    return (
        Q(status=Conversation.Status.RESOLVED, queued_at__isnull=True, assignee__isnull=True)
        & ~Q(_handoff_event())
        & ~Q(agent_message)
        & ~given_to_agent
    )


def _first_response_duration() -> ExpressionWrapper:
    return ExpressionWrapper(F("first_response_at") - F("created_at"), output_field=DurationField())


def _resolution_duration() -> ExpressionWrapper:
    return ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField())


def _first_responder() -> Subquery:
    """Who sent the first answer: the earliest non-empty text from the bot or an agent."""
    return Subquery(
        Message.objects.filter(
            conversation=OuterRef("pk"),
            kind=Message.Kind.TEXT,
            sender_type__in=[Message.SenderType.BOT, Message.SenderType.AGENT],
        )
        .exclude(text="")
        .order_by("seq")
        .values("sender_type")[:1]
    )


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _seconds(value: timedelta) -> float:
    return round(value.total_seconds(), 3)


def duration_percentiles(
    queryset: QuerySet, duration, fractions: tuple[float, ...] = (0.5, 0.9)
) -> dict[str, Any]:
    """``count`` and, per fraction, the interpolated percentile of ``duration`` in seconds.

    One count, then one query per fraction that reads at most two rows (see the module notes).
    Rows whose duration is null are left out.
    """
    rows = queryset.annotate(_duration=duration).filter(_duration__isnull=False)
    count = rows.count()
    result: dict[str, Any] = {"count": count}
    ordered = rows.order_by("_duration", "pk").values_list("_duration", flat=True)
    for fraction in fractions:
        key = "median" if fraction == 0.5 else f"p{round(fraction * 100)}"
        if count == 0:
            result[key] = None
            continue
        position = fraction * (count - 1)
        low = math.floor(position)
        values = list(ordered[low : low + 2])
        lower = _seconds(values[0])
        upper = _seconds(values[-1])
        result[key] = round(lower + (upper - lower) * (position - low), 3)
    return result


# --- Selectors ---------------------------------------------------------------------------------


def metrics_conversations(*, tenant: Tenant, period: MetricsPeriod | None = None) -> dict:
    """How many conversations started, how many the bot handled and handed off. One query."""
    totals = _cohort(tenant, period).aggregate(
        started=Count("pk"),
        resolved=Count("pk", filter=Q(status=Conversation.Status.RESOLVED)),
        started_with_bot=Count("pk", filter=_started_with_bot()),
        handed_off=Count("pk", filter=_handed_off()),
        resolved_by_bot=Count("pk", filter=_resolved_by_bot()),
    )
    return {
        **totals,
        "open": totals["started"] - totals["resolved"],
        "handoff_rate": _ratio(totals["handed_off"], totals["started_with_bot"]),
        "bot_resolution_share": _ratio(totals["resolved_by_bot"], totals["resolved"]),
    }


def metrics_first_response(*, tenant: Tenant, period: MetricsPeriod | None = None) -> dict:
    """First response time (first_response_at − created_at): count, median, p90 in seconds,
    overall and by who answered first (``bot`` or ``agent``)."""
    answered = _cohort(tenant, period).filter(first_response_at__isnull=False)
    overall = duration_percentiles(answered, _first_response_duration())
    by_responder = {}
    with_responder = answered.annotate(_responder=_first_responder())
    for responder in (Message.SenderType.BOT, Message.SenderType.AGENT):
        by_responder[str(responder)] = duration_percentiles(
            with_responder.filter(_responder=responder), _first_response_duration()
        )
    return {**overall, "by_responder": by_responder}


def metrics_resolution(*, tenant: Tenant, period: MetricsPeriod | None = None) -> dict:
    """Resolution time (resolved_at − created_at) of resolved conversations: count, median,
    p90 in seconds."""
    resolved = _cohort(tenant, period).filter(
        status=Conversation.Status.RESOLVED, resolved_at__isnull=False
    )
    return duration_percentiles(resolved, _resolution_duration())


def metrics_handoff_reasons(
    *, tenant: Tenant, period: MetricsPeriod | None = None, limit: int = HANDOFF_REASONS_LIMIT
) -> list[dict]:
    """The most frequent handoff reasons of handed-off conversations, most frequent first."""
    rows = (
        _cohort(tenant, period)
        .filter(_handed_off())
        .values("handoff_reason")
        .annotate(count=Count("pk"))
        .order_by("-count", "handoff_reason")[:limit]
    )
    return [
        {
            "reason": reason_text(row["handoff_reason"])
            if row["handoff_reason"]
            else str(NO_REASON),
            "count": row["count"],
        }  # fmt: skip
        for row in rows
    ]


def metrics_daily(*, tenant: Tenant, period: MetricsPeriod | None = None) -> list[dict]:
    """One row per UTC day of the period, days without data included: conversations started,
    handed off and resolved by the bot alone (by the day they started)."""
    period = period or metrics_period()
    conversations = (
        _cohort(tenant, period)
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day")
        .annotate(
            conversations=Count("pk"),
            handoffs=Count("pk", filter=_handed_off()),
            resolved_by_bot=Count("pk", filter=_resolved_by_bot()),
        )
        .order_by("day")
    )
    by_day = {row["day"]: row for row in conversations}
    series = []
    for day in period.days:
        row = by_day.get(day, {})
        series.append(
            {
                "date": day.isoformat(),
                "conversations": row.get("conversations", 0),
                "handoffs": row.get("handoffs", 0),
                "resolved_by_bot": row.get("resolved_by_bot", 0),
            }
        )
    return series


def metrics_time_distribution(*, tenant: Tenant, period: MetricsPeriod | None = None) -> dict:
    """How many first responses and resolutions took how long, in fixed buckets. One query."""
    rows = _cohort(tenant, period).annotate(
        _first=_first_response_duration(), _resolution=_resolution_duration()
    )
    aggregates = {}
    lower = None
    for index, (_label, upper) in enumerate(DISTRIBUTION_EDGES):
        for name, field in (("first", "_first"), ("resolution", "_resolution")):
            bucket = Q(**{f"{field}__isnull": False})
            if lower is not None:
                bucket &= Q(**{f"{field}__gte": lower})
            if upper is not None:
                bucket &= Q(**{f"{field}__lt": upper})
            if name == "resolution":
                bucket &= Q(status=Conversation.Status.RESOLVED)
            aggregates[f"{name}_{index}"] = Count("pk", filter=bucket)
        lower = upper
    counts = rows.aggregate(**aggregates)
    return {
        "buckets": [label for label, _upper in DISTRIBUTION_EDGES],
        "first_response": [counts[f"first_{i}"] for i in range(len(DISTRIBUTION_EDGES))],
        "resolution": [counts[f"resolution_{i}"] for i in range(len(DISTRIBUTION_EDGES))],
    }


def tenant_metrics(*, tenant: Tenant, period: MetricsPeriod | None = None) -> dict:
    """Every conversation figure of the reports page, in one answer. A fixed number of queries
    (about 25) whatever the amount of data."""
    from helpdesk.conversations.csat import metrics_csat  # it builds on this module

    period = period or metrics_period()
    conversations = metrics_conversations(tenant=tenant, period=period)
    return {
        "period": {
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "days": len(period.days),
        },
        "conversations": conversations,
        "first_response": metrics_first_response(tenant=tenant, period=period),
        "resolution": metrics_resolution(tenant=tenant, period=period),
        "handoff": {
            "started_with_bot": conversations["started_with_bot"],
            "handed_off": conversations["handed_off"],
            "rate": conversations["handoff_rate"],
            "reasons": metrics_handoff_reasons(tenant=tenant, period=period),
        },
        "distribution": metrics_time_distribution(tenant=tenant, period=period),
        "daily": metrics_daily(tenant=tenant, period=period),
        "csat": metrics_csat(tenant=tenant, period=period),
    }
