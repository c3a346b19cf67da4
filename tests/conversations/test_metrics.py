"""The metrics selectors, on hand-built conversations with every time set explicitly.

The period is the 7 UTC days ending on 2026-11-24 (18th to 24th). Tenant A's conversations:

| conv | started (UTC) | first answer | handoff               | resolved | notes                  |
|------|---------------|--------------|-----------------------|----------|------------------------|
| c1   | 20th 10:00    | bot, 2 s     | —                     | 300 s    | the bot alone          |
| c2   | 20th 11:00    | bot, 4 s     | "asked for a human"   | 1800 s   | taken over, agent wrote|
| c3   | 21st 09:00    | bot, 6 s     | "asked for a human"   | —        | still queued           |
| c4   | 21st 10:00    | bot, 8 s     | "bot fallback"        | —        | accepted, agent wrote  |
| c5   | 22nd 08:00    | agent, 120 s | (no bot: queued at 0) | 600 s    | inbox without a bot    |
| c6   | 22nd 09:00    | —            | —                     | —        | no answer yet          |
| c7   | 23rd 10:00    | bot, 10 s    | —                     | 3600 s   | an agent's private note|
| c8   | 24th 23:59:59 | bot, 2 s     | —                     | 120 s    | the bot alone          |

plus one conversation a second before the period and, in tenant B, a busy conversation that
must never show in A's numbers.
"""

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from helpdesk.ai.models import TokenUsage
from helpdesk.conversations.metrics import (
    NO_REASON,
    duration_percentiles,
    metrics_conversations,
    metrics_daily,
    metrics_first_response,
    metrics_handoff_reasons,
    metrics_period,
    metrics_resolution,
    metrics_time_distribution,
    tenant_metrics,
)
from helpdesk.conversations.models import Conversation, Message
from helpdesk.core.errors import InvalidInput
from tests.factories import ConversationFactory, MembershipFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
_ids = count(1)


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


@pytest.fixture
def period():
    return metrics_period(days=7, now=NOW)


def conversation(
    tenant,
    started: datetime,
    *,
    status="bot",
    first: float | None = None,
    queued: float | None = None,
    resolved: float | None = None,
    reason="",
    assignee=None,
) -> Conversation:
    """A conversation whose timestamps are offsets in seconds from ``started``."""
    conv = ConversationFactory(tenant=tenant, status=status, assignee=assignee)

    def offset(seconds):
        return None if seconds is None else started + timedelta(seconds=seconds)

    Conversation.objects.filter(pk=conv.pk).update(
        created_at=started,
        first_response_at=offset(first),
        queued_at=offset(queued),
        resolved_at=offset(resolved),
        handoff_reason=reason,
    )
    conv.refresh_from_db()
    return conv


def message(conv, sender, *, after: float = 0, kind="text", text="…", user=None, **metadata):
    seq = Message.objects.filter(conversation=conv).count() + 1
    return Message.objects.create(
        tenant=conv.tenant,
        conversation=conv,
        seq=seq,
        client_id=f"m{next(_ids)}",
        sender_type=sender,
        sender_user=user,
        kind=kind,
        text=text,
        metadata=metadata,
        created_at=conv.created_at + timedelta(seconds=after),
    )


def usage(reply: Message, *, prompt: int, completion: int, model="gpt-4o-mini", when=None):
    row = TokenUsage.objects.create(
        tenant=reply.tenant,
        conversation=reply.conversation,
        message=reply,
        model=model,
        prompt_tokens=prompt,
        completion_tokens=completion,
        source="api",
    )
    TokenUsage.objects.filter(pk=row.pk).update(created_at=when or reply.created_at)
    return row


def handoff(conv, after: float, reason: str):
    message(conv, "system", after=after, kind="event", event="handoff", reason=reason)


