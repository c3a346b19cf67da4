from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from helpdesk.conversations.assignment import agent_presence_key
from helpdesk.conversations.models import Conversation, Message
from helpdesk.realtime.presence import presence_join
from helpdesk.tenants.models import Membership
from helpdesk.widget.availability import inbox_availability, reply_time_seconds
from helpdesk.widget.models import OpeningHours
from helpdesk.widget.options import widget_options
from tests.factories import BotConfigFactory, ContactFactory, MembershipFactory
from tests.realtime.conftest import ORIGIN

pytestmark = pytest.mark.django_db(transaction=True)


def answered(inbox, *, waited: timedelta, queued=True, days_ago=1, bot_first=False):
    """A conversation of ``inbox`` whose first agent reply came ``waited`` after the customer
    asked for a human."""
    start = timezone.now() - timedelta(days=days_ago)
    queued_at = start + timedelta(seconds=30) if queued else None
    conversation = Conversation.objects.create(
        tenant=inbox.tenant,
        inbox=inbox,
        contact=ContactFactory(tenant=inbox.tenant),
        status=Conversation.Status.RESOLVED,
        queued_at=queued_at,
        first_response_at=start + timedelta(seconds=2) if bot_first else start + waited,
    )
    Conversation.objects.filter(pk=conversation.pk).update(created_at=start)
    seq = 0
    if bot_first:
        seq += 1
        Message.objects.create(
            tenant=inbox.tenant, conversation=conversation, seq=seq, client_id=f"b{seq}",
            sender_type=Message.SenderType.BOT, text="Let me see", created_at=start
            + timedelta(seconds=2),
        )  # fmt: skip
    seq += 1
    Message.objects.create(
        tenant=inbox.tenant, conversation=conversation, seq=seq, client_id=f"a{seq}",
        sender_type=Message.SenderType.AGENT, text="Hello", created_at=(queued_at or start)
        + waited,
    )  # fmt: skip
    return conversation


def test_reply_time_is_the_median_wait_for_an_agent(inbox):
    for minutes in (2, 4, 30):
        answered(inbox, waited=timedelta(minutes=minutes))

    assert reply_time_seconds(inbox) == 240


def test_reply_time_counts_from_the_handoff_not_the_bot_answer(inbox):
    for minutes in (3, 3, 3):
        answered(inbox, waited=timedelta(minutes=minutes), bot_first=True)

    assert reply_time_seconds(inbox) == 180


def test_reply_time_counts_agent_taken_conversations_from_their_start(inbox):
    for minutes in (1, 1, 1):
        answered(inbox, waited=timedelta(minutes=minutes), queued=False)

    assert reply_time_seconds(inbox) == 60


def test_reply_time_needs_enough_recent_answers_of_this_inbox(inbox, tenant):
    from tests.factories import InboxFactory

    answered(inbox, waited=timedelta(minutes=2))
    answered(inbox, waited=timedelta(minutes=2))
    answered(inbox, waited=timedelta(minutes=2), days_ago=8)  # too old
    answered(InboxFactory(tenant=tenant), waited=timedelta(minutes=2))  # another inbox

    assert reply_time_seconds(inbox) is None


def test_reply_time_is_cached_per_inbox(inbox, django_assert_num_queries):
    for _ in range(3):
        answered(inbox, waited=timedelta(minutes=5))
    assert reply_time_seconds(inbox) == 300
    answered(inbox, waited=timedelta(hours=5))

    with django_assert_num_queries(0):
        assert reply_time_seconds(inbox) == 300
    cache.clear()
    assert reply_time_seconds(inbox) == 300  # 5, 5, 5, 300 minutes: median 5 min


def test_availability_closed_with_back_at(inbox):
    inbox.hours_enabled = True
    inbox.time_zone = "Europe/Paris"
    inbox.save()
    OpeningHours.objects.create(
        tenant=inbox.tenant, inbox=inbox, weekday=0, opens=time(9), closes=time(17)
    )
    saturday = datetime(2026, 12, 12, 12, 0, tzinfo=UTC)

    answer = inbox_availability(inbox, saturday)

    assert answer == {
        "open": False,
        "agents_available": False,
        "back_at": "2026-12-14T09:00:00+01:00",
        "reply_time_seconds": None,
        "has_bot": False,
    }
    assert datetime.fromisoformat(answer["back_at"]).tzinfo is not None
    assert (
        inbox_availability(inbox, datetime(2026, 12, 14, 10, tzinfo=ZoneInfo("Europe/Paris")))[
            "back_at"
        ]
        is None
    )


