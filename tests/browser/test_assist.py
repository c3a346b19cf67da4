"""Agent assist in a real browser against the live daphne server, with the bot's model played by
the fake OpenAI-compatible server: a suggested reply streams into the composer and is never sent
by itself; typing stops it; the summary panel and the sources under a bot reply."""

from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from helpdesk.ai.knowledge.chunking import ChunkDraft
from helpdesk.ai.knowledge.models import KnowledgeChunk, KnowledgeSource
from helpdesk.ai.knowledge.services import source_chunks_replace
from helpdesk.conversations.models import Message
from helpdesk.conversations.services import Sender
from tests.browser.pages import console_login, screenshot, transcript
from tests.conftest import REPO_ROOT
from tests.factories import (
    ContactFactory,
    ConversationFactory,
    InboxFactory,
    MembershipFactory,
    ModelBotFactory,
    TenantFactory,
    post_message,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SCREENSHOTS = REPO_ROOT / "var" / "screenshots"
DRAFT = (
    "Hi Maria, sorry for the wait! Your order 1001 left our warehouse this morning and "
    "should reach you within two working days."
)
SUMMARY = "- Maria asks where order 1001 is.\n- It was due yesterday; she is getting impatient."
PASSAGE = "Parcels within Germany arrive within two working days of dispatch."


@dataclass
class Desk:
    agent: object
    conversation: object
    chunk: object


@pytest.fixture
def jobs(request):
    """Assist requests are background jobs: in-process when embedded, on a Celery worker with a
    broker (service mode), which then has to be running."""
    from django.conf import settings

    if settings.CELERY_BROKER_URL:
        request.getfixturevalue("celery_worker")


@pytest.fixture
def desk(live_server_url, fake_llm, jobs) -> Desk:
    """A conversation the bot answered with a passage of the knowledge, then waiting for an
    agent, in an inbox whose bot runs on the fake model server."""
    tenant = TenantFactory(name="Acme Outdoor")
    bot = ModelBotFactory(tenant=tenant, base_url=fake_llm.base_url, request_timeout_seconds=5)
    source = KnowledgeSource.objects.create(tenant=tenant, kind="file", title="Shipping guide")
    source_chunks_replace(
        tenant=tenant,
        source=source,
        drafts=[ChunkDraft(position=0, heading="Germany", text=PASSAGE, token_count=12)],
    )
    chunk = KnowledgeChunk.objects.get(source=source)
    agent = MembershipFactory(
        tenant=tenant, user__username="alice", user__first_name="Alice", user__last_name="Martin"
    ).user
    conversation = ConversationFactory(
        tenant=tenant,
        inbox=InboxFactory(tenant=tenant, bot=bot, allowed_origins=live_server_url),
        contact=ContactFactory(tenant=tenant, name="Maria"),
        status="assigned",
        assignee=agent,
    )
    post_message(
        conversation, "Hi, where is my order 1001? It was due yesterday.", Sender.contact()
    )
    citation = {
        "n": 1,
        "source_id": source.pk,
        "chunk_id": chunk.pk,
        "title": "Shipping guide",
        "heading": "Germany",
        "url": "",
    }
    post_message(
        conversation,
        "Parcels usually arrive within two working days [1].",
        Sender.bot(),
        metadata={"citations": [citation]},
    )
    post_message(conversation, "It is still not here!", Sender.contact())
    return Desk(agent=agent, conversation=conversation, chunk=chunk)


def open_conversation(page: Page, desk: Desk) -> None:
    console_login(page, desk.agent, "Alice Martin")
    item = page.locator(
        f"[data-testid=conversation-item][data-conversation-id='{desk.conversation.pk}']"
    )
    item.locator("a").click()
    expect(page.get_by_test_id("conversation")).to_have_attribute("data-status", "assigned")
    expect(transcript(page)).to_have_count(3)
    expect(page.get_by_test_id("suggest-reply")).to_be_enabled()


def test_a_suggested_reply_streams_into_the_composer_and_waits_for_the_agent(pages, desk, fake_llm):
    fake_llm.script(reply=DRAFT, tokens_per_second=60)
    page = pages.new_page(viewport=(1440, 900))
    open_conversation(page, desk)

    page.get_by_test_id("suggest-reply").click()

    composer = page.get_by_test_id("composer-input")
    expect(page.get_by_test_id("suggest-reply")).to_have_attribute("data-state", "streaming")
    expect(composer).to_have_value(DRAFT)
    expect(page.get_by_test_id("suggest-reply")).to_have_attribute("data-state", "idle")
    expect(page.get_by_test_id("send-button")).to_be_enabled()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    screenshot(page, SCREENSHOTS / "console-suggested-reply.png")
    # Unsent: nothing new in the transcript or the database, however long one waits.
    page.wait_for_timeout(500)
    expect(transcript(page)).to_have_count(3)
    assert not Message.objects.filter(conversation=desk.conversation, sender_type="agent").exists()
    [request] = fake_llm.chat_requests
    assert request.messages[-1] == {"role": "user", "content": "It is still not here!"}

    # The agent edits it and sends it as their own.
    composer.press("End")
    composer.type(" Best, Alice")
    page.keyboard.press("Enter")
    sent = transcript(page).filter(has_text="Best, Alice")
    expect(sent).to_have_attribute("data-sender", "agent")
    expect(sent).to_have_attribute("data-state", "complete")
    expect(composer).to_have_value("")


def test_typing_while_the_suggestion_streams_stops_the_fill(pages, desk, fake_llm):
    fake_llm.script(reply=DRAFT, tokens_per_second=8)
    page = pages.new_page(viewport=(1440, 900))
    open_conversation(page, desk)
    composer = page.get_by_test_id("composer-input")

    page.get_by_test_id("suggest-reply").click()
    expect(page.get_by_test_id("suggest-reply")).to_have_attribute("data-state", "streaming")
    composer.press("End")
    composer.type("!")
    typed = composer.input_value()

    expect(page.get_by_test_id("suggest-reply")).to_have_attribute("data-state", "idle")
    page.wait_for_timeout(1500)  # the model keeps writing: none of it may reach the composer
    assert composer.input_value() == typed
    assert typed.endswith("!")
    assert len(typed) < len(DRAFT)


def test_the_summary_and_the_sources_of_a_bot_reply(pages, desk, fake_llm):
    fake_llm.script(reply=SUMMARY, tokens_per_second=60)
    page = pages.new_page(viewport=(1440, 900))
    open_conversation(page, desk)
    panel = page.get_by_test_id("summary-panel")
    expect(panel).to_have_attribute("data-state", "empty")

    panel.get_by_test_id("summarize").click()

    expect(panel).to_have_attribute("data-state", "ready")
    items = panel.locator("[data-testid=summary-text] li")
    expect(items).to_have_text(
        ["Maria asks where order 1001 is.", "It was due yesterday; she is getting impatient."]
    )
    expect(panel.get_by_test_id("summary-meta")).to_contain_text("Asked for")

    bot_reply = transcript(page).filter(has_text="Parcels usually arrive")
    source = bot_reply.get_by_test_id("source")
    expect(source).to_have_text("[1] Shipping guide › Germany")
    source.click()
    passage = bot_reply.get_by_test_id("source-text")
    expect(passage).to_have_attribute("data-state", "ready")
    expect(passage).to_contain_text(PASSAGE)
    expect(source).to_have_attribute("aria-expanded", "true")