def build(tenant) -> dict[str, Conversation]:
    """Tenant A's conversations from the module docstring."""
    agent = MembershipFactory(tenant=tenant, user__first_name="Alice").user
    c = {}

    c["c1"] = conversation(tenant, at(20, 10), status="resolved", first=2, resolved=300)
    message(c["c1"], "contact")
    usage(message(c["c1"], "bot", after=2), prompt=100, completion=20)

    c["c2"] = conversation(
        tenant, at(20, 11), status="resolved", first=4, queued=60, resolved=1800,
        reason="asked for a human", assignee=agent,
    )  # fmt: skip
    message(c["c2"], "contact")
    usage(message(c["c2"], "bot", after=4), prompt=200, completion=30)
    handoff(c["c2"], 60, "asked for a human")
    message(c["c2"], "system", after=90, kind="event", event="takeover", by=agent.pk)
    message(c["c2"], "agent", after=95, user=agent)

    c["c3"] = conversation(
        tenant, at(21, 9), status="queued", first=6, queued=30, reason="asked for a human"
    )
    message(c["c3"], "contact")
    usage(message(c["c3"], "bot", after=6), prompt=50, completion=10, model="faq")
    handoff(c["c3"], 30, "asked for a human")

    c["c4"] = conversation(
        tenant, at(21, 10), status="assigned", first=8, queued=40, reason="bot fallback",
        assignee=agent,
    )  # fmt: skip
    message(c["c4"], "contact")
    message(c["c4"], "bot", after=8)
    handoff(c["c4"], 40, "bot fallback")
    message(c["c4"], "system", after=50, kind="event", event="accept", by=agent.pk)
    message(c["c4"], "agent", after=55, user=agent)

    c["c5"] = conversation(
        tenant, at(22, 8), status="resolved", first=120, queued=0, resolved=600,
        reason="this inbox has no bot", assignee=agent,
    )  # fmt: skip
    message(c["c5"], "contact")
    message(c["c5"], "agent", after=120, user=agent)

    c["c6"] = conversation(tenant, at(22, 9))
    message(c["c6"], "contact")

    c["c7"] = conversation(tenant, at(23, 10), status="resolved", first=10, resolved=3600)
    message(c["c7"], "contact")
    message(c["c7"], "bot", after=10)
    message(c["c7"], "agent", after=20, kind="note", user=agent)

    c["c8"] = conversation(tenant, at(24, 23, 59, 59), status="resolved", first=2, resolved=120)
    message(c["c8"], "contact")
    message(c["c8"], "bot", after=2)

    # A second before the period: resolved by the bot, with tokens. Counted nowhere.
    before = conversation(tenant, at(17, 23, 59, 59), status="resolved", first=0, resolved=5)
    usage(message(before, "bot"), prompt=999, completion=999)
    return c


def build_other(tenant):
    """Tenant B: a handed-off, bot-resolved-looking, token-heavy conversation in the period."""
    conv = conversation(
        tenant, at(20, 10), status="resolved", first=1, queued=5, resolved=7,
        reason="asked for a human",
    )  # fmt: skip
    usage(message(conv, "bot", after=1), prompt=5000, completion=5000, model="gpt-4o")
    handoff(conv, 5, "asked for a human")
    quiet = conversation(tenant, at(21, 10), status="resolved", first=3, resolved=9)
    message(quiet, "bot", after=3)


@pytest.fixture
def data(tenant, other_tenant):
    built = build(tenant)
    build_other(other_tenant)
    return built


# --- The period ----------------------------------------------------------------------------------


def test_the_period_is_whole_utc_days_ending_today():
    period = metrics_period(days=7, now=datetime(2026, 11, 24, 23, 30, tzinfo=UTC))

    assert period.start == at(18)
    assert period.end == at(25)
    assert [d.isoformat() for d in period.days] == [f"2026-11-{d}" for d in range(18, 25)]


def test_the_default_period_is_30_days():
    assert len(metrics_period().days) == 30


@pytest.mark.parametrize("days", [0, -1, 367, "7", True, 7.0])
def test_a_bad_number_of_days_is_invalid(days):
    with pytest.raises(InvalidInput):
        metrics_period(days=days)


# --- Volumes, the bot's share and handoffs --------------------------------------------------------


def test_conversation_counts(tenant, data, period):
    assert metrics_conversations(tenant=tenant, period=period) == {
        "started": 8,
        "resolved": 5,
        "open": 3,
        "started_with_bot": 7,  # all but c5, whose inbox has no bot
        "handed_off": 3,  # c2, c3, c4
        "handoff_rate": 0.4286,  # 3 / 7
        "resolved_by_bot": 2,  # c1, c8 (c7 has an agent's note)
        "bot_resolution_share": 0.4,  # 2 / 5
    }


def test_handoff_reasons_most_frequent_first(tenant, data, period):
    assert metrics_handoff_reasons(tenant=tenant, period=period) == [
        {"reason": "asked for a human", "count": 2},
        {"reason": "bot fallback", "count": 1},
    ]


