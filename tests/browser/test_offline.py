"""Business hours and the offline form in a real browser: outside hours the widget offers the
form, its conversation reaches the console live marked Follow-up; the "typically replies" line
comes from real response times; a handoff with nobody there offers to follow up by e-mail."""

from datetime import time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from helpdesk.conversations.models import Contact, Conversation, Message
from tests.browser.pages import (
    SEQ,
    console_login,
    customer_send,
    screenshot,
    widget_messages,
)
from tests.conftest import REPO_ROOT
from tests.factories import BotConfigFactory, ContactFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SCREENSHOTS = REPO_ROOT / "var" / "screenshots"
PHONE = (390, 844)


@pytest.fixture(autouse=True)
def _screenshots_dir():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)


@pytest.fixture
def bot_jobs(request):
    from django.conf import settings

    if settings.CELERY_BROKER_URL:
        request.getfixturevalue("celery_worker")


def close_now(inbox) -> None:
    """Business hours that exclude now: one hour, two days from today (UTC)."""
    from helpdesk.widget.models import OpeningHours

    inbox.hours_enabled = True
    inbox.time_zone = "UTC"
    inbox.save(update_fields=["hours_enabled", "time_zone"])
    weekday = (timezone.now().weekday() + 2) % 7
    OpeningHours.objects.create(
        tenant=inbox.tenant, inbox=inbox, weekday=weekday, opens=time(9), closes=time(17)
    )


def open_panel(page: Page) -> None:
    page.goto("/")
    page.wait_for_function("window.HelpdeskWidget && HelpdeskWidget.state().connected")
    page.get_by_test_id("launcher").click()
    expect(page.get_by_test_id("panel")).to_be_visible()


def list_item(page: Page, conversation_id: int):
    return page.locator(
        f"[data-testid=conversation-item][data-conversation-id='{conversation_id}']"
    )


def test_outside_hours_the_offline_form_reaches_the_console_live(pages, site):
    close_now(site.inbox)
    agent = pages.new_page(viewport=(1440, 900))
    console_login(agent, site.agent, "Alice Martin")
    agent.get_by_test_id("tab-all").click()
    agent.evaluate("window.__sameDocument = true")

    customer = pages.new_page()
    open_panel(customer)
    form = customer.get_by_test_id("offline-form")
    expect(form).to_be_visible()
    expect(customer.get_by_test_id("input")).to_be_hidden()  # the form replaces the composer
    expect(customer.get_by_test_id("status")).to_contain_text("Back ")
    expect(customer.get_by_test_id("offline-back")).to_contain_text(" at 9:00")
    # Checked before it goes out.
    customer.get_by_test_id("offline-email").fill("not an address")
    customer.get_by_test_id("offline-text").fill("My order 1001 never arrived.")
    customer.get_by_test_id("offline-submit").click()
    expect(customer.get_by_test_id("offline-error")).to_have_text(
        "Please enter a valid e-mail address."
    )
    screenshot(customer, SCREENSHOTS / "offline-form-error-desktop.png")
    assert not Conversation.objects.exists()

    customer.get_by_test_id("offline-email").fill("ada@example.com")
    customer.get_by_test_id("offline-name").fill("Ada Lovelace")
    screenshot(customer, SCREENSHOTS / "offline-form-desktop.png")
    customer.get_by_test_id("offline-submit").click()

    expect(customer.get_by_test_id("offline-confirmation")).to_have_text(
        "We'll reply to ada@example.com by e-mail."
    )
    expect(form).to_be_hidden()
    expect(customer.get_by_test_id("input")).to_be_visible()
    mine = widget_messages(customer).filter(has_text="My order 1001 never arrived.")
    expect(mine).to_have_attribute("data-sender", "contact")
    expect(mine).to_have_attribute("data-seq", SEQ)
    screenshot(customer, SCREENSHOTS / "offline-sent-desktop.png")

    conversation = Conversation.objects.get()
    assert (conversation.status, conversation.follow_up) == ("queued", True)
    assert conversation.handoff_reason == "offline"
    contact = Contact.objects.get(pk=conversation.contact_id)
    assert (contact.email, contact.name) == ("ada@example.com", "Ada Lovelace")
    assert customer.evaluate("HelpdeskWidget.state().conversation") == conversation.pk

    # The agent's console got it live, marked Follow-up, with whom to write to.
    row = list_item(agent, conversation.pk)
    expect(row.get_by_test_id("follow-up-badge")).to_have_text("Follow-up")
    assert agent.evaluate("window.__sameDocument") is True
    agent.get_by_test_id("tab-follow-up").click()
    expect(list_item(agent, conversation.pk)).to_be_visible()
    list_item(agent, conversation.pk).locator("a").click()
    expect(agent.get_by_test_id("conversation-follow-up")).to_be_visible()
    expect(agent.get_by_test_id("follow-up-detail")).to_have_text("By e-mail to ada@example.com")
    expect(agent.get_by_test_id("contact-email")).to_have_text("ada@example.com")
    screenshot(agent, SCREENSHOTS / "offline-console.png")

    # A reload keeps the conversation and its confirmation; no second form.
    customer.reload()
    customer.wait_for_function("window.HelpdeskWidget && HelpdeskWidget.state().connected")
    customer.evaluate("HelpdeskWidget.open()")  # open already (kept for the tab), or now
    expect(customer.get_by_test_id("offline-confirmation")).to_be_visible()
    expect(customer.get_by_test_id("offline-form")).to_be_hidden()


