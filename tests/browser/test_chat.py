"""A customer on the demo shop page and an agent in the console, in two real browser contexts,
talking through the live daphne server: over WebSocket, over long-polling when WebSocket is
blocked, and with hostile text that must stay text."""

import re

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

pytestmark = pytest.mark.django_db(transaction=True)

WIDGET_SOCKET = re.compile(r"^wss?://[^/]+/ws/widget/")

# Every element of the page, open shadow roots (the widget's) included.
ALL_ELEMENTS_JS = """() => {
  const out = [];
  const walk = (root) => root.querySelectorAll("*").forEach((el) => {
    out.push(el);
    if (el.shadowRoot) walk(el.shadowRoot);
  });
  walk(document);
  return out;
}"""
LINKS_JS = f"""() => ({ALL_ELEMENTS_JS})()
  .filter((el) => el.tagName === "A" && el.hasAttribute("href"))
  .map((a) => a.getAttribute("href"))"""
INJECTED_IMAGES_JS = f"""() => ({ALL_ELEMENTS_JS})()
  .filter((el) => el.tagName === "IMG"
    && (el.getAttribute("src") === "x" || el.hasAttribute("onerror")))
  .length"""


class Wire:
    """Everything the customer's page received from the server: WebSocket frames and the
    bodies of finished long-poll answers. A note must not be in it at all, not merely be
    dropped by the widget."""

    def __init__(self, page: Page):
        self.frames: list[str] = []
        self.finished = []
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))
        page.on("requestfinished", lambda request: self.finished.append(request))

    def _frame(self, payload) -> None:
        self.frames.append(payload if isinstance(payload, str) else payload.decode())

    def received(self) -> str:
        bodies = []
        for request in self.finished:
            if "/widget/api/" in request.url and (response := request.response()):
                bodies.append(response.text())
        return "\n".join(self.frames + bodies)


# --- the agent ---------------------------------------------------------------------------------


def agent_send(page: Page, text: str, *, note: bool = False) -> None:
    page.get_by_test_id("note-toggle" if note else "mode-message").click()
    page.get_by_test_id("composer-input").fill(text)
    page.keyboard.press("Enter")
    sent = transcript(page).filter(has_text=text)
    expect(sent).to_have_attribute("data-sender", "agent")
    expect(sent).to_have_attribute("data-kind", "note" if note else "text")
    # Stored and announced back: it has its seq and is no longer pending.
    expect(sent).to_have_attribute("data-seq", SEQ)
    expect(sent).to_have_attribute("data-state", "complete")


# --- the exchange ------------------------------------------------------------------------------


def chat_both_ways(customer: Page, agent: Page, wire: Wire, *, tag: str) -> None:
    """The customer's widget is open and connected, the agent is on the console's list."""
    expect(agent.get_by_test_id("conversation-list-state")).to_have_text("No conversations yet.")
    first = f"Hello, where is my order 1234? ({tag})"
    customer_send(customer, first)

    # The new conversation shows up in the agent's list without a reload.
    item = agent.get_by_test_id("conversation-item")
    expect(item).to_have_count(1)
    expect(item.get_by_test_id("conversation-preview")).to_have_text(first)
    item.locator("a").click()
    expect(agent.get_by_test_id("conversation")).to_be_visible()
    expect(transcript(agent).filter(has_text=first)).to_have_attribute("data-sender", "contact")

    reply = f"Hi! It left our warehouse this morning. ({tag})"
    agent_send(agent, reply)
    from_agent = widget_messages(customer).filter(has_text=reply)
    expect(from_agent).to_have_attribute("data-sender", "agent")
    expect(from_agent).to_have_attribute("data-state", "complete")

    # A private note stays in the console. The next public reply reaches the widget after it,
    # so by then the note would have arrived too if it leaked.
    note = f"Internal: customer is a VIP, offer free express shipping ({tag})"
    agent_send(agent, note, note=True)
    follow_up = f"Anything else I can do for you? ({tag})"
    agent_send(agent, follow_up)
    expect(widget_messages(customer).filter(has_text=follow_up)).to_have_attribute(
        "data-state", "complete"
    )

    # And live the other way round while the agent has the conversation open.
    second = f"No, that's all, thanks! ({tag})"
    customer_send(customer, second)
    expect(transcript(agent).filter(has_text=second)).to_have_attribute("data-sender", "contact")

    # Both sides hold the same conversation, in order; only the agent's has the note.
    public = [first, reply, follow_up, second]
    expect(widget_messages(customer)).to_have_count(len(public))
    for index, text in enumerate(public):
        expect(widget_messages(customer).nth(index)).to_contain_text(text)
    everything = [first, reply, note, follow_up, second]
    expect(transcript(agent)).to_have_count(len(everything))
    for index, text in enumerate(everything):
        expect(transcript(agent).nth(index)).to_contain_text(text)
    expect(transcript(agent).nth(2)).to_have_attribute("data-kind", "note")

    expect(customer.get_by_test_id("panel")).not_to_contain_text("VIP")
    received = wire.received()
    assert second in received  # the recorder does see the traffic...
    assert "VIP" not in received  # ...and the note is not in it


