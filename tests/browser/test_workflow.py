"""The agent workflow end to end, in three real browser contexts against the live daphne server.

A customer chats with the FAQ bot and asks for a human; the agent is notified, accepts,
replies and resolves; the customer sees each step; a second agent's console reflects it live.
"""

from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import (
    SEQ,
    console_login,
    customer_send,
    open_widget,
    screenshot,
    transcript,
    widget_messages,
)
from tests.factories import BotConfigFactory, InboxFactory, MembershipFactory, TenantFactory

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION = "What are your opening hours?"
ANSWER = "We are open 9:00-18:00, Monday to Friday."
HANDOFF_EVENT = "You're being connected to a member of our team."
JOINED_EVENT = "Alice Martin joined the conversation."
RESOLVED_EVENT = "Alice Martin marked the conversation as resolved."
REPLY = "Hi, Alice here"


@dataclass
class Desk:
    tenant: object
    inbox: object
    alice: object
    bob: object


@pytest.fixture
def bot_jobs(request):
    """Bot replies are background jobs: in-process when embedded, on a Celery worker with a
    broker (service mode), which then has to be running."""
    from django.conf import settings

    if settings.CELERY_BROKER_URL:
        request.getfixturevalue("celery_worker")


@pytest.fixture
def desk(live_server_url, bot_jobs) -> Desk:
    """A tenant whose inbox (the demo page's: the only active one, allowing the live server's
    origin) is answered first by an FAQ bot with one article, and two agents who start offline,
    so a handoff waits in the queue rather than being assigned to one of them."""
    from helpdesk.ai.knowledge.services import articles_index
    from helpdesk.ai.models import KnowledgeArticle
    from helpdesk.tenants.models import Inbox, Membership

    tenant = TenantFactory(name="Acme Outdoor")
    bot = BotConfigFactory(tenant=tenant, provider="faq", name="Acme Bot")
    article = KnowledgeArticle.objects.create(
        tenant=tenant, question=QUESTION, answer=ANSWER, keywords="hours, open"
    )
    # What the admin does on save: the bot answers from the article's indexed passages.
    articles_index(tenant=tenant, article_ids=[article.pk])
    inbox = InboxFactory(tenant=tenant, allowed_origins=live_server_url, bot=bot)
    Inbox.objects.exclude(pk=inbox.pk).update(is_active=False)

    def agent(username: str, first: str, last: str):
        return MembershipFactory(
            tenant=tenant,
            availability=Membership.Availability.OFFLINE,
            user__username=username,
            user__first_name=first,
            user__last_name=last,
        ).user

    return Desk(
        tenant=tenant,
        inbox=inbox,
        alice=agent("alice", "Alice", "Martin"),
        bob=agent("bob", "Bob", "Stone"),
    )


# --- the customer ------------------------------------------------------------------------------


def customer_sees_event(page: Page, text: str) -> None:
    event = widget_messages(page, events=True).filter(has_text=text)
    expect(event).to_be_visible()
    expect(event).to_have_attribute("data-kind", "event")


# --- the agents --------------------------------------------------------------------------------


def console_login_offline(page: Page, user, name: str) -> None:
    """Signed in, offline, with an empty list: nothing has been assigned to this agent."""
    console_login(page, user, name)
    expect(page.get_by_test_id("availability")).to_have_attribute("data-availability", "offline")
    expect(page.get_by_test_id("conversation-list-state")).to_have_text("No conversations yet.")


def list_item(page: Page, conversation_id: int):
    return page.locator(
        f"[data-testid=conversation-item][data-conversation-id='{conversation_id}']"
    )


# --- the test ----------------------------------------------------------------------------------


