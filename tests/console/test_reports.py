"""The console's transcript downloads and reports page (helpdesk/console/urls_reports.py).

Until the project's urls.py includes ``urls_reports``, these tests mount it themselves next to
the real URLs (this module is their urlconf); once it is included they run against the real one.
"""

import json
import re
from datetime import timedelta

import pytest
from django.urls import include, path
from django.utils import timezone

import helpdesk.urls
from helpdesk.conversations.models import Conversation, Message
from helpdesk.conversations.services import Sender
from helpdesk.tenants.models import Membership
from tests.factories import ConversationFactory, MembershipFactory, post_message

urlpatterns = list(helpdesk.urls.urlpatterns)
if not any(getattr(p, "namespace", None) == "console_reports" for p in urlpatterns):
    urlpatterns.insert(0, path("console/", include("helpdesk.console.urls_reports")))

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

METRICS_PAGE = "/console/metrics/"
METRICS_API = "/console/api/metrics"


def transcript_url(conversation_id, extension) -> str:
    return f"/console/api/conversations/{conversation_id}/transcript.{extension}"


@pytest.fixture
def story(conversation, agent):
    for sender, text, kind in [
        (Sender.contact(), "where is my order?", Message.Kind.TEXT),
        (Sender.bot(), "Let me check.", Message.Kind.TEXT),
        (Sender.agent(agent), "VIP", Message.Kind.NOTE),
        (Sender.agent(agent), "It ships today.", Message.Kind.TEXT),
    ]:
        post_message(conversation, text, sender, kind)
    return conversation


def assert_json_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == code


# --- Transcript downloads ------------------------------------------------------------------------


