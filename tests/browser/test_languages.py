"""The product in the customer's and the agent's language, in a real browser: a zh-CN browser
gets the Chinese widget, the Chinese texts the helpdesk writes by itself, and the Chinese
console, sign-in and reports pages; the page's data-locale wins over the browser; an agent's
language switch sticks across reloads and sign-ins. Screenshots go to var/screenshots/."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, REPO_ROOT
from tests.browser.pages import screenshot
from tests.factories import BotConfigFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SCREENSHOTS = REPO_ROOT / "var" / "screenshots"
PHONE = (390, 844)


def open_widget(page, path="/"):
    page.goto(path)
    page.wait_for_function("window.HelpdeskWidget && HelpdeskWidget.state().connected")
    page.get_by_test_id("launcher").click()
    expect(page.get_by_test_id("panel")).to_be_visible()


def send(page, text):
    page.get_by_test_id("input").fill(text)
    page.keyboard.press("Enter")


@pytest.fixture
def site(site):
    """The demo page's inbox answered by a FAQ bot (whose handoff keywords include 转人工)."""
    site.inbox.bot = BotConfigFactory(tenant=site.tenant)
    site.inbox.save(update_fields=["bot"])
    return site


def chinese_conversation(page):
    open_widget(page)
    expect(page.get_by_test_id("greeting")).to_have_text("您好！请问有什么可以帮您？")
    expect(page.get_by_test_id("input")).to_have_attribute("placeholder", "请输入消息…")
    send(page, "我的订单 1001 还没到，请帮我转人工")
    # The handoff notice is the helpdesk's own text, written by the server (no request of the
    # customer's is active then) in the customer's language.
    expect(page.get_by_test_id("panel")).to_contain_text("正在为您转接人工客服")


def test_a_chinese_customer_meets_no_english(pages, site):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = pages.new_page(locale="zh-CN")

    chinese_conversation(page)

    expect(page.get_by_test_id("widget-root")).to_have_attribute("lang", "zh-hans")
    screenshot(page, SCREENSHOTS / "widget-zh-desktop.png")
    phone = pages.new_page(locale="zh-CN", viewport=PHONE)
    chinese_conversation(phone)
    screenshot(phone, SCREENSHOTS / "widget-zh-phone.png")


def test_the_pages_data_locale_wins_over_a_chinese_browser(pages, site):
    asked = []
    page = pages.new_page(
        locale="zh-CN",
        setup=lambda context, page: page.on(
            "request", lambda r: asked.append(r.url) if "/widget/api/i18n" in r.url else None
        ),
    )

    open_widget(page, "/?locale=en")

    expect(page.get_by_test_id("greeting")).to_have_text("Hi! How can we help?")
    expect(page.get_by_test_id("input")).to_have_attribute("placeholder", "Write a message…")
    assert asked == []  # English is built in


def test_the_inboxs_language_wins_over_an_english_browser(pages, site):
    site.inbox.language = "zh-hans"
    site.inbox.save(update_fields=["language"])
    page = pages.new_page(locale="en-US")

    open_widget(page)

    expect(page.get_by_test_id("input")).to_have_attribute("placeholder", "请输入消息…")


def sign_in(page, user):
    page.goto("/console/")
    page.get_by_test_id("login-username").fill(user.username)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("console")).to_be_visible()


def test_a_chinese_agent_gets_chinese_pages_and_a_switch_to_english_sticks(pages, site):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    customer = pages.new_page(locale="zh-CN")
    chinese_conversation(customer)
    page = pages.new_page(locale="zh-CN")

    page.goto("/console/")
    expect(page.get_by_role("heading", name="登录客服工作台")).to_be_visible()
    sign_in(page, site.agent)
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "online")
    expect(page.get_by_test_id("tab-queued")).to_contain_text("排队")
    page.get_by_test_id("tab-queued").click()
    page.get_by_test_id("conversation-list").locator("li").first.click()
    expect(page.get_by_test_id("transcript")).to_contain_text("我的订单 1001")
    # Names and reasons from live events (no request language) are worded by the console.
    expect(page.get_by_test_id("conversation-list")).to_contain_text("访客")
    expect(page.get_by_test_id("conversation-title")).to_contain_text("访客")
    expect(page.get_by_test_id("conversation-notice")).to_contain_text("客户要求转人工")
    expect(page.get_by_test_id("console")).not_to_contain_text("Visitor")
    screenshot(page, SCREENSHOTS / "console-zh.png")
    page.goto("/console/metrics/")
    expect(page.locator("h1")).to_contain_text("报表")
    screenshot(page, SCREENSHOTS / "reports-zh.png")

    page.goto("/console/")
    page.get_by_test_id("language-select").select_option("en")
    expect(page.get_by_test_id("logout")).to_have_text("Sign out")
    page.reload()
    expect(page.get_by_test_id("logout")).to_have_text("Sign out")
    page.get_by_test_id("logout").click()
    expect(page.get_by_test_id("login-submit")).to_be_visible()
    elsewhere = pages.new_page(locale="zh-CN")  # another browser, still Chinese by default
    sign_in(elsewhere, site.agent)
    expect(elsewhere.get_by_test_id("logout")).to_have_text("Sign out")