def test_handoff_accept_reply_resolve_seen_by_customer_and_second_agent(pages, desk, artifacts):
    customer = pages.new_page()
    open_widget(customer)
    alice = pages.new_page(viewport=(1440, 900))
    console_login_offline(alice, desk.alice, "Alice Martin")
    bob = pages.new_page(viewport=(1440, 900))
    console_login_offline(bob, desk.bob, "Bob Stone")
    # Everything Bob sees from here on must arrive live: a reload would drop this marker.
    bob.evaluate("window.__sameDocument = true")

    # The bot answers from the knowledge base.
    customer_send(customer, "when are you open?")
    answer = widget_messages(customer).filter(has_text="9:00")
    expect(answer).to_have_attribute("data-sender", "bot")
    expect(answer).to_have_attribute("data-state", "complete")
    expect(answer).to_contain_text(ANSWER)
    # ...and names the article it answered from (articles have no page: not a link).
    expect(answer.get_by_test_id("sources")).to_have_text(f"Sources:[1] {QUESTION}")
    expect(answer.get_by_test_id("sources").locator("a")).to_have_count(0)
    screenshot(customer, artifacts / "widget-cited-answer.png")
    conversation_id = customer.evaluate("HelpdeskWidget.state().conversation")
    assert isinstance(conversation_id, int), conversation_id
    expect(list_item(bob, conversation_id)).to_have_attribute("data-status", "bot")

    # Asking for a human hands the conversation to the queue: nobody is online to take it.
    customer_send(customer, "I want to talk to a human")
    customer_sees_event(customer, HANDOFF_EVENT)
    expect(customer.get_by_test_id("status")).to_have_attribute("data-status", "queued")
    expect(customer.get_by_test_id("notice")).to_contain_text("An agent will be with you shortly")

    # Alice is told, and finds it under Queued.
    toast = alice.locator(
        "[data-testid=notification-toast][data-kind=queued]"
        f"[data-conversation-id='{conversation_id}']"
    )
    expect(toast).to_be_visible()
    expect(toast).to_contain_text("human")
    expect(list_item(bob, conversation_id)).to_have_attribute("data-status", "queued")
    alice.get_by_test_id("tab-queued").click()
    expect(alice.get_by_test_id("tab-queued")).to_have_attribute("aria-selected", "true")
    queued = list_item(alice, conversation_id)
    expect(queued).to_have_attribute("data-status", "queued")
    expect(queued).to_have_attribute("data-alert", "queued")
    queued.locator("a").click()
    expect(alice.get_by_test_id("conversation")).to_have_attribute("data-status", "queued")
    expect(transcript(alice).filter(has_text="I want to talk to a human")).to_have_attribute(
        "data-sender", "contact"
    )

    # Alice accepts: the customer is told who joined, Bob's list follows.
    alice.get_by_test_id("action-accept").click()
    expect(alice.locator("[data-testid=action-toast][data-action=accept]")).to_be_visible()
    expect(alice.get_by_test_id("conversation-status")).to_have_attribute("data-status", "assigned")
    customer_sees_event(customer, JOINED_EVENT)
    expect(customer.get_by_test_id("status")).to_have_attribute("data-status", "assigned")
    on_bob = list_item(bob, conversation_id)
    expect(on_bob).to_have_attribute("data-status", "assigned")
    expect(on_bob.locator(".conv__assignee")).to_have_text("Alice Martin")

    # Alice replies; the customer reads it.
    alice.get_by_test_id("composer-input").fill(REPLY)
    expect(alice.get_by_test_id("send-button")).to_be_enabled()
    # Enter, not a click on Send: at this width the toasts (the 8 s queue notification) sit on
    # top of the Send button, and a click would wait for them to go.
    alice.keyboard.press("Enter")
    sent = transcript(alice).filter(has_text=REPLY)
    expect(sent).to_have_attribute("data-sender", "agent")
    expect(sent).to_have_attribute("data-seq", SEQ)
    expect(sent).to_have_attribute("data-state", "complete")
    received = widget_messages(customer).filter(has_text=REPLY)
    expect(received).to_have_attribute("data-sender", "agent")
    expect(received).to_have_attribute("data-kind", "text")

    # Alice resolves; the customer and Bob see it.
    alice.get_by_test_id("action-resolve").click()
    expect(alice.locator("[data-testid=action-toast][data-action=resolve]")).to_be_visible()
    expect(alice.get_by_test_id("conversation-status")).to_have_attribute("data-status", "resolved")
    customer_sees_event(customer, RESOLVED_EVENT)
    expect(customer.get_by_test_id("status")).to_have_attribute("data-status", "resolved")
    expect(list_item(bob, conversation_id)).to_have_attribute("data-status", "resolved")
    expect(list_item(bob, conversation_id).locator(".conv__assignee")).to_have_text("Alice Martin")
    assert bob.evaluate("window.__sameDocument") is True, "Bob's console reloaded"

    # The customer's whole conversation, in order.
    expected = [
        ("contact", "text", "when are you open?"),
        ("bot", "text", ANSWER),
        ("contact", "text", "I want to talk to a human"),
        ("system", "event", HANDOFF_EVENT),
        ("system", "event", JOINED_EVENT),
        ("agent", "text", REPLY),
        ("system", "event", RESOLVED_EVENT),
    ]
    messages = widget_messages(customer, events=True)
    expect(messages).to_have_count(len(expected))
    for index, (sender, kind, text) in enumerate(expected):
        expect(messages.nth(index)).to_have_attribute("data-sender", sender)
        expect(messages.nth(index)).to_have_attribute("data-kind", kind)
        expect(messages.nth(index)).to_contain_text(text)

    screenshot(customer, artifacts / "workflow-widget.png")
    screenshot(alice, artifacts / "workflow-console.png")