def test_an_agent_downloads_the_json_transcript(agent_client, story):
    response = agent_client.get(transcript_url(story.pk, "json"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    day = story.created_at.date().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="conversation-{story.pk}-{day}.json"'
    )
    assert "no-store" in response["Cache-Control"]
    body = json.loads(response.content)
    assert body["conversation"]["id"] == story.pk
    assert [(m["sender"], m["kind"], m["text"]) for m in body["messages"]] == [
        ("contact", "text", "where is my order?"),
        ("bot", "text", "Let me check."),
        ("agent", "note", "VIP"),
        ("agent", "text", "It ships today."),
    ]


def test_an_agent_downloads_the_text_transcript(agent_client, story, agent):
    response = agent_client.get(transcript_url(story.pk, "txt"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="conversation-{story.pk}-'
    )
    lines = response.content.decode().splitlines()
    assert lines[0] == f"Conversation #{story.pk}"
    stamp = r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] "
    assert re.fullmatch(stamp + "Customer: where is my order\\?", lines[-4])
    assert re.fullmatch(stamp + f"{agent.username} \\(private note\\): VIP", lines[-2])


def test_a_tenant_admin_downloads_transcripts_too(client, tenant_admin, story):
    client.force_login(tenant_admin)

    assert client.get(transcript_url(story.pk, "json")).status_code == 200


@pytest.mark.parametrize("extension", ["json", "txt"])
def test_another_tenants_conversation_is_a_404_like_a_missing_one(
    agent_client, other_tenant, extension
):
    foreign = ConversationFactory(tenant=other_tenant)

    foreign_response = agent_client.get(transcript_url(foreign.pk, extension))
    missing_response = agent_client.get(transcript_url(999_999, extension))
    garbage_response = agent_client.get(transcript_url("abc", extension))

    assert_json_error(foreign_response, 404, "not_found")
    assert foreign_response.content == missing_response.content
    assert_json_error(garbage_response, 404, "not_found")


@pytest.mark.parametrize("extension", ["json", "txt"])
def test_transcripts_need_a_console_member(client, outsider, story, extension):
    assert_json_error(client.get(transcript_url(story.pk, extension)), 403, "unauthenticated")
    client.force_login(outsider)
    assert_json_error(client.get(transcript_url(story.pk, extension)), 403, "forbidden")


def test_a_disabled_membership_loses_the_transcripts(agent_client, agent, story):
    Membership.objects.filter(user=agent).update(is_active=False)

    assert_json_error(agent_client.get(transcript_url(story.pk, "json")), 403, "forbidden")


def test_transcripts_are_get_only(agent_client, story):
    assert agent_client.post(transcript_url(story.pk, "json")).status_code == 405


# --- Metrics API ---------------------------------------------------------------------------------


@pytest.fixture
def activity(tenant, other_tenant):
    """Today in A: two conversations, one handed off; 40 days ago: one; B: three today."""
    handed = ConversationFactory(tenant=tenant, status="queued", handoff_reason="asked")
    Conversation.objects.filter(pk=handed.pk).update(
        queued_at=timezone.now() + timedelta(seconds=5)
    )
    ConversationFactory(tenant=tenant, status="bot")
    old = ConversationFactory(tenant=tenant)
    Conversation.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    for _ in range(3):
        ConversationFactory(tenant=other_tenant)


def test_the_metrics_api_answers_the_agents_tenants_numbers(agent_client, activity):
    response = agent_client.get(METRICS_API)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    assert set(body) == {
        "period",
        "conversations",
        "first_response",
        "resolution",
        "handoff",
        "tokens",
        "distribution",
        "daily",
        "csat",
    }
    assert body["period"]["days"] == 30
    assert len(body["daily"]) == 30
    assert body["conversations"]["started"] == 2
    assert body["handoff"]["rate"] == 0.5
    assert body["handoff"]["reasons"] == [{"reason": "asked", "count": 1}]
    assert body["daily"][-1]["conversations"] == 2


def test_the_metrics_api_takes_a_number_of_days(agent_client, activity):
    week = agent_client.get(METRICS_API, {"days": "7"}).json()
    quarter = agent_client.get(METRICS_API, {"days": "90"}).json()

    assert (week["period"]["days"], len(week["daily"])) == (7, 7)
    assert week["conversations"]["started"] == 2
    assert quarter["conversations"]["started"] == 3


@pytest.mark.parametrize("days", ["0", "367", "-1", "7.5", "abc", "１", "9999"])
def test_a_bad_number_of_days_is_a_400(agent_client, days):
    response = agent_client.get(METRICS_API, {"days": days})

    assert_json_error(response, 400, "invalid")
    assert response.json()["error"]["field"] == "days"


def test_the_metrics_api_needs_a_console_member(client, outsider):
    assert_json_error(client.get(METRICS_API), 403, "unauthenticated")
    client.force_login(outsider)
    assert_json_error(client.get(METRICS_API), 403, "forbidden")


def test_another_tenants_agent_sees_only_their_own_numbers(client, other_tenant, activity):
    client.force_login(MembershipFactory(tenant=other_tenant).user)

    assert client.get(METRICS_API).json()["conversations"]["started"] == 3


# --- The page ------------------------------------------------------------------------------------


def page_bootstrap(response) -> dict:
    match = re.search(
        r'<script id="metrics-bootstrap" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, "the page carries its bootstrap data"
    return json.loads(match[1])


@pytest.mark.parametrize("role", ["agent", "admin"])
def test_agents_and_admins_get_the_reports_page(client, tenant, role):
    user = MembershipFactory(tenant=tenant, role=role).user
    client.force_login(user)

    response = client.get(METRICS_PAGE)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    for testid in [
        "kpi-started",
        "kpi-first-response",
        "kpi-resolution",
        "kpi-bot-share",
        "kpi-handoff",
        "kpi-tokens",
        "chart-daily",
        "chart-times",
        "chart-reasons",
        "chart-tokens",
        "range-7",
        "range-30",
        "range-90",
    ]:
        assert f'data-testid="{testid}"' in html, testid
    # The chart library is served from our own static files, never from a CDN.
    assert "/static/helpdesk/vendor/chartjs/chart.umd.min.js" in html
    assert "/static/helpdesk/console/metrics.js" in html
    assert "https://" not in re.sub(r'href="https://[^"]*"', "", html)
    bootstrap = page_bootstrap(response)
    # The translations of the page's language come with it (English: none needed).
    assert bootstrap.pop("language") == "en"
    assert bootstrap.pop("i18n")["catalog"] == {}
    assert bootstrap == {
        "tenant": {"name": tenant.name},
        "ranges": [7, 30, 90],
        "defaultDays": 30,
        "urls": {
            "metrics": METRICS_API,
            "console": "/console/",
            "login": "/console/login/",
        },
    }


def test_anonymous_users_are_sent_to_the_console_login(client):
    response = client.get(METRICS_PAGE)

    assert response.status_code == 302
    assert response["Location"] == "/console/login/?next=/console/metrics/"


def test_users_without_a_membership_get_the_no_access_page(client, outsider):
    client.force_login(outsider)

    response = client.get(METRICS_PAGE)

    assert response.status_code == 403
    assert 'data-testid="no-access"' in response.content.decode()


def test_the_vendored_chart_library_is_the_pinned_release():
    from pathlib import Path

    vendor = Path(__file__).resolve().parents[2] / "static" / "helpdesk" / "vendor" / "chartjs"
    head = (vendor / "chart.umd.min.js").read_text()[:200]

    assert "Chart.js v4.6.1" in head
    assert "MIT License" in (vendor / "LICENSE.md").read_text()
