"""Agent assist against the fake OpenAI-compatible server, through the real openai SDK: suggested
replies streamed to the asking agent alone, summaries on handoff, transfer and request, and how
both degrade (no model, a hung or failing model, another tenant, too many requests)."""

import time

import pytest
from django.conf import settings

from helpdesk.ai.assist.access import AssistNoMessages, AssistUnavailable, assist_availability
from helpdesk.ai.assist.suggestion import SUGGESTION_PROMPT, SUGGESTION_RATE, suggest_reply
from helpdesk.ai.assist.summary import SUMMARY_PROMPT, summarize, summary_on_change
from helpdesk.ai.assist_tasks import assist_suggest, assist_summarize
from helpdesk.ai.knowledge.models import KnowledgeChunk
from helpdesk.ai.knowledge.services import articles_index
from helpdesk.ai.models import ConversationSummary, KnowledgeArticle, TokenUsage
from helpdesk.conversations.announcements import Change, ConversationChange
from helpdesk.conversations.lifecycle import conversation_handoff, conversation_transfer
from helpdesk.conversations.models import Conversation, Message
from helpdesk.conversations.services import Sender
from helpdesk.core.errors import NotFound, RateLimited, Revoked
from helpdesk.core.jobs import wait_for_in_process_jobs
from helpdesk.realtime.events import agent_user_group, agents_group, conversation_group
from tests.conftest import fresh_rate_window, wait_until
from tests.factories import (
    BotConfigFactory,
    ConversationFactory,
    InboxFactory,
    MembershipFactory,
    ModelBotFactory,
    post_message,
)
from tests.fakes.llm_server import count_tokens as count_fake_tokens

pytestmark = pytest.mark.django_db(transaction=True)
# Tests that a request enqueues nothing run in a transaction instead (plain django_db): what it
# enqueues then waits for the commit, where django_capture_on_commit_callbacks sees it.

DRAFT = "Your parcel left our warehouse today and arrives within two days."
SUMMARY = "- The customer asks where order 1001 is.\n- The bot could not find it."


@pytest.fixture
def bot(tenant, fake_llm):
    return ModelBotFactory(
        tenant=tenant,
        base_url=fake_llm.base_url,
        request_timeout_seconds=1,
        breaker_failure_threshold=50,
    )


@pytest.fixture
def conversation(tenant, bot):
    return ConversationFactory(tenant=tenant, inbox=InboxFactory(tenant=tenant, bot=bot))


@pytest.fixture
def chat(conversation):
    """Three text messages: enough for a summary made unasked."""
    post_message(conversation, "Hi, where is order 1001?", Sender.contact())
    post_message(conversation, "Let me look that up for you.", Sender.bot())
    post_message(conversation, "It was due yesterday!", Sender.contact())
    return conversation


@pytest.fixture
def colleague(tenant):
    return MembershipFactory(tenant=tenant).user


@pytest.fixture
def job_runner(request):
    """Jobs run in-process when embedded; with a broker, on a real Celery worker."""
    if settings.CELERY_BROKER_URL:
        request.getfixturevalue("celery_worker")


def assign(conversation, user) -> None:
    Conversation.objects.filter(pk=conversation.pk).update(status="assigned", assignee=user)


def of(events, event_type):
    return [e for e in events if e["type"] == event_type]


def suggest(conversation, user, request_id="req-1") -> str:
    """The suggestion job, as a worker runs it."""
    return assist_suggest(conversation.tenant_id, conversation.pk, user.pk, request_id)


# --- Suggested replies --------------------------------------------------------------------------


def test_a_suggestion_streams_to_the_asking_agent_only_and_is_never_posted(
    chat, agent, colleague, fake_llm, listen
):
    words = " ".join(f"word{n}" for n in range(60))
    fake_llm.script(reply=f"{DRAFT} {words}", tokens_per_second=300)
    mine = listen(agent_user_group(chat.tenant_id, agent.pk))
    theirs = listen(
        agent_user_group(chat.tenant_id, colleague.pk),
        agents_group(chat.tenant_id),
        conversation_group(chat.tenant_id, chat.pk),
    )
    messages_before = Message.objects.filter(conversation=chat).count()

    report = suggest(chat, agent)

    events = mine.events()
    deltas = of(events, "assist.delta")
    [done] = of(events, "assist.done")
    assert report.startswith("suggested")
    assert done["conversation"] == chat.pk
    assert done["data"]["request_id"] == "req-1"
    assert done["data"]["text"] == f"{DRAFT} {words}"
    assert "".join(d["data"]["text"] for d in deltas) == done["data"]["text"]
    assert {d["data"]["request_id"] for d in deltas} == {"req-1"}
    assert 1 < len(deltas) < 70 / 3, "streamed in batches, never one event per token"
    assert events.index(deltas[-1]) < events.index(done)
    assert theirs.events() == [], "nobody else hears of it"
    assert Message.objects.filter(conversation=chat).count() == messages_before
    usage = TokenUsage.objects.get(conversation=chat)
    assert (usage.purpose, usage.user_id, usage.message_id) == ("suggestion", agent.pk, None)
    assert usage.source == "api"
    assert usage.completion_tokens == count_fake_tokens(f"{DRAFT} {words}")
    assert usage.model == "fake-model"