def test_offline_form_on_a_phone(pages, site):
    close_now(site.inbox)
    phone = pages.new_page(viewport=PHONE)
    open_panel(phone)
    expect(phone.get_by_test_id("offline-form")).to_be_visible()
    screenshot(phone, SCREENSHOTS / "offline-form-phone.png")
    phone.get_by_test_id("offline-email").fill("bob@example.com")
    phone.get_by_test_id("offline-text").fill("Do you ship to Norway?")
    phone.get_by_test_id("offline-submit").click()
    expect(phone.get_by_test_id("offline-confirmation")).to_have_text(
        "We'll reply to bob@example.com by e-mail."
    )
    screenshot(phone, SCREENSHOTS / "offline-sent-phone.png")


def answered_recently(inbox, minutes: int) -> None:
    start = timezone.now() - timedelta(hours=3)
    conversation = Conversation.objects.create(
        tenant=inbox.tenant,
        inbox=inbox,
        contact=ContactFactory(tenant=inbox.tenant),
        status=Conversation.Status.RESOLVED,
        queued_at=start,
        first_response_at=start + timedelta(minutes=minutes),
    )
    Message.objects.create(
        tenant=inbox.tenant,
        conversation=conversation,
        seq=1,
        client_id="reply",
        sender_type=Message.SenderType.AGENT,
        text="Hello!",
        created_at=start + timedelta(minutes=minutes),
    )


def test_typically_replies_comes_from_real_response_times(pages, site):
    from helpdesk.tenants.models import Membership

    for minutes in (4, 5, 7):
        answered_recently(site.inbox, minutes)
    Membership.objects.filter(user=site.agent).update(availability=Membership.Availability.ONLINE)
    agent = pages.new_page(viewport=(1440, 900))
    console_login(agent, site.agent, "Alice Martin")  # a console open: the agent is there

    customer = pages.new_page()
    open_panel(customer)

    expect(customer.get_by_test_id("status")).to_have_text("Typically replies in 5 min")
    expect(customer.get_by_test_id("offline-form")).to_be_hidden()
    expect(customer.get_by_test_id("input")).to_be_visible()
    screenshot(customer, SCREENSHOTS / "offline-reply-time-desktop.png")
    phone = pages.new_page(viewport=PHONE)
    open_panel(phone)
    expect(phone.get_by_test_id("status")).to_have_text("Typically replies in 5 min")
    screenshot(phone, SCREENSHOTS / "offline-reply-time-phone.png")


