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


def test_a_catalog_in_the_visitor_answer_translates_the_widget(pages, site):
    # The server adds no catalog yet (issue 15, server side); the widget's half is ready for it.
    catalog = {
        "Write a message…": "输入消息…",
        "Powered by Helpdesk": "由 Helpdesk 提供支持",
        "We typically reply in a few seconds": "我们通常几秒内回复",
    }

    def with_catalog(route):
        answer = route.fetch()
        body = answer.json()
        body["i18n"] = {"locale": "zh-hans", "catalog": catalog, "plural": None}
        route.fulfill(response=answer, json=body)

    page = pages.new_page(
        setup=lambda context, page: page.route("**/widget/api/visitor", with_catalog)
    )
    page.goto("/")
    page.wait_for_function("window.HelpdeskWidget && HelpdeskWidget.state().connected")
    page.get_by_test_id("launcher").click()
    expect(page.get_by_test_id("input")).to_have_attribute("placeholder", "输入消息…")
    expect(page.get_by_test_id("panel").locator(".footer")).to_have_text("由 Helpdesk 提供支持")
    expect(page.get_by_test_id("status")).to_have_text("我们通常几秒内回复")
    # What the catalog lacks stays English.
    expect(page.get_by_test_id("send")).to_have_attribute("aria-label", "Send message")
