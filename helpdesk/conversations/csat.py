"""Customer satisfaction (CSAT) for the reports page: read-only selectors over ratings.

How it is counted
-----------------
- A rating counts on the **UTC day it was given** (as tokens count on the day they were used),
  not on the day its conversation started: a satisfaction score is about the answer the customer
  just had. The period is the reports page's (helpdesk/conversations/metrics.py).
- **CSAT** is the share of ratings that are satisfied — 4 or 5 stars, or a thumb up (stored as
  5) — of all ratings. The **average** is the mean score on the 1-5 scale (a thumb down is 1,
  up is 5). Both are ``None`` when nothing was rated.
- **By agent**: the agent the rating names (the conversation's assignee, else the last agent who
  answered). **By bot**: ratings of conversations no agent answered, per bot (``bot`` null when
  the inbox had none or the bot was deleted).
- A fixed number of queries (four), whatever the amount of data: the totals are summed from the
  rows per day and per bot.
"""

from datetime import UTC

from django.contrib.auth import get_user_model
from django.db.models import Avg, Count, Q, QuerySet
from django.db.models.functions import TruncDate

from helpdesk.conversations.metrics import MetricsPeriod, metrics_period
from helpdesk.conversations.models import Rating
from helpdesk.tenants.access import display_name
from helpdesk.tenants.models import Tenant

SATISFIED = Q(score__gte=4)
AGENTS_LIMIT = 50


def _ratings(tenant: Tenant, period: MetricsPeriod) -> QuerySet[Rating]:
    return Rating.objects.filter(
        tenant=tenant, created_at__gte=period.start, created_at__lt=period.end
    )


def _figures(count: int, satisfied: int, average) -> dict:
    return {
        "count": count,
        "satisfied": satisfied,
        "csat": round(satisfied / count, 4) if count else None,
        "average": round(float(average), 2) if count and average is not None else None,
    }


def _aggregates() -> dict:
    return {"n": Count("pk"), "ok": Count("pk", filter=SATISFIED), "avg": Avg("score")}


def _summed(rows) -> dict:
    """The figures of several groups of ratings together (the average weighted by count)."""
    rows = list(rows)
    count = sum(row["n"] for row in rows)
    satisfied = sum(row["ok"] for row in rows)
    total = sum(row["avg"] * row["n"] for row in rows if row["avg"] is not None)
    return _figures(count, satisfied, total / count if count else None)


def metrics_csat(*, tenant: Tenant, period: MetricsPeriod | None = None) -> dict:
    """Overall CSAT and average, by agent, by bot, and per UTC day of the period."""
    period = period or metrics_period()
    ratings = _ratings(tenant, period)

    agent_rows = list(
        ratings.filter(agent__isnull=False)
        .values("agent")
        .annotate(**_aggregates())
        .order_by("-n", "agent")[:AGENTS_LIMIT]
    )
    users = get_user_model().objects.in_bulk([row["agent"] for row in agent_rows])
    by_agent = [
        {
            "agent_id": row["agent"],
            "name": display_name(users[row["agent"]]) if row["agent"] in users else "",
            **_figures(row["n"], row["ok"], row["avg"]),
        }
        for row in agent_rows
    ]

    bot_rows = list(
        ratings.filter(agent__isnull=True)
        .values("bot", "bot__name")
        .annotate(**_aggregates())
        .order_by("-n", "bot")
    )
    by_bot = [
        {
            "bot_id": row["bot"],
            "name": row["bot__name"] or "",
            **_figures(row["n"], row["ok"], row["avg"]),
        }
        for row in bot_rows
    ]
    days = {
        row["day"]: row
        for row in ratings.annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day")
        .annotate(**_aggregates())
        .order_by("day")
    }
    daily = []
    for day in period.days:
        row = days.get(day)
        daily.append(
            {
                "date": day.isoformat(),
                **(_figures(row["n"], row["ok"], row["avg"]) if row else _figures(0, 0, None)),
            }
        )

    return {
        **_summed(days.values()),
        "by_agent": by_agent,
        "bot": _summed(bot_rows),
        "by_bot": by_bot,
        "daily": daily,
    }