# --- tests -------------------------------------------------------------------------------------


def test_customer_and_agent_chat_live(pages, site, artifacts):
    customer = pages.new_page()
    wire = Wire(customer)
    open_widget(customer)
    agent = pages.new_page(viewport=(1440, 900))
    console_login(agent, site.agent, "Alice Martin")

    chat_both_ways(customer, agent, wire, tag="ws")

    state = customer.evaluate("HelpdeskWidget.state()")
    assert state["transport"] == "websocket", state
    assert state["connected"] is True, state
    expect(customer.get_by_test_id("panel")).to_have_attribute("data-transport", "websocket")
    assert wire.frames, "no WebSocket frames reached the page"

    screenshot(customer, artifacts / "widget.png")
    screenshot(agent, artifacts / "console.png")


def test_customer_and_agent_chat_over_long_polling(pages, site, artifacts):
    refused = []

    def refuse(ws):
        # What the page sees behind a proxy or firewall that does not pass WebSocket: the
        # socket closes abnormally (1006) without ever opening. Nothing tells the widget to
        # fall back; it has to notice by itself (auto mode, no data-transport).
        refused.append(ws.url)
        ws.close(code=1006)

    customer = pages.new_page(setup=lambda context, page: context.route_web_socket(
        WIDGET_SOCKET, refuse
    ))  # fmt: skip
    wire = Wire(customer)
    open_widget(customer)
    expect(customer.get_by_test_id("panel")).to_have_attribute("data-transport", "longpoll")
    agent = pages.new_page(viewport=(1440, 900))
    console_login(agent, site.agent, "Alice Martin")

    chat_both_ways(customer, agent, wire, tag="long-poll")

    state = customer.evaluate("HelpdeskWidget.state()")
    assert state["transport"] == "longpoll", state
    assert state["connected"] is True, state
    expect(customer.get_by_test_id("status")).to_have_attribute("data-connection", "online")
    # It did try WebSocket first, and then really went over the poll endpoints.
    assert refused, "the widget never tried a WebSocket"
    assert not wire.frames
    urls = [request.url for request in wire.finished]
    assert any("/widget/api/poll/send" in url for url in urls), urls
    assert any("/widget/api/poll?" in url for url in urls), urls
    # The visitor token never travels in a URL.
    token = customer.evaluate(f"localStorage.getItem('helpdesk:{site.inbox.public_key}:token')")
    assert token
    assert not [url for url in urls + refused if token in url]

    screenshot(customer, artifacts / "widget-longpoll.png")


XSS_IMG = '<img src=x onerror="window.__xss=1">'
XSS_LINK = "javascript:alert(1)"
SAFE_LINK = "https://shop.example.com/help"


def assert_inert(page: Page) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.evaluate(INJECTED_IMAGES_JS) == 0
    links = page.evaluate(LINKS_JS)
    assert not [href for href in links if re.match(r"\s*javascript:", href, re.I)], links


def test_hostile_text_stays_text_in_widget_and_console(pages, site, artifacts):
    customer = pages.new_page()
    open_widget(customer)
    agent = pages.new_page(viewport=(1440, 900))
    console_login(agent, site.agent, "Alice Martin")

    customer_send(customer, XSS_IMG)
    customer_send(customer, XSS_LINK)
    item = agent.get_by_test_id("conversation-item")
    expect(item.get_by_test_id("conversation-preview")).to_have_text(XSS_LINK)
    item.locator("a").click()
    expect(transcript(agent)).to_have_count(2)
    # The agent echoes both back, so the widget also renders them as someone else's message,
    # next to a link that may become one (so the link check below is not vacuous).
    agent_send(agent, f"You wrote {XSS_IMG}")
    agent_send(agent, f"Try {XSS_LINK} or javascript:window.__xss=1 or {SAFE_LINK}")
    expected = [
        XSS_IMG,
        XSS_LINK,
        f"You wrote {XSS_IMG}",
        f"Try {XSS_LINK} or javascript:window.__xss=1 or {SAFE_LINK}",
    ]

    def check(page: Page, messages) -> None:
        expect(messages).to_have_count(len(expected))
        for index, text in enumerate(expected):
            expect(messages.nth(index)).to_contain_text(text)
        safe = messages.nth(3).locator("a")
        expect(safe).to_have_count(1)
        expect(safe).to_have_attribute("href", SAFE_LINK)
        expect(safe).to_have_text(SAFE_LINK)
        assert_inert(page)

    check(customer, widget_messages(customer))
    check(agent, transcript(agent))
    expect(item.get_by_test_id("conversation-preview")).to_contain_text("javascript:window.__xss")
    screenshot(customer, artifacts / "widget-xss.png")
    screenshot(agent, artifacts / "console-xss.png")

    # After a reload both pages render the stored history rather than live frames: still text.
    customer.reload()
    customer.wait_for_function("HelpdeskWidget.state().connected")
    customer.evaluate("HelpdeskWidget.open()")
    expect(customer.get_by_test_id("panel")).to_be_visible()
    agent.reload()
    expect(agent.get_by_test_id("connection-status")).to_have_attribute("data-state", "online")
    check(customer, widget_messages(customer))
    check(agent, transcript(agent))