def test_a_suggestion_reads_the_conversation_and_the_knowledge_for_the_customers_question(
    chat, agent, fake_llm, listen
):
    article = KnowledgeArticle.objects.create(
        tenant=chat.tenant,
        question="How long does delivery take?",
        answer="Parcels to Berlin arrive within two days of dispatch.",
    )
    articles_index(tenant=chat.tenant, article_ids=[article.pk])
    chunk = KnowledgeChunk.objects.get(tenant=chat.tenant, source__article=article)
    post_message(chat, "How long does delivery to Berlin take?", Sender.contact())
    fake_llm.script(reply="Parcels to Berlin arrive within two days of dispatch.")
    screen = listen(agent_user_group(chat.tenant_id, agent.pk))

    suggest(chat, agent)

    request = fake_llm.chat_requests[-1]
    system = request.messages[0]
    assert system["role"] == "system"
    assert system["content"].startswith(SUGGESTION_PROMPT)
    assert "Parcels to Berlin arrive within two days of dispatch." in system["content"]
    assert request.messages[1:] == [
        {"role": "user", "content": "Hi, where is order 1001?"},
        {"role": "assistant", "content": "Let me look that up for you."},
        {"role": "user", "content": "It was due yesterday!"},
        {"role": "user", "content": "How long does delivery to Berlin take?"},
    ]
    assert "tools" not in request.body, "a draft never hands off"
    [done] = of(screen.events(), "assist.done")
    assert done["data"]["citations"] == [
        {
            "n": 1,
            "source_id": chunk.source_id,
            "chunk_id": chunk.pk,
            "title": "How long does delivery take?",
            "heading": "",
            "url": "",
        }
    ]


def test_without_usage_from_the_server_the_tokens_are_counted(chat, agent, fake_llm):
    fake_llm.script(reply="好的，我们马上查一下。", usage_never=True)

    suggest(chat, agent)

    usage = TokenUsage.objects.get(conversation=chat)
    assert usage.source == "counted"
    assert usage.completion_tokens > 0
    assert usage.prompt_tokens > usage.completion_tokens


def test_a_request_is_worked_on_once(chat, agent, fake_llm):
    fake_llm.script(reply=DRAFT)

    suggest(chat, agent, request_id="same")
    again = suggest(chat, agent, request_id="same")

    assert again == "already done"
    assert fake_llm.total_requests == 1
    assert TokenUsage.objects.filter(conversation=chat).count() == 1


def test_a_hung_model_ends_in_assist_error_within_the_bots_timeout(chat, agent, fake_llm, listen):
    fake_llm.script(hang=True)
    screen = listen(agent_user_group(chat.tenant_id, agent.pk))

    started = time.monotonic()
    report = suggest(chat, agent)
    took = time.monotonic() - started

    assert took < 1 + 1.5, f"bounded by the bot's 1 s timeout, took {took:.1f} s"
    [error] = of(screen.events(), "assist.error")
    assert error["data"]["request_id"] == "req-1"
    assert error["data"]["purpose"] == "suggestion"
    assert error["data"]["code"] == "assist_timeout"
    assert error["data"]["message"]
    assert report.startswith("failed")
    assert not TokenUsage.objects.exists()


def test_a_model_that_stalls_mid_draft_ends_in_assist_error(chat, agent, fake_llm, listen):
    fake_llm.script(reply=DRAFT, hang_after=3)
    screen = listen(agent_user_group(chat.tenant_id, agent.pk))

    suggest(chat, agent)

    events = screen.events()
    assert of(events, "assist.delta"), "what came before the stall was shown"
    [error] = of(events, "assist.error")
    assert error["data"]["code"] == "assist_timeout"
    assert of(events, "assist.done") == []


def test_a_failing_model_ends_in_assist_error(chat, agent, fake_llm, listen):
    fake_llm.script(fail=500)
    screen = listen(agent_user_group(chat.tenant_id, agent.pk))

    suggest(chat, agent)

    [error] = of(screen.events(), "assist.error")
    assert error["data"]["code"] == "assist_failed"
    assert not TokenUsage.objects.exists()


