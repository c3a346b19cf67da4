"""The satisfaction rating end to end: an agent resolves in the console, the widget asks, the
customer rates 4 stars with a comment, the console shows it live, and the reports page counts
it in CSAT by agent and per day."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import REPO_ROOT
from tests.browser.pages import (
    SEQ,
    console_login,
    customer_send,
    screenshot,
    transcript,
    widget_messages,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SCREENSHOTS = REPO_ROOT / "var" / "screenshots"
QUESTION = "My tent pole arrived bent. Can you send a new one?"
REPLY = "Sorry about that! A new pole is on its way today."
COMMENT = "Quick and friendly, thank you!"


def open_widget(page: Page) -> None:
    page.goto("/")
    page.wait_for_function("window.HelpdeskWidget && HelpdeskWidget.state().connected")
    page.get_by_test_id("launcher").click()
    expect(page.get_by_test_id("panel")).to_be_visible()


def online_agent(pages, site, viewport=(1400, 900)) -> Page:
    """Alice, online in the console: the widget offers the chat (not the offline form)."""
    from helpdesk.tenants.models import Membership

    Membership.objects.filter(user=site.agent).update(availability="online")
    agent = pages.new_page(viewport=viewport)
    console_login(agent, site.agent, "Alice")
    return agent


def resolve_in_console(agent: Page) -> None:
    item = agent.get_by_test_id("conversation-item")
    expect(item).to_have_count(1)
    item.locator("a").click()
    expect(transcript(agent).filter(has_text=QUESTION)).to_be_visible()
    agent.get_by_test_id("action-resolve").click()
    expect(agent.get_by_test_id("conversation-status")).to_have_attribute("data-status", "resolved")


def agent_reply(page: Page, text: str) -> None:
    page.get_by_test_id("mode-message").click()
    page.get_by_test_id("composer-input").fill(text)
    page.keyboard.press("Enter")
    sent = transcript(page).filter(has_text=text)
    expect(sent).to_have_attribute("data-seq", SEQ)


def test_a_customer_rates_after_resolve_and_reports_show_it(pages, site):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    agent = online_agent(pages, site)
    customer = pages.new_page()
    open_widget(customer)
    # No card while the conversation is open.
    expect(customer.get_by_test_id("rating-card")).to_be_hidden()

    customer_send(customer, QUESTION)
    item = agent.get_by_test_id("conversation-item")
    expect(item).to_have_count(1)
    item.locator("a").click()
    expect(transcript(agent).filter(has_text=QUESTION)).to_be_visible()
    for action in ("action-accept", "action-takeover"):
        button = agent.get_by_test_id(action)
        if button.is_visible():
            button.click()
            break
    agent_reply(agent, REPLY)
    expect(widget_messages(customer).filter(has_text=REPLY)).to_have_attribute(
        "data-state", "complete"
    )
    expect(customer.get_by_test_id("rating-card")).to_be_hidden()

    agent.get_by_test_id("action-resolve").click()
    expect(agent.get_by_test_id("conversation-status")).to_have_attribute("data-status", "resolved")

    # The widget asks, live.
    card = customer.get_by_test_id("rating-card")
    expect(card).to_be_visible()
    expect(card).to_contain_text("How would you rate this conversation?")
    stars = card.locator("button.rating-choice")
    expect(stars).to_have_count(5)
    expect(customer.get_by_role("button", name="4 stars")).to_be_visible()
    expect(customer.get_by_test_id("rating-send")).to_be_disabled()
    customer.get_by_role("button", name="4 stars").click()
    expect(customer.get_by_test_id("rating-4")).to_have_attribute("aria-pressed", "true")
    customer.get_by_test_id("rating-comment").fill(COMMENT)
    screenshot(customer, SCREENSHOTS / "rating-widget-stars.png")
    customer.get_by_test_id("rating-send").click()
    expect(customer.get_by_test_id("rating-thanks")).to_be_visible()
    expect(customer.get_by_test_id("rating-thanks")).to_have_text("Thank you for your feedback!")
    screenshot(customer, SCREENSHOTS / "rating-widget-thanks.png")

    # The console shows it live, in the conversation's details.
    rating = agent.get_by_test_id("conversation-rating")
    expect(rating).to_be_visible()
    expect(rating).to_have_attribute("data-score", "4")
    expect(agent.get_by_test_id("conversation-rating-comment")).to_have_text(COMMENT)
    screenshot(agent, SCREENSHOTS / "rating-console.png")

    # After a reload the widget does not ask again.
    customer.reload()
    customer.wait_for_function("window.HelpdeskWidget && HelpdeskWidget.state().connected")
    customer.get_by_test_id("launcher").click()
    expect(customer.get_by_test_id("status")).to_have_attribute("data-status", "resolved")
    expect(customer.get_by_test_id("rating-card")).to_be_hidden()

    # Reports: CSAT 100 % of 1 rating, Alice with one rating, and today's point.
    agent.goto("/console/metrics/?days=7")
    reports = agent.get_by_test_id("reports")
    expect(reports).to_have_attribute("data-loaded", "7")
    csat = agent.get_by_test_id("kpi-csat")
    expect(csat.locator("[data-field=value]")).to_have_text("100%")
    expect(csat.locator("[data-field=note]")).to_contain_text("1 rating")
    row = agent.get_by_test_id("csat-by-agent").locator("tbody tr").first
    expect(row).to_contain_text("Alice")
    expect(row.locator("td").nth(1)).to_have_text("1")
    expect(row.locator("td").nth(2)).to_have_text("100%")
    expect(row.locator("td").nth(3)).to_have_text("4.0")
    per_day = agent.evaluate(
        """() => Chart.getChart(document.querySelector('[data-testid=chart-csat] canvas'))
                   .data.datasets[0].data"""
    )
    assert per_day[-1] == 1
    assert sum(per_day) == 1
    agent.get_by_test_id("chart-csat").scroll_into_view_if_needed()
    screenshot(agent, SCREENSHOTS / "rating-reports.png")
    agent.set_viewport_size({"width": 1400, "height": 2000})
    agent.screenshot(path=SCREENSHOTS / "rating-reports-full.png", full_page=True)


def test_the_phone_card_and_thumbs(pages, site):
    """On a 390×844 phone, with a thumbs inbox: thumbs up / down, and errors shown."""
    site.inbox.rating_scale = "thumbs"
    site.inbox.save()
    agent = online_agent(pages, site)
    customer = pages.new_page(viewport=(390, 844))
    open_widget(customer)
    customer_send(customer, QUESTION)
    resolve_in_console(agent)

    card = customer.get_by_test_id("rating-card")
    expect(card).to_be_visible()
    expect(card).to_contain_text("Was this conversation helpful?")
    expect(customer.get_by_role("button", name="Thumbs up")).to_be_visible()
    expect(customer.get_by_role("button", name="Thumbs down")).to_be_visible()
    customer.get_by_role("button", name="Thumbs up").click()
    screenshot(customer, SCREENSHOTS / "rating-widget-phone-thumbs.png")

    # The server refuses (the inbox stopped asking meanwhile): the card says why.
    site.inbox.rating_scale = "off"
    site.inbox.save()
    customer.get_by_test_id("rating-send").click()
    expect(customer.get_by_test_id("rating-error")).to_have_text(
        "This inbox does not ask for ratings."
    )


def test_the_phone_stars_card(pages, site):
    agent = online_agent(pages, site)
    customer = pages.new_page(viewport=(390, 844))
    open_widget(customer)
    customer_send(customer, QUESTION)
    resolve_in_console(agent)
    expect(customer.get_by_test_id("rating-card")).to_be_visible()
    customer.get_by_test_id("rating-5").click()
    customer.get_by_test_id("rating-comment").fill(COMMENT)
    screenshot(customer, SCREENSHOTS / "rating-widget-phone.png")

    # The customer writes again: the conversation is no longer resolved and the card goes.
    customer.get_by_test_id("input").fill("Oh, one more question")
    customer.keyboard.press("Enter")
    expect(customer.get_by_test_id("rating-card")).to_be_hidden()
