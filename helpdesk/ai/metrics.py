"""What a tenant's model cost: tokens per model, per purpose and per day, counted on the day
they were spent (unlike the conversation figures, which count by the day a conversation
started). Read-only selectors on the periods of helpdesk/conversations/metrics.py."""

from datetime import UTC

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from helpdesk.ai.models import TokenUsage
from helpdesk.conversations.metrics import MetricsPeriod, metrics_period
from helpdesk.tenants.models import Tenant

_SUMS = {"prompt": Sum("prompt_tokens"), "completion": Sum("completion_tokens")}


def _counts(row: dict) -> dict:
    prompt, completion = row["prompt"] or 0, row["completion"] or 0
    return {
        "replies": row["replies"],
        "prompt": prompt,
        "completion": completion,
        "total": prompt + completion,
    }


def metrics_tokens(*, tenant: Tenant, period: MetricsPeriod | None = None) -> dict:
    """Tokens spent in the period: totals, per model and per purpose (the bot's replies, the
    agents' suggested replies, summaries). ``replies`` counts calls to the model."""
    period = period or metrics_period()
    usages = TokenUsage.objects.filter(
        tenant=tenant, created_at__gte=period.start, created_at__lt=period.end
    )
    totals = usages.aggregate(replies=Count("pk"), **_SUMS)
    by_model = usages.values("model").annotate(replies=Count("pk"), **_SUMS).order_by("model")
    by_purpose = usages.values("purpose").annotate(replies=Count("pk"), **_SUMS).order_by("purpose")
    return {
        **_counts(totals),
        "by_model": [{"model": row["model"] or "(unknown)", **_counts(row)} for row in by_model],
        "by_purpose": [{"purpose": row["purpose"], **_counts(row)} for row in by_purpose],
    }


def metrics_tokens_daily(*, tenant: Tenant, period: MetricsPeriod | None = None) -> list[dict]:
    """One row per UTC day of the period, days without tokens included: prompt and completion
    tokens spent that day."""
    period = period or metrics_period()
    rows = (
        TokenUsage.objects.filter(
            tenant=tenant, created_at__gte=period.start, created_at__lt=period.end
        )
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day")
        .annotate(**_SUMS)
        .order_by("day")
    )
    by_day = {row["day"]: row for row in rows}
    return [
        {
            "date": day.isoformat(),
            "prompt_tokens": by_day.get(day, {}).get("prompt") or 0,
            "completion_tokens": by_day.get(day, {}).get("completion") or 0,
        }
        for day in period.days
    ]