def test_agents_available_needs_online_present_and_room(inbox, tenant):
    membership = MembershipFactory(tenant=tenant, availability=Membership.Availability.ONLINE)
    assert inbox_availability(inbox)["agents_available"] is False  # no console open

    presence_join(agent_presence_key(tenant.pk, membership.user_id))
    assert inbox_availability(inbox)["agents_available"] is True

    membership.max_concurrent_chats = 1
    membership.save()
    Conversation.objects.create(
        tenant=tenant, inbox=inbox, contact=ContactFactory(tenant=tenant),
        status=Conversation.Status.ASSIGNED, assignee=membership.user,
    )  # fmt: skip
    assert inbox_availability(inbox)["agents_available"] is False  # full

    membership.max_concurrent_chats = 5
    membership.availability = Membership.Availability.BUSY
    membership.save()
    assert inbox_availability(inbox)["agents_available"] is False


def test_options_carry_the_hours(inbox, tenant):
    inbox.bot = BotConfigFactory(tenant=tenant)
    inbox.save()

    hours = widget_options(inbox, language="en")["hours"]

    assert hours["open"] is True
    assert hours["has_bot"] is True
    assert set(hours) == {"open", "agents_available", "back_at", "reply_time_seconds", "has_bot"}


# --- GET /widget/api/availability ----------------------------------------------------------------


def get_availability(key, origin=ORIGIN):
    headers = {"Origin": origin} if origin else {}
    return Client().get("/widget/api/availability", {"inbox": key}, headers=headers)


def test_endpoint_answers_with_cors_for_the_inbox_origin(inbox):
    inbox.allowed_origins = ORIGIN
    inbox.save()

    response = get_availability(inbox.public_key)

    assert response.status_code == 200
    assert response.json()["open"] is True
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert "max-age=10" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_endpoint_refuses_a_foreign_origin_without_cors(inbox):
    response = get_availability(inbox.public_key, origin="https://evil.example.com")

    assert response.status_code == 403
    assert response.json()["events"][0]["data"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response


@pytest.mark.parametrize("key", ["nope", "", "x" * 100])
def test_endpoint_refuses_an_unknown_inbox(inbox, key):
    inbox.allowed_origins = ORIGIN
    inbox.save()

    response = get_availability(key)

    assert response.status_code == 401
    assert response.json()["events"][0]["data"]["code"] == "unauthenticated"


def test_endpoint_refuses_an_inactive_inbox(inbox):
    inbox.allowed_origins = ORIGIN
    inbox.is_active = False
    inbox.save()

    assert get_availability(inbox.public_key).status_code == 401


def test_endpoint_answers_preflight(inbox):
    response = Client().options(
        "/widget/api/availability", headers={"Origin": "https://any.example.com"}
    )

    assert response.status_code == 204
    assert "GET" in response["Access-Control-Allow-Methods"]


def test_endpoint_caches_briefly_per_inbox(inbox, tenant):
    inbox.allowed_origins = ORIGIN
    inbox.save()
    assert get_availability(inbox.public_key).json()["agents_available"] is False
    membership = MembershipFactory(tenant=tenant, availability=Membership.Availability.ONLINE)
    presence_join(agent_presence_key(tenant.pk, membership.user_id))

    assert get_availability(inbox.public_key).json()["agents_available"] is False  # cached
    cache.delete(f"widget:availability:{inbox.pk}")
    assert get_availability(inbox.public_key).json()["agents_available"] is True


def test_endpoint_is_rate_limited(inbox, settings, monkeypatch):
    from tests.conftest import fresh_rate_window

    inbox.allowed_origins = ORIGIN
    inbox.save()
    monkeypatch.setattr("helpdesk.widget.availability.RATE_IP_AVAILABILITY", (3, 60))
    fresh_rate_window(60)
    answers = [get_availability(inbox.public_key) for _ in range(4)]

    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert answers[-1]["Retry-After"]
    assert answers[-1]["Access-Control-Allow-Origin"] == ORIGIN


def test_endpoint_only_answers_get(inbox):
    assert Client().post("/widget/api/availability").status_code == 405
