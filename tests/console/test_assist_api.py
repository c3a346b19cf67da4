"""The console's agent-assist endpoints: asking for a suggested reply or a summary (POST, with the
CSRF token), the conversation's assist state and newest summary, and the knowledge chunks a bot
reply cited — each for the agent's own tenant only."""

import json
import re

import pytest
from django.test import Client

from helpdesk.ai.assist.suggestion import SUGGESTION_RATE
from helpdesk.ai.knowledge.chunking import ChunkDraft
from helpdesk.ai.knowledge.models import KnowledgeChunk, KnowledgeSource
from helpdesk.ai.knowledge.services import source_chunks_replace
from helpdesk.ai.models import ConversationSummary
from helpdesk.ai.tokens import count_tokens
from helpdesk.conversations.services import Sender
from tests.conftest import fresh_rate_window
from tests.console.test_api import assert_error
from tests.factories import (
    BotConfigFactory,
    ConversationFactory,
    InboxFactory,
    ModelBotFactory,
    post_message,
)

pytestmark = pytest.mark.django_db

BASE = "/console/api/conversations"
CHUNKS = "/console/api/knowledge/chunks"


def suggest_url(conversation_id) -> str:
    return f"{BASE}/{conversation_id}/assist/suggest"


def summarize_url(conversation_id) -> str:
    return f"{BASE}/{conversation_id}/assist/summary"


def summary_url(conversation_id) -> str:
    return f"{BASE}/{conversation_id}/summary"


@pytest.fixture
def conversation(tenant):
    bot = ModelBotFactory(tenant=tenant, base_url="http://127.0.0.1:9/v1")
    conversation = ConversationFactory(tenant=tenant, inbox=InboxFactory(tenant=tenant, bot=bot))
    post_message(conversation, "Where is order 1001?", Sender.contact())
    return conversation


@pytest.fixture
def faq_conversation(tenant):
    bot = BotConfigFactory(tenant=tenant, provider="faq")
    conversation = ConversationFactory(tenant=tenant, inbox=InboxFactory(tenant=tenant, bot=bot))
    post_message(conversation, "hello", Sender.contact())
    return conversation


@pytest.fixture
def foreign_conversation(other_tenant):
    bot = ModelBotFactory(tenant=other_tenant, base_url="http://127.0.0.1:9/v1")
    conversation = ConversationFactory(
        tenant=other_tenant, inbox=InboxFactory(tenant=other_tenant, bot=bot)
    )
    post_message(conversation, "another tenant's secret", Sender.contact())
    return conversation


def add_chunks(tenant, title, *texts):
    source = KnowledgeSource.objects.create(tenant=tenant, kind="file", title=title)
    drafts = [
        ChunkDraft(position=n, heading=f"Part {n}", text=text, token_count=count_tokens(text))
        for n, text in enumerate(texts)
    ]
    source_chunks_replace(tenant=tenant, source=source, drafts=drafts)
    return list(KnowledgeChunk.objects.filter(source=source).order_by("position"))


# --- asking -------------------------------------------------------------------------------------