def test_a_handoff_without_a_reason_is_listed_as_such(tenant, period):
    conv = conversation(tenant, at(20, 10), status="queued", queued=30)
    handoff(conv, 30, "")

    assert metrics_handoff_reasons(tenant=tenant, period=period) == [
        {"reason": NO_REASON, "count": 1}
    ]


def test_a_handoff_event_counts_even_without_queued_at(tenant, period):
    """Queued and then accepted: whatever becomes of queued_at, the event records the handoff."""
    conv = conversation(tenant, at(20, 10), status="resolved", first=2, resolved=60)
    handoff(conv, 10, "asked for a human")

    counts = metrics_conversations(tenant=tenant, period=period)

    assert (counts["started_with_bot"], counts["handed_off"], counts["resolved_by_bot"]) == (
        1,
        1,
        0,
    )


@pytest.mark.parametrize(
    "involvement",
    [
        {"event": "takeover"},
        {"event": "accept"},
        {"event": "assign"},
        {"event": "transfer"},
        {"event": "reopen", "by": 1},
        {"event": "reopen", "to": 1},
        {"agent_message": "text"},
        {"agent_message": "note"},
        {"assignee": True},
    ],
)
def test_any_agent_involvement_means_not_resolved_by_the_bot(tenant, agent, period, involvement):
    conv = conversation(
        tenant,
        at(20, 10),
        status="resolved",
        first=2,
        resolved=60,
        assignee=agent if involvement.get("assignee") else None,
    )
    message(conv, "bot", after=2)
    if "event" in involvement:
        message(conv, "system", after=5, kind="event", **involvement)
    if "agent_message" in involvement:
        message(conv, "agent", after=5, kind=involvement["agent_message"], user=agent)

    assert metrics_conversations(tenant=tenant, period=period)["resolved_by_bot"] == 0


def test_a_customer_reopening_to_the_bot_keeps_it_the_bots(tenant, period):
    conv = conversation(tenant, at(20, 10), status="resolved", first=2, resolved=600)
    message(conv, "bot", after=2)
    message(conv, "system", after=300, kind="event", event="reopen")

    assert metrics_conversations(tenant=tenant, period=period)["resolved_by_bot"] == 1


# --- Times ---------------------------------------------------------------------------------------


def test_first_response_time_overall_and_by_responder(tenant, data, period):
    # Answered: 2, 2, 4, 6, 8, 10 (bot) and 120 (agent) seconds.
    assert metrics_first_response(tenant=tenant, period=period) == {
        "count": 7,
        "median": 6.0,
        "p90": 54.0,  # rank 5.4: 10 + 0.4 × (120 − 10)
        "by_responder": {
            "bot": {"count": 6, "median": 5.0, "p90": 9.0},
            "agent": {"count": 1, "median": 120.0, "p90": 120.0},
        },
    }


def test_an_interrupted_empty_bot_reply_is_not_the_first_response(tenant, agent, period):
    conv = conversation(tenant, at(20, 10), status="assigned", first=30, assignee=agent)
    message(conv, "contact")
    message(conv, "bot", after=1, text="")  # stopped by a takeover before its first word
    message(conv, "agent", after=30, user=agent)

    by = metrics_first_response(tenant=tenant, period=period)["by_responder"]

    assert (by["bot"]["count"], by["agent"]["count"]) == (0, 1)


def test_resolution_time(tenant, data, period):
    # Resolved after 120, 300, 600, 1800 and 3600 seconds.
    assert metrics_resolution(tenant=tenant, period=period) == {
        "count": 5,
        "median": 600.0,
        "p90": 2880.0,  # rank 3.6: 1800 + 0.6 × 1800
    }


def test_a_reopened_conversation_has_no_resolution_time(tenant, agent, period):
    conversation(tenant, at(20, 10), status="assigned", resolved=60, assignee=agent)

    assert metrics_resolution(tenant=tenant, period=period)["count"] == 0


def test_percentiles_interpolate_like_percentile_cont(tenant, period):
    for seconds in (1, 2, 3, 4, 10):
        conversation(tenant, at(20, 10), first=seconds)
    rows = Conversation.objects.filter(tenant=tenant)
    from helpdesk.conversations.metrics import _first_response_duration

    result = duration_percentiles(rows, _first_response_duration(), (0.0, 0.25, 0.5, 0.9, 1.0))

    # numpy.percentile([1, 2, 3, 4, 10], [0, 25, 50, 90, 100]) == [1, 2, 3, 7.6, 10]
    assert result == {"count": 5, "p0": 1.0, "p25": 2.0, "median": 3.0, "p90": 7.6, "p100": 10.0}


