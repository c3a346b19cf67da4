"""The widget's small things, in the real browser against the live server: the emoji picker,
the beep and unread count in the title while the tab is hidden (and their switches), the
launcher label and proactive greeting, and the dark scheme."""

import json
import re
import urllib.request

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from helpdesk.api.keys import api_key_create
from tests.browser.pages import (
    console_login,
    customer_send,
    open_widget,
    screenshot,
    widget_messages,
)
from tests.conftest import REPO_ROOT
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SCREENSHOTS = REPO_ROOT / "var" / "screenshots"

# A stand-in for the Web Audio API that counts the beeps (oscillators started).
AUDIO_SPY = """
window.__beeps = 0;
window.AudioContext = class {
  constructor() { this.state = "running"; this.currentTime = 0; this.destination = {}; }
  resume() { return Promise.resolve(); }
  createOscillator() {
    return { type: "sine", frequency: { setValueAtTime() {} }, connect() {},
             start() { window.__beeps++; }, stop() {} };
  }
  createGain() {
    return { gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} }, connect() {} };
  }
};
"""
# A browser that refuses audio outright (no gesture yet, a policy): the widget must not throw.
AUDIO_BLOCKED = """
window.__beeps = 0;
window.AudioContext = function () {
  throw new DOMException("The AudioContext was not allowed to start.", "NotAllowedError");
};
"""
# The tab's visibility, as the page sees it (Playwright's page stays visible).
VISIBILITY = """
window.__setHidden = (hidden) => {
  Object.defineProperty(document, "visibilityState",
    {configurable: true, get: () => hidden ? "hidden" : "visible"});
  Object.defineProperty(document, "hidden", {configurable: true, get: () => hidden});
  document.dispatchEvent(new Event("visibilitychange"));
};
"""


def staffed(context, page) -> None:
    """Someone is always there: these tests are not about the offline form (hours-offline),
    which takes the composer's place when no agent is available and no bot answers."""

    def rewrite(route):
        try:
            response = route.fetch()
            body = response.json()
            hours = body.get("options", {}).get("hours") if "options" in body else body
            if isinstance(hours, dict):
                hours.update(open=True, agents_available=True)
            route.fulfill(response=response, body=json.dumps(body))
        except PlaywrightError:  # the test is over and its page closing
            pass

    page.route(re.compile(r"/widget/api/(visitor|availability)"), rewrite)


def new_page(pages, *scripts: str, viewport=(1280, 800), color_scheme=None) -> Page:
    def setup(context, page):
        staffed(context, page)
        for script in scripts:
            page.add_init_script(script)
        if color_scheme:
            page.emulate_media(color_scheme=color_scheme)

    return pages.new_page(setup=setup, viewport=viewport)