def test_asking_for_a_suggestion_answers_202_with_the_request_id_and_enqueues_one_job(
    agent_client, conversation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as jobs:
        response = agent_client.post(suggest_url(conversation.pk))

    assert response.status_code == 202
    assert re.fullmatch(r"[0-9a-f]{32}", response.json()["request_id"])
    assert len(jobs) == 1
    assert "no-store" in response["Cache-Control"]


def test_asking_for_a_summary_answers_202_with_the_request_id(
    agent_client, conversation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as jobs:
        response = agent_client.post(summarize_url(conversation.pk))

    assert response.status_code == 202
    assert set(response.json()) == {"request_id"}
    assert len(jobs) == 1


@pytest.mark.parametrize("url", [suggest_url, summarize_url])
def test_an_inbox_without_a_model_answers_assist_unavailable_and_enqueues_nothing(
    agent_client, faq_conversation, url, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as jobs:
        response = agent_client.post(url(faq_conversation.pk))

    body = assert_error(response, 409, "assist_unavailable")
    assert "FAQ" in body["error"]["message"]
    assert jobs == []


def test_an_empty_conversation_has_nothing_to_work_from(agent_client, tenant):
    bot = ModelBotFactory(tenant=tenant)
    empty = ConversationFactory(tenant=tenant, inbox=InboxFactory(tenant=tenant, bot=bot))

    assert_error(agent_client.post(suggest_url(empty.pk)), 409, "assist_no_messages")
    assert_error(agent_client.post(summarize_url(empty.pk)), 409, "assist_no_messages")


@pytest.mark.parametrize("url", [suggest_url, summarize_url, summary_url])
def test_another_tenants_conversation_is_a_404_exactly_like_a_missing_one(
    agent_client, foreign_conversation, url
):
    call = agent_client.get if url is summary_url else agent_client.post

    foreign = call(url(foreign_conversation.pk))
    missing = call(url(foreign_conversation.pk + 1000))

    assert_error(foreign, 404, "not_found")
    assert foreign.json() == missing.json()
    assert b"secret" not in foreign.content


@pytest.mark.parametrize("bad_id", ["abc", "0", "-1", "99999999999999999999999999"])
def test_malformed_ids_are_a_json_404(agent_client, bad_id):
    assert_error(agent_client.post(suggest_url(bad_id)), 404, "not_found")
    assert_error(agent_client.get(summary_url(bad_id)), 404, "not_found")


def test_suggestions_past_the_rate_answer_429_with_retry_after(agent_client, conversation):
    fresh_rate_window(SUGGESTION_RATE[1])
    for _ in range(SUGGESTION_RATE[0]):
        assert agent_client.post(suggest_url(conversation.pk)).status_code == 202

    response = agent_client.post(suggest_url(conversation.pk))

    assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) >= 1


# --- who may ask, and how -----------------------------------------------------------------------


@pytest.mark.parametrize("url", [suggest_url, summarize_url])
def test_a_post_without_the_csrf_token_is_refused_in_json(agent, conversation, url):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(agent)

    response = browser.post(url(conversation.pk))

    assert_error(response, 403, "csrf_failed")


def test_a_post_with_the_pages_csrf_token_goes_through(agent, conversation):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(agent)
    page = browser.get("/console/").content.decode()
    bootstrap = json.loads(
        re.search(r'<script id="console-bootstrap" type="application/json">(.*?)</script>', page)[1]
    )

    response = browser.post(suggest_url(conversation.pk), HTTP_X_CSRFTOKEN=bootstrap["csrfToken"])

    assert response.status_code == 202
    assert bootstrap["assist"] == {"chunks": CHUNKS}


@pytest.mark.parametrize("url", [suggest_url, summarize_url])
def test_only_post_is_allowed_for_asking(agent_client, conversation, url):
    response = agent_client.get(url(conversation.pk))

    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "POST"


@pytest.mark.parametrize("url", [suggest_url, summarize_url, summary_url])
def test_anonymous_and_outsiders_get_a_json_403(client, outsider, conversation, url):
    call = client.get if url is summary_url else client.post

    assert_error(call(url(conversation.pk)), 403, "unauthenticated")
    client.force_login(outsider)
    assert_error(call(url(conversation.pk)), 403, "forbidden")


# --- the assist state and the newest summary ----------------------------------------------------


def test_the_state_says_assist_is_available_and_there_is_no_summary_yet(agent_client, conversation):
    response = agent_client.get(summary_url(conversation.pk))

    assert response.status_code == 200
    assert response.json() == {"assist": {"available": True, "reason": ""}, "summary": None}


def test_the_state_says_why_assist_is_unavailable(agent_client, faq_conversation):
    body = agent_client.get(summary_url(faq_conversation.pk)).json()

    assert body["assist"] == {
        "available": False,
        "reason": "This inbox's bot answers from the FAQ, without a language model.",
    }


def test_the_newest_summary_comes_with_the_messages_written_since(
    agent_client, agent, conversation
):
    ConversationSummary.objects.create(
        tenant=conversation.tenant, conversation=conversation, trigger="handoff", up_to_seq=1,
        text="- old", model="m",
    )  # fmt: skip
    newest = ConversationSummary.objects.create(
        tenant=conversation.tenant, conversation=conversation, trigger="transfer", up_to_seq=1,
        text="- The customer asks where order 1001 is.", model="fake-model",
    )  # fmt: skip
    post_message(conversation, "Hello?", Sender.contact())
    post_message(conversation, "VIP customer", Sender.agent(agent), "note")
    post_message(conversation, "Still there?", Sender.contact())

    summary = agent_client.get(summary_url(conversation.pk)).json()["summary"]

    assert summary == {
        "id": newest.pk,
        "trigger": "transfer",
        "text": "- The customer asks where order 1001 is.",
        "up_to_seq": 1,
        "newer_messages": 2,
        "model": "fake-model",
        "created_at": newest.created_at.isoformat(),
    }


# --- cited chunks -------------------------------------------------------------------------------


def test_cited_chunks_come_with_their_source_in_the_order_asked(agent_client, tenant):
    first, second = add_chunks(tenant, "Shipping guide", "Berlin: two days.", "Munich: three.")

    response = agent_client.get(CHUNKS, {"ids": f"{second.pk},{first.pk}"})

    assert response.status_code == 200
    assert response.json() == {
        "chunks": [
            {
                "id": second.pk,
                "source_id": second.source_id,
                "title": "Shipping guide",
                "heading": "Part 1",
                "text": "Munich: three.",
                "url": "",
            },
            {
                "id": first.pk,
                "source_id": first.source_id,
                "title": "Shipping guide",
                "heading": "Part 0",
                "text": "Berlin: two days.",
                "url": "",
            },
        ]
    }


def test_another_tenants_chunks_are_never_shown(agent_client, tenant, other_tenant):
    [mine] = add_chunks(tenant, "Ours", "Our returns policy.")
    [theirs] = add_chunks(other_tenant, "Theirs", "Another tenant's secret policy.")

    body = agent_client.get(CHUNKS, {"ids": f"{theirs.pk},{mine.pk}"}).json()

    assert [chunk["id"] for chunk in body["chunks"]] == [mine.pk]
    assert "secret" not in json.dumps(body)


@pytest.mark.parametrize("ids", [None, "", "abc", "1,x", "-1", "0", "1.5", ",".join(["1"] * 21)])
def test_bad_chunk_ids_are_a_400(agent_client, ids):
    params = {} if ids is None else {"ids": ids}

    assert_error(agent_client.get(CHUNKS, params), 400, "invalid", field="ids")


def test_chunks_need_a_console_member(client, outsider):
    assert_error(client.get(CHUNKS, {"ids": "1"}), 403, "unauthenticated")
    client.force_login(outsider)
    assert_error(client.get(CHUNKS, {"ids": "1"}), 403, "forbidden")