def test_sub_second_durations_keep_their_milliseconds(tenant, period):
    conv = conversation(tenant, at(20, 10))
    Conversation.objects.filter(pk=conv.pk).update(
        first_response_at=at(20, 10) + timedelta(milliseconds=1250)
    )

    assert metrics_first_response(tenant=tenant, period=period)["median"] == 1.25


def test_time_distribution(tenant, data, period):
    assert metrics_time_distribution(tenant=tenant, period=period) == {
        "buckets": [
            "< 30 s",
            "30 s – 2 min",
            "2 – 10 min",
            "10 – 60 min",
            "1 – 4 h",
            "4 – 24 h",
            "> 1 day",
        ],
        # A bucket holds its lower bound: 120 s is "2 – 10 min", 600 s is "10 – 60 min".
        "first_response": [6, 0, 1, 0, 0, 0, 0],
        "resolution": [0, 0, 2, 2, 1, 0, 0],
    }


# --- The daily series ---------------------------------------------------------------------------


def test_the_daily_series_has_every_day(tenant, data, period):
    def day(date, conversations=0, handoffs=0, bot=0):
        return {
            "date": date,
            "conversations": conversations,
            "handoffs": handoffs,
            "resolved_by_bot": bot,
        }

    assert metrics_daily(tenant=tenant, period=period) == [
        day("2026-11-18"),
        day("2026-11-19"),
        day("2026-11-20", conversations=2, handoffs=1, bot=1),
        day("2026-11-21", conversations=2, handoffs=2),
        day("2026-11-22", conversations=2),
        day("2026-11-23", conversations=1),
        day("2026-11-24", conversations=1, bot=1),
    ]


@override_settings(TIME_ZONE="Asia/Shanghai")
def test_days_are_utc_days_whatever_the_time_zone_setting(tenant, period):
    # 23:59:59 UTC on the 24th is already the 25th in Shanghai.
    conversation(tenant, at(24, 23, 59, 59))

    daily = metrics_daily(tenant=tenant, period=period)

    assert [d["conversations"] for d in daily] == [0, 0, 0, 0, 0, 0, 1]


# --- Tenants, emptiness, cost ---------------------------------------------------------------------


def test_another_tenants_numbers_are_its_own(other_tenant, data, period):
    metrics = tenant_metrics(tenant=other_tenant, period=period)

    assert metrics["conversations"]["started"] == 2
    assert metrics["conversations"]["handed_off"] == 1
    assert metrics["conversations"]["resolved_by_bot"] == 1
    assert metrics["handoff"]["reasons"] == [{"reason": "asked for a human", "count": 1}]


def test_no_data_gives_zeros_and_nones(tenant, other_tenant, period):
    build_other(other_tenant)

    metrics = tenant_metrics(tenant=tenant, period=period)

    assert metrics["conversations"] == {
        "started": 0,
        "resolved": 0,
        "open": 0,
        "started_with_bot": 0,
        "handed_off": 0,
        "handoff_rate": None,
        "resolved_by_bot": 0,
        "bot_resolution_share": None,
    }
    assert metrics["first_response"] == {
        "count": 0,
        "median": None,
        "p90": None,
        "by_responder": {
            "bot": {"count": 0, "median": None, "p90": None},
            "agent": {"count": 0, "median": None, "p90": None},
        },
    }
    assert metrics["resolution"] == {"count": 0, "median": None, "p90": None}
    assert metrics["handoff"] == {
        "started_with_bot": 0,
        "handed_off": 0,
        "rate": None,
        "reasons": [],
    }
    assert metrics["distribution"]["first_response"] == [0] * 7
    assert len(metrics["daily"]) == 7
    assert all(d["conversations"] == 0 for d in metrics["daily"])


def test_the_whole_report_is_a_fixed_number_of_queries(tenant, data, period):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            tenant_metrics(tenant=tenant, period=period)
        return len(captured)

    before = queries()
    build(tenant)  # twice the data
    build(tenant)

    assert queries() == before
    assert before <= 25  # 20, and 5 for satisfaction (helpdesk/conversations/csat.py)
    assert tenant_metrics(tenant=tenant, period=period)["conversations"]["started"] == 24