def test_a_handoff_with_nobody_there_offers_a_follow_up(pages, site, bot_jobs):
    site.inbox.bot = BotConfigFactory(tenant=site.tenant)
    site.inbox.save(update_fields=["bot"])
    customer = pages.new_page()
    open_panel(customer)
    # A bot inbox: the bot answers, so no offline form, whatever the agents.
    expect(customer.get_by_test_id("offline-form")).to_be_hidden()

    customer_send(customer, "I want to talk to a human")
    expect(customer.get_by_test_id("status")).to_have_attribute("data-status", "queued")
    card = customer.get_by_test_id("offline-card")
    expect(card).to_be_visible()
    expect(card).to_contain_text("No one is available right now.")
    expect(card).to_contain_text("Leave your e-mail and we'll follow up.")
    screenshot(customer, SCREENSHOTS / "offline-handoff-card-desktop.png")

    customer.get_by_test_id("offline-card-email").fill("grace@example.com")
    customer.get_by_test_id("offline-card-submit").click()
    expect(customer.get_by_test_id("offline-confirmation")).to_have_text(
        "We'll reply to grace@example.com by e-mail."
    )
    expect(card).to_be_hidden()
    screenshot(customer, SCREENSHOTS / "offline-handoff-done-desktop.png")
    conversation = Conversation.objects.get()
    assert conversation.follow_up is True
    assert Contact.objects.get(pk=conversation.contact_id).email == "grace@example.com"


def test_the_handoff_card_on_a_phone(pages, site, bot_jobs):
    site.inbox.bot = BotConfigFactory(tenant=site.tenant)
    site.inbox.save(update_fields=["bot"])
    phone = pages.new_page(viewport=PHONE)
    open_panel(phone)
    customer_send(phone, "I want to talk to a human")
    expect(phone.get_by_test_id("offline-card")).to_be_visible()
    phone.get_by_test_id("offline-card").scroll_into_view_if_needed()
    screenshot(phone, SCREENSHOTS / "offline-handoff-card-phone.png")


def test_open_with_nobody_there_offers_the_form_and_keeps_the_composer(pages, site):
    customer = pages.new_page()
    open_panel(customer)
    form = customer.get_by_test_id("offline-form")
    expect(form).to_have_attribute("data-compact", "true")
    expect(form).to_contain_text("No one is available right now.")
    expect(customer.get_by_test_id("status")).to_have_text("No one is available right now")
    expect(customer.get_by_test_id("input")).to_be_visible()  # writing to the queue still works
    expect(customer.get_by_test_id("offline-email")).to_be_hidden()
    screenshot(customer, SCREENSHOTS / "offline-compact-desktop.png")

    customer.get_by_test_id("offline-expand").click()
    expect(customer.get_by_test_id("offline-email")).to_be_visible()
    customer.get_by_test_id("offline-email").fill("lin@example.com")
    customer.get_by_test_id("offline-text").fill("Is the blue one back in stock?")
    customer.get_by_test_id("offline-submit").click()
    expect(customer.get_by_test_id("offline-confirmation")).to_have_text(
        "We'll reply to lin@example.com by e-mail."
    )
    assert Conversation.objects.get().follow_up is True


def test_the_offline_form_over_long_polling(pages, site):
    import re

    close_now(site.inbox)
    customer = pages.new_page(
        setup=lambda context, page: context.route_web_socket(
            re.compile(r"^wss?://[^/]+/ws/widget/"), lambda ws: ws.close(code=1006)
        )
    )
    open_panel(customer)
    expect(customer.get_by_test_id("panel")).to_have_attribute("data-transport", "longpoll")
    customer.get_by_test_id("offline-email").fill("poll@example.com")
    customer.get_by_test_id("offline-text").fill("Sent without a socket.")
    customer.get_by_test_id("offline-submit").click()

    expect(customer.get_by_test_id("offline-confirmation")).to_have_text(
        "We'll reply to poll@example.com by e-mail."
    )
    mine = widget_messages(customer).filter(has_text="Sent without a socket.")
    expect(mine).to_have_attribute("data-seq", SEQ)
    assert Conversation.objects.get().follow_up is True
