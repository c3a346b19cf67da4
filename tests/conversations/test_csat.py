"""CSAT on the reports: overall, by agent, by bot and per UTC day, from hand-made ratings."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpdesk.conversations.csat import metrics_csat
from helpdesk.conversations.metrics import metrics_period, tenant_metrics
from helpdesk.conversations.models import Conversation, Rating
from helpdesk.tenants.access import display_name
from tests.factories import BotConfigFactory, ConversationFactory, MembershipFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def at(day, hour=12):
    return datetime(2026, 11, day, hour, tzinfo=UTC)


@pytest.fixture
def period():
    return metrics_period(days=7, now=NOW)  # 18th to 24th


def rating(tenant, score, when, agent=None, bot=None, scale="five"):
    conversation = ConversationFactory(tenant=tenant, status=Conversation.Status.RESOLVED)
    made = Rating.objects.create(
        tenant=tenant, conversation=conversation, score=score, scale=scale, agent=agent, bot=bot
    )
    Rating.objects.filter(pk=made.pk).update(created_at=when)
    return made


@pytest.fixture
def data(tenant, other_tenant):
    ann = MembershipFactory(tenant=tenant, user__first_name="Ann").user
    bob = MembershipFactory(tenant=tenant, user__first_name="Bob").user
    bot = BotConfigFactory(tenant=tenant, name="Helper")
    rating(tenant, 5, at(20, 9), agent=ann)
    rating(tenant, 4, at(20, 23), agent=ann)
    rating(tenant, 2, at(21), agent=ann)
    rating(tenant, 5, at(21), agent=bob, scale="thumbs")
    rating(tenant, 1, at(22), agent=bob, scale="thumbs")
    rating(tenant, 5, at(23), bot=bot)
    rating(tenant, 3, at(24, 23), bot=bot)
    rating(tenant, 1, at(24))  # no agent, no bot (the inbox had none)
    rating(tenant, 5, at(17, 23))  # a day before the period
    rating(other_tenant, 1, at(22), agent=MembershipFactory(tenant=other_tenant).user)
    return {"ann": ann, "bob": bob, "bot": bot}


def test_overall_csat_is_satisfied_over_all_ratings(tenant, data, period):
    csat = metrics_csat(tenant=tenant, period=period)

    assert (csat["count"], csat["satisfied"]) == (8, 4)
    assert csat["csat"] == 0.5
    assert csat["average"] == round((5 + 4 + 2 + 5 + 1 + 5 + 3 + 1) / 8, 2)


def test_csat_by_agent(tenant, data, period):
    by_agent = metrics_csat(tenant=tenant, period=period)["by_agent"]

    assert by_agent == [
        {
            "agent_id": data["ann"].pk,
            "name": display_name(data["ann"]),
            "count": 3,
            "satisfied": 2,
            "csat": 0.6667,
            "average": 3.67,
        },
        {
            "agent_id": data["bob"].pk,
            "name": display_name(data["bob"]),
            "count": 2,
            "satisfied": 1,
            "csat": 0.5,
            "average": 3.0,
        },
    ]


def test_csat_of_the_bot_is_the_ratings_no_agent_answered(tenant, data, period):
    csat = metrics_csat(tenant=tenant, period=period)

    assert csat["bot"] == {"count": 3, "satisfied": 1, "csat": 0.3333, "average": 3.0}
    assert csat["by_bot"] == [
        {"bot_id": data["bot"].pk, "name": "Helper", "count": 2, "satisfied": 1, "csat": 0.5,
         "average": 4.0},
        {"bot_id": None, "name": "", "count": 1, "satisfied": 0, "csat": 0.0, "average": 1.0},
    ]  # fmt: skip


def test_csat_per_utc_day_has_every_day(tenant, data, period):
    daily = metrics_csat(tenant=tenant, period=period)["daily"]

    assert [d["date"] for d in daily] == [f"2026-11-{n}" for n in range(18, 25)]
    by_date = {d["date"]: d for d in daily}
    assert by_date["2026-11-18"] == {"date": "2026-11-18", "count": 0, "satisfied": 0,
                                     "csat": None, "average": None}  # fmt: skip
    assert (by_date["2026-11-20"]["count"], by_date["2026-11-20"]["csat"]) == (2, 1.0)
    assert (by_date["2026-11-21"]["count"], by_date["2026-11-21"]["csat"]) == (2, 0.5)
    assert (by_date["2026-11-24"]["count"], by_date["2026-11-24"]["average"]) == (2, 2.0)


def test_no_ratings_give_zeros_and_nones(tenant, period):
    csat = metrics_csat(tenant=tenant, period=period)

    assert (csat["count"], csat["csat"], csat["average"]) == (0, None, None)
    assert csat["by_agent"] == []
    assert csat["by_bot"] == []
    assert csat["bot"] == {"count": 0, "satisfied": 0, "csat": None, "average": None}
    assert len(csat["daily"]) == 7


def test_the_report_carries_csat_in_a_fixed_number_of_queries(tenant, data, period):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            report = tenant_metrics(tenant=tenant, period=period)
        return len(captured), report

    before, report = queries()
    for n in range(6):
        rating(tenant, 1 + n % 5, at(22), agent=MembershipFactory(tenant=tenant).user)

    after, report = queries()
    assert after == before
    assert report["csat"]["count"] == 14
