"""What the model cost, on the hand-built conversations of tests/conversations/test_metrics.py."""

# ruff: noqa: F811  (the fixtures data and period are imported, then named as arguments)

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpdesk.ai.metrics import metrics_tokens, metrics_tokens_daily
from helpdesk.ai.models import TokenUsage
from helpdesk.console.metrics import tenant_report
from tests.conversations.test_metrics import (  # noqa: F401  (data and period are fixtures)
    at,
    build,
    conversation,
    data,
    message,
    period,
    usage,
)
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_tokens_by_model_and_purpose(tenant, data, period):
    agent = MembershipFactory(tenant=tenant).user
    TokenUsage.objects.create(
        tenant=tenant,
        conversation=data["c4"],
        purpose=TokenUsage.Purpose.SUGGESTION,
        user=agent,
        model="gpt-4o-mini",
        prompt_tokens=40,
        completion_tokens=5,
        source="api",
    )
    TokenUsage.objects.filter(purpose="suggestion").update(created_at=at(21, 12))

    assert metrics_tokens(tenant=tenant, period=period) == {
        "replies": 4,
        "prompt": 390,
        "completion": 65,
        "total": 455,
        "by_model": [
            {"model": "faq", "replies": 1, "prompt": 50, "completion": 10, "total": 60},
            {"model": "gpt-4o-mini", "replies": 3, "prompt": 340, "completion": 55, "total": 395},
        ],
        "by_purpose": [
            {"purpose": "reply", "replies": 3, "prompt": 350, "completion": 60, "total": 410},
            {"purpose": "suggestion", "replies": 1, "prompt": 40, "completion": 5, "total": 45},
        ],
    }


def test_tokens_count_on_the_day_they_were_spent(tenant, period):
    """A conversation started before the period whose bot spent tokens inside it."""
    old = conversation(tenant, at(10, 10))
    reply = message(old, "bot", after=1)
    usage(reply, prompt=7, completion=3, when=at(19, 8))

    assert metrics_tokens(tenant=tenant, period=period)["total"] == 10
    daily = metrics_tokens_daily(tenant=tenant, period=period)
    assert daily[1] == {"date": "2026-11-19", "prompt_tokens": 7, "completion_tokens": 3}
    assert len(daily) == 7


def test_the_report_puts_each_days_tokens_in_that_days_row(tenant, data, period):
    report = tenant_report(tenant=tenant, period=period)

    assert report["tokens"]["total"] == 410
    assert report["daily"][2] == {
        "date": "2026-11-20",
        "conversations": 2,
        "handoffs": 1,
        "resolved_by_bot": 1,
        "prompt_tokens": 300,
        "completion_tokens": 50,
    }
    assert report["daily"][0]["prompt_tokens"] == 0


def test_another_tenants_tokens_are_its_own(other_tenant, data, period):
    assert metrics_tokens(tenant=other_tenant, period=period)["total"] == 10_000


def test_no_tokens_gives_zeros(tenant, period):
    assert metrics_tokens(tenant=tenant, period=period) == {
        "replies": 0,
        "prompt": 0,
        "completion": 0,
        "total": 0,
        "by_model": [],
        "by_purpose": [],
    }


def test_the_whole_report_is_a_fixed_number_of_queries(tenant, data, period):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            tenant_report(tenant=tenant, period=period)
        return len(captured)

    before = queries()
    build(tenant)  # twice the data

    assert queries() == before
    assert before <= 24