def test_the_request_enqueues_the_job_that_streams_the_draft(
    chat, agent, fake_llm, listen, job_runner
):
    fake_llm.script(reply=DRAFT)
    screen = listen(agent_user_group(chat.tenant_id, agent.pk))

    request_id = suggest_reply(tenant=chat.tenant, conversation_id=chat.pk, user=agent)

    wait_until(lambda: TokenUsage.objects.filter(purpose="suggestion").exists())
    wait_for_in_process_jobs()
    [done] = of(screen.events(), "assist.done")
    assert done["data"] == {"request_id": request_id, "text": DRAFT, "citations": []}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("bot_kind", "reason"),
    [
        ("faq", "This inbox's bot answers from the FAQ, without a language model."),
        ("no model", "This inbox's bot has no model set."),
        ("inactive", "This inbox has no active bot."),
        ("none", "This inbox has no active bot."),
    ],
)
def test_without_a_model_assist_is_unavailable_and_no_job_is_made(
    tenant, agent, bot_kind, reason, django_capture_on_commit_callbacks
):
    bot = {
        "faq": lambda: BotConfigFactory(tenant=tenant, provider="faq"),
        "no model": lambda: ModelBotFactory(tenant=tenant, model=""),
        "inactive": lambda: ModelBotFactory(tenant=tenant, is_active=False),
        "none": lambda: None,
    }[bot_kind]()
    conversation = ConversationFactory(tenant=tenant, inbox=InboxFactory(tenant=tenant, bot=bot))
    post_message(conversation, "hello", Sender.contact())

    assert assist_availability(bot).reason == reason
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(AssistUnavailable) as refused:
            suggest_reply(tenant=tenant, conversation_id=conversation.pk, user=agent)
        with pytest.raises(AssistUnavailable):
            summarize(
                tenant=tenant, conversation_id=conversation.pk, trigger="requested", user=agent
            )
    assert refused.value.code == "assist_unavailable"
    assert str(refused.value.message) == reason
    assert callbacks == []


@pytest.mark.django_db
def test_another_tenants_conversation_is_not_found_and_an_outsider_is_refused(
    chat, agent, other_tenant, django_capture_on_commit_callbacks
):
    stranger = MembershipFactory(tenant=other_tenant).user

    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(NotFound):
            suggest_reply(tenant=other_tenant, conversation_id=chat.pk, user=stranger)
        with pytest.raises(Revoked):
            suggest_reply(tenant=chat.tenant, conversation_id=chat.pk, user=stranger)
    assert callbacks == []


@pytest.mark.django_db
def test_suggestions_are_rate_limited_per_agent(
    chat, agent, colleague, django_capture_on_commit_callbacks
):
    limit, seconds = SUGGESTION_RATE
    fresh_rate_window(seconds)

    with django_capture_on_commit_callbacks() as callbacks:
        for _ in range(limit):
            suggest_reply(tenant=chat.tenant, conversation_id=chat.pk, user=agent)
        with pytest.raises(RateLimited) as refused:
            suggest_reply(tenant=chat.tenant, conversation_id=chat.pk, user=agent)
        suggest_reply(tenant=chat.tenant, conversation_id=chat.pk, user=colleague)

    assert refused.value.code == "rate_limited"
    assert refused.value.retry_after >= 1
    assert len(callbacks) == limit + 1, "one job per accepted request"


