"""The bundled widget (static/helpdesk/widget.js, built from static/helpdesk/widget/) on the
visitor page: it loads from the one script tag, connects, labels its panel, and the browser's
console reports no error."""

import pytest
from playwright.sync_api import expect

from tests.browser.pages import open_widget

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BUNDLE_HEADER = "/*! Helpdesk chat widget. Built by `manage.py build_widget`"


def test_the_bundled_widget_loads_on_the_visitor_page_without_console_errors(pages, site):
    console_messages = []
    responses = []

    def watch(context, page):
        page.on("console", lambda message: console_messages.append(message))
        page.on("response", lambda response: responses.append(response))

    page = pages.new_page(setup=watch)
    open_widget(page)

    scripts = [r for r in responses if r.url.endswith("/static/helpdesk/widget.js")]
    assert len(scripts) == 1
    assert scripts[0].text().startswith(BUNDLE_HEADER)
    state = page.evaluate("HelpdeskWidget.state()")
    assert state["connected"] is True
    assert state["fatal"] is None
    assert page.evaluate("HelpdeskWidget.version") == "1.0.0"
    panel = page.get_by_test_id("panel")
    expect(panel).to_have_attribute("aria-label", "Chat with us")
    expect(page.get_by_test_id("input")).to_have_attribute("placeholder", "Write a message…")
    expect(page.get_by_test_id("send")).to_have_attribute("aria-label", "Send message")
    expect(page.get_by_test_id("launcher")).to_have_attribute("aria-label", "Close chat")
    expect(panel.locator(".footer")).to_have_text("Powered by Helpdesk")
    assert [m.text for m in console_messages if m.type == "error"] == []


def test_a_chinese_browser_gets_the_widget_in_chinese_from_the_servers_catalog(pages, site):
    asked = []
    page = pages.new_page(
        locale="zh-CN",
        setup=lambda context, page: page.on(
            "request", lambda r: asked.append(r.url) if "/widget/api/i18n" in r.url else None
        ),
    )
    page.goto("/")
    page.wait_for_function("window.HelpdeskWidget && HelpdeskWidget.state().connected")
    page.get_by_test_id("launcher").click()

    expect(page.get_by_test_id("input")).to_have_attribute("placeholder", "请输入消息…")
    expect(page.get_by_test_id("send")).to_have_attribute("aria-label", "发送消息")
    assert [url.split("?")[1] for url in asked] == ["locale=zh-hans"]  # as the server chose


def test_an_english_browser_asks_for_no_catalog(pages, site):
    asked = []
    page = pages.new_page(
        setup=lambda context, page: page.on(
            "request", lambda r: asked.append(r.url) if "/widget/api/i18n" in r.url else None
        ),
    )
    page.goto("/")
    page.wait_for_function("window.HelpdeskWidget && HelpdeskWidget.state().connected")

    expect(page.get_by_test_id("input")).to_have_attribute("placeholder", "Write a message…")
    assert asked == []