@pytest.fixture
def shots():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def agent_reply(base_url: str, site, conversation, text: str) -> None:
    """The agent answers through the REST API: the live server stores and broadcasts it."""
    if not hasattr(site, "raw_key"):
        admin = MembershipFactory(tenant=site.tenant, role="admin").user
        site.raw_key = api_key_create(tenant=site.tenant, user=admin, name="t", scope="write")[1]
    request = urllib.request.Request(
        f"{base_url}/api/v1/conversations/{conversation}/messages",
        data=json.dumps({"text": text}).encode(),
        headers={"Authorization": f"Bearer {site.raw_key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 201)


def start_chat(pages, audio=AUDIO_SPY) -> Page:
    page = new_page(pages, audio, VISIBILITY)
    open_widget(page)
    customer_send(page, "Hello, is the tent waterproof?")
    return page


def conversation_of(page: Page):
    return page.evaluate("HelpdeskWidget.state().conversation")


def reply_arrives(page: Page, text: str) -> None:
    expect(widget_messages(page).filter(has_text=text)).to_have_attribute("data-state", "complete")


def shadow_active_testid(page: Page):
    return page.evaluate(
        """() => { const root = document.querySelector("helpdesk-chat-widget").shadowRoot;
        const active = root.activeElement; return active && active.getAttribute("data-testid"); }"""
    )


# --- emoji -------------------------------------------------------------------------------------


def test_emoji_is_inserted_at_the_caret_by_keyboard_and_mouse(pages, site, shots):
    page = new_page(pages)
    open_widget(page)
    box = page.get_by_test_id("input")
    box.fill("Hello world")
    box.press("Home")
    for _ in range(5):
        box.press("ArrowRight")

    page.get_by_test_id("emoji-button").click()
    picker = page.get_by_test_id("emoji-picker")
    expect(picker).to_be_visible()
    expect(page.get_by_test_id("emoji-button")).to_have_attribute("aria-expanded", "true")
    expect(picker.locator("button.emoji")).to_have_count(40)
    screenshot(page, shots / "touches-emoji-picker.png")
    page.keyboard.press("ArrowRight")  # 😂
    page.keyboard.press("ArrowDown")  # the next row: 😅
    page.keyboard.press("Enter")

    expect(picker).to_be_hidden()
    expect(box).to_have_value("Hello😅 world")
    assert shadow_active_testid(page) == "input"
    expect(page.get_by_test_id("send")).to_be_enabled()
    # The caret is after the emoji: typing goes on there.
    page.keyboard.type("!")
    expect(box).to_have_value("Hello😅! world")

    # Escape closes the grid only (not the panel) and gives the text box the focus back.
    page.get_by_test_id("emoji-button").click()
    expect(picker).to_be_visible()
    page.keyboard.press("Escape")
    expect(picker).to_be_hidden()
    expect(page.get_by_test_id("panel")).to_be_visible()
    assert shadow_active_testid(page) == "input"

    # A click elsewhere closes it; a click on an emoji inserts it at the end when the caret is.
    page.get_by_test_id("emoji-button").click()
    expect(picker).to_be_visible()
    page.get_by_test_id("messages").click()
    expect(picker).to_be_hidden()
    box.press("End")
    page.get_by_test_id("emoji-button").click()
    picker.locator("[data-emoji='👍']").click()
    expect(box).to_have_value("Hello😅! world👍")

    page.keyboard.press("Enter")
    expect(widget_messages(page).filter(has_text="Hello😅! world👍")).to_have_attribute(
        "data-sender", "contact"
    )


# --- attention while the tab is hidden ---------------------------------------------------------


@pytest.mark.parametrize("audio", ["spy", "blocked"])
def test_a_reply_while_hidden_beeps_once_and_counts_in_the_title(
    pages, site, live_server_url, audio
):
    page = start_chat(pages, AUDIO_SPY if audio == "spy" else AUDIO_BLOCKED)
    conversation = conversation_of(page)
    original = page.title()
    expect(page.get_by_test_id("sound-toggle")).to_be_visible()

    page.evaluate("__setHidden(true)")
    agent_reply(live_server_url, site, conversation, "Yes, it is fully waterproof.")
    reply_arrives(page, "Yes, it is fully waterproof.")
    expect(page).to_have_title(f"(1) {original}")
    # A second reply right after: the count goes up, the burst makes one sound only.
    agent_reply(live_server_url, site, conversation, "Anything else?")
    reply_arrives(page, "Anything else?")
    expect(page).to_have_title(f"(2) {original}")
    assert page.evaluate("window.__beeps") == (1 if audio == "spy" else 0)

    page.evaluate("__setHidden(false)")
    expect(page).to_have_title(original)
    if audio == "blocked":
        return  # and no error reached the page (the pages fixture checks)

    # Own messages never count; the customer mutes the sound, the title still counts.
    page.get_by_test_id("sound-toggle").click()
    expect(page.get_by_test_id("sound-toggle")).to_have_attribute("data-muted", "true")
    page.evaluate("__setHidden(true)")
    customer_send(page, "No thanks")
    assert page.title() == original
    agent_reply(live_server_url, site, conversation, "Have a nice day!")
    reply_arrives(page, "Have a nice day!")
    expect(page).to_have_title(f"(1) {original}")
    assert page.evaluate("window.__beeps") == 1
    page.evaluate("__setHidden(false)")
    expect(page).to_have_title(original)

    # The choice is remembered.
    page.reload()
    page.wait_for_function("window.HelpdeskWidget && HelpdeskWidget.state().connected")
    expect(page.get_by_test_id("sound-toggle")).to_have_attribute("data-muted", "true")


def test_switched_off_the_title_and_the_sound_stay_quiet(pages, site, live_server_url):
    site.inbox.sound_enabled = False
    site.inbox.title_unread_enabled = False
    site.inbox.save()
    page = start_chat(pages)
    original = page.title()
    expect(page.get_by_test_id("sound-toggle")).to_have_count(0)

    page.evaluate("__setHidden(true)")
    agent_reply(live_server_url, site, conversation_of(page), "Yes, it is fully waterproof.")
    reply_arrives(page, "Yes, it is fully waterproof.")
    page.wait_for_timeout(300)

    assert page.title() == original
    assert page.evaluate("window.__beeps") == 0


# --- launcher label and proactive greeting -----------------------------------------------------


def test_launcher_label_and_proactive_greeting(pages, site, shots):
    site.inbox.launcher_label = "Questions? Chat with us"
    site.inbox.proactive_message = "Need help choosing a tent? <b>Ask us</b>"
    site.inbox.proactive_delay_seconds = 2
    site.inbox.save()
    page = pages.new_page()
    page.goto("/")
    page.wait_for_function("window.HelpdeskWidget && HelpdeskWidget.state().connected")

    label = page.get_by_test_id("launcher-label")
    expect(label).to_have_text("Questions? Chat with us")
    expect(label).to_be_visible()
    bubble = page.get_by_test_id("proactive")
    if page.evaluate("performance.now()") < 1500:  # (a slow machine may be past it already)
        assert bubble.count() == 0

    expect(bubble).to_be_visible(timeout=5000)
    assert page.evaluate("performance.now()") >= 2000
    # Text only: the markup in the message is shown, not run.
    expect(bubble).to_contain_text("Need help choosing a tent? <b>Ask us</b>")
    page.wait_for_timeout(300)  # the entrance animation
    screenshot(page, shots / "touches-launcher-proactive.png")

    page.get_by_test_id("proactive-open").click()
    expect(page.get_by_test_id("panel")).to_be_visible()
    expect(bubble).to_have_count(0)
    expect(label).to_be_hidden()

    # Opened once: not shown again in this session.
    page.get_by_test_id("close").click()
    page.reload()
    page.wait_for_function("window.HelpdeskWidget && HelpdeskWidget.state().connected")
    expect(label).to_be_visible()
    page.wait_for_timeout(2500)
    expect(bubble).to_have_count(0)

    # Dismissed with ×: gone, and not back after a reload either.
    phone = pages.new_page(viewport=(390, 844))
    phone.goto("/")
    expect(phone.get_by_test_id("proactive")).to_be_visible(timeout=5000)
    expect(phone.get_by_test_id("launcher-label")).to_be_visible()
    phone.wait_for_timeout(300)
    screenshot(phone, shots / "touches-launcher-proactive-phone.png")
    phone.get_by_test_id("proactive-close").click()
    expect(phone.get_by_test_id("proactive")).to_have_count(0)
    expect(phone.get_by_test_id("panel")).to_be_hidden()
    phone.reload()
    phone.wait_for_timeout(2500)
    expect(phone.get_by_test_id("proactive")).to_have_count(0)


# --- dark mode ---------------------------------------------------------------------------------


def background(page: Page, testid: str) -> str:
    return page.get_by_test_id(testid).evaluate("e => getComputedStyle(e).backgroundColor")


def test_dark_mode_follows_the_visitor_scheme(pages, site, live_server_url, shots):
    page = new_page(pages, color_scheme="dark")
    open_widget(page)
    customer_send(page, "Hello, is the tent waterproof?")
    agent_reply(
        live_server_url, site, conversation_of(page), "Yes! See https://shop.example.com/tent"
    )
    reply_arrives(page, "Yes! See")
    expect(page.get_by_test_id("widget-root")).to_have_attribute("data-scheme", "dark")
    assert background(page, "panel") == "rgb(23, 28, 39)"
    assert background(page, "messages") == "rgb(13, 17, 25)"
    agent_bubble = widget_messages(page).filter(has_text="Yes! See").locator(".bubble")
    assert agent_bubble.evaluate("e => getComputedStyle(e).color") == "rgb(230, 232, 236)"
    page.get_by_test_id("input").fill("Thanks")
    screenshot(page, shots / "touches-dark-desktop.png")

    # Live: the visitor switches back to light.
    page.emulate_media(color_scheme="light")
    expect(page.get_by_test_id("widget-root")).to_have_attribute("data-scheme", "light")
    assert background(page, "panel") == "rgb(255, 255, 255)"

    phone = new_page(pages, viewport=(390, 844), color_scheme="dark")
    open_widget(phone)
    customer_send(phone, "Hi from my phone")
    assert background(phone, "messages") == "rgb(13, 17, 25)"
    phone.get_by_test_id("emoji-button").click()
    screenshot(phone, shots / "touches-dark-phone.png")


def test_data_theme_forces_a_scheme(pages, site):
    def force_dark(context, page):
        staffed(context, page)
        page.emulate_media(color_scheme="light")

        def rewrite(route):
            response = route.fetch()
            body = response.text().replace("data-inbox=", 'data-theme="dark" data-inbox=')
            route.fulfill(response=response, body=body)

        page.route(lambda url: url.endswith("/"), rewrite)

    page = pages.new_page(setup=force_dark)
    open_widget(page)
    root = page.get_by_test_id("widget-root")
    expect(root).to_have_attribute("data-theme", "dark")
    expect(root).to_have_attribute("data-scheme", "dark")
    assert background(page, "panel") == "rgb(23, 28, 39)"


# --- the console's composer --------------------------------------------------------------------


def test_console_composer_has_the_emoji_picker(pages, site, shots):
    customer = new_page(pages)
    open_widget(customer)
    customer_send(customer, "Hello from the shop")
    agent = pages.new_page()
    console_login(agent, site.agent, "Alice Martin")
    agent.get_by_test_id("conversation-item").first.locator("a").click()
    box = agent.get_by_test_id("composer-input")
    expect(box).to_be_enabled()
    box.fill("Thanks for waiting")
    box.press("End")

    agent.get_by_test_id("composer-emoji").click()
    picker = agent.get_by_test_id("composer-emoji-picker")
    expect(picker).to_be_visible()
    screenshot(agent, shots / "touches-console-emoji.png")
    agent.keyboard.press("End")  # 💡
    agent.keyboard.press("Enter")

    expect(picker).to_be_hidden()
    expect(box).to_have_value("Thanks for waiting💡")
    expect(box).to_be_focused()
    agent.keyboard.press("Enter")
    expect(widget_messages(customer).filter(has_text="Thanks for waiting💡")).to_have_attribute(
        "data-sender", "agent"
    )