@pytest.mark.django_db
def test_an_empty_conversation_has_nothing_to_suggest_from(
    conversation, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(AssistNoMessages):
        suggest_reply(tenant=conversation.tenant, conversation_id=conversation.pk, user=agent)
    assert callbacks == []


# --- Summaries ----------------------------------------------------------------------------------


def test_a_handoff_summarises_the_conversation_for_the_queue(
    chat, agent, fake_llm, listen, job_runner
):
    fake_llm.script(reply=SUMMARY, tokens_per_second=200)
    queue = listen(agents_group(chat.tenant_id))

    conversation_handoff(tenant=chat.tenant, conversation_id=chat.pk, reason="asked for a human")

    summary = wait_until(lambda: ConversationSummary.objects.filter(conversation=chat).first())
    wait_for_in_process_jobs()
    chat.refresh_from_db()
    assert (summary.trigger, summary.text, summary.model) == ("handoff", SUMMARY, "fake-model")
    assert summary.up_to_seq == chat.last_seq
    request = fake_llm.chat_requests[-1]
    assert request.messages[0] == {"role": "system", "content": SUMMARY_PROMPT}
    assert request.messages[1]["content"].endswith(
        "Customer: Hi, where is order 1001?\n"
        "Bot: Let me look that up for you.\n"
        "Customer: It was due yesterday!"
    )
    events = queue.events(wait=0.5)
    deltas = of(events, "assist.summary.delta")
    [final] = of(events, "assist.summary")
    assert "".join(d["data"]["text"] for d in deltas) == SUMMARY
    assert final["conversation"] == chat.pk
    assert final["data"]["summary"]["id"] == summary.pk
    assert final["data"]["summary"]["text"] == SUMMARY
    assert final["data"]["summary"]["trigger"] == "handoff"
    usage = TokenUsage.objects.get(conversation=chat)
    assert (usage.purpose, usage.user_id, usage.message_id) == ("summary", None, None)


def test_a_transfer_summarises_the_conversation_for_the_new_assignee(
    chat, agent, colleague, fake_llm, listen, job_runner
):
    assign(chat, agent)
    fake_llm.script(reply=SUMMARY)
    receiver = listen(agent_user_group(chat.tenant_id, colleague.pk))
    giver = listen(agent_user_group(chat.tenant_id, agent.pk))

    conversation_transfer(
        tenant=chat.tenant, conversation_id=chat.pk, agent=agent, to_user_id=colleague.pk
    )

    summary = wait_until(lambda: ConversationSummary.objects.filter(conversation=chat).first())
    wait_for_in_process_jobs()
    assert summary.trigger == "transfer"
    [final] = of(receiver.events(wait=0.5), "assist.summary")
    assert final["data"]["summary"]["id"] == summary.pk
    assert [e for e in giver.events() if e["type"].startswith("assist.")] == []


def test_a_summary_is_for_whoever_has_the_conversation_when_it_is_written(
    chat, agent, fake_llm, listen
):
    """Handed off, then assigned from the queue before the job ran: the summary is the
    assignee's, not the whole team's."""
    assign(chat, agent)
    fake_llm.script(reply=SUMMARY)
    assignee = listen(agent_user_group(chat.tenant_id, agent.pk))
    queue = listen(agents_group(chat.tenant_id))

    assist_summarize(chat.tenant_id, chat.pk, "handoff", None, "req-h")

    assert of(assignee.events(), "assist.summary")
    assert of(queue.events(), "assist.summary") == []


def test_a_summary_asked_for_goes_to_the_agent_who_asked(chat, agent, colleague, fake_llm, listen):
    fake_llm.script(reply=SUMMARY)
    asker = listen(agent_user_group(chat.tenant_id, agent.pk))
    other = listen(agent_user_group(chat.tenant_id, colleague.pk), agents_group(chat.tenant_id))

    assist_summarize(chat.tenant_id, chat.pk, "requested", agent.pk, "req-s")

    [final] = of(asker.events(), "assist.summary")
    assert final["data"]["request_id"] == "req-s"
    assert final["data"]["summary"]["trigger"] == "requested"
    assert [e for e in other.events() if e["type"].startswith("assist.")] == []
    usage = TokenUsage.objects.get(conversation=chat)
    assert (usage.purpose, usage.user_id) == ("summary", agent.pk)


def test_a_summary_that_fails_is_told_and_not_stored(chat, agent, fake_llm, listen):
    fake_llm.script(fail=503)
    asker = listen(agent_user_group(chat.tenant_id, agent.pk))

    assist_summarize(chat.tenant_id, chat.pk, "requested", agent.pk, "req-f")

    [error] = of(asker.events(), "assist.error")
    assert error["data"] == {
        "request_id": "req-f",
        "purpose": "summary",
        "code": "assist_failed",
        "message": error["data"]["message"],
    }
    assert not ConversationSummary.objects.exists()
    assert not TokenUsage.objects.exists()


@pytest.mark.django_db
def test_short_conversations_and_bots_without_a_model_are_not_summarised_unasked(
    tenant, conversation, chat_bot_faq, django_capture_on_commit_callbacks
):
    post_message(conversation, "hello", Sender.contact())
    post_message(chat_bot_faq, "hello", Sender.contact())
    post_message(chat_bot_faq, "Hi! How can I help?", Sender.bot())
    post_message(chat_bot_faq, "where is my order?", Sender.contact())

    with django_capture_on_commit_callbacks() as callbacks:
        for quiet in (conversation, chat_bot_faq):
            summary_on_change(ConversationChange(Change.HANDOFF, tenant.pk, quiet.pk))

    assert callbacks == []


@pytest.fixture
def chat_bot_faq(tenant):
    faq = BotConfigFactory(tenant=tenant, provider="faq")
    return ConversationFactory(tenant=tenant, inbox=InboxFactory(tenant=tenant, bot=faq))
