"""Dates, times, relative times and numbers follow the UI's language (static/helpdesk/shared/
format.js): a Chinese browser gets "3分钟前", "12月7日", "1.2万" and "US$12.50"; an English one
"3m ago", "Dec 7", "12.3K" and "$12.50". The console and its reports page, and the text and
formats of the reports page."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from helpdesk.ai.models import TokenUsage
from helpdesk.conversations.models import Conversation
from helpdesk.conversations.services import Sender
from tests.browser.pages import console_login, transcript
from tests.factories import ConversationFactory, post_message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CARD = {"title": "Trail shoe", "url": "https://shop.example.com/p/1", "price": "12.5"}

CHINESE = {
    "locale": "zh-CN",
    "relative": re.compile(r"^3\s*分钟前$"),
    "full_time": re.compile(r"\d{4}年\d{1,2}月\d{1,2}日"),
    "price": "US$12.50",
    "day": re.compile(r"^\d{1,2}月\d{1,2}日$"),
    "period": re.compile(r"最近 30 天（UTC）$"),
    "first_response": "3分钟20秒",
    "tokens": "1.2万",
    "tokens_note": "提示词 1.2万 · 生成 345",
    "models_total": "12,345",
    "conversations": "会话",
}
ENGLISH = {
    "locale": "en-US",
    "relative": re.compile(r"^3\s*m(in)?\.? ago$"),
    "full_time": re.compile(r"[A-Z][a-z]{2} \d{1,2}, \d{4}"),
    "price": "$12.50",
    "day": re.compile(r"^[A-Z][a-z]{2} \d{1,2}$"),
    "period": re.compile(r"· last 30 days \(UTC\)$"),
    "first_response": "3 min 20 sec",
    "tokens": "12.3K",
    "tokens_note": "12K prompt · 345 completion",
    "models_total": "12,345",
    "conversations": "Conversations",
}
LANGUAGES = [pytest.param(CHINESE, id="zh-CN"), pytest.param(ENGLISH, id="en")]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_console_says_when_in_the_ui_language(pages, site, language):
    conversation = ConversationFactory(tenant=site.tenant, inbox=site.inbox)
    post_message(
        conversation,
        "Is this one in stock?",
        Sender.contact(),
        client_id="c-1",
        metadata={"cards": [{**CARD, "currency": "USD"}]},
    )
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message_at=timezone.now() - timedelta(minutes=3, seconds=10)
    )
    agent = pages.new_page(viewport=(1440, 900), locale=language["locale"])

    console_login(agent, site.agent, "Alice Martin")
    when = agent.get_by_test_id("conversation-time")
    expect(when).to_have_text(language["relative"])
    expect(when).to_have_attribute("title", language["full_time"])

    agent.goto(f"/console/#/all/{conversation.pk}")
    expect(transcript(agent)).to_have_count(1)
    expect(agent.get_by_test_id("product-card").locator(".card__price")).to_have_text(
        language["price"]
    )
    expect(agent.get_by_test_id("panel-product-card").locator(".mini-card__price")).to_have_text(
        language["price"]
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_reports_page_speaks_and_counts_in_the_ui_language(pages, site, language):
    conversation = ConversationFactory(tenant=site.tenant, inbox=site.inbox)
    Conversation.objects.filter(pk=conversation.pk).update(
        first_response_at=conversation.created_at + timedelta(seconds=200)
    )
    TokenUsage.objects.create(
        tenant=site.tenant,
        conversation=conversation,
        purpose=TokenUsage.Purpose.SUMMARY,
        user=site.agent,
        model="fake-model",
        prompt_tokens=12_000,
        completion_tokens=345,
        source=TokenUsage.Source.API,
    )
    page = pages.new_page(viewport=(1280, 900), locale=language["locale"])
    console_login(page, site.agent, "Alice Martin")

    page.goto("/console/metrics/")
    reports = page.get_by_test_id("reports")
    expect(reports).to_have_attribute("data-loaded", "30")

    expect(page.get_by_test_id("period")).to_have_text(language["period"])
    value = '[data-field="value"]'
    expect(page.get_by_test_id("kpi-first-response").locator(value)).to_have_text(
        language["first_response"]
    )
    expect(page.get_by_test_id("kpi-tokens").locator(value)).to_have_text(language["tokens"])
    expect(page.get_by_test_id("kpi-tokens").locator('[data-field="note"]')).to_have_text(
        language["tokens_note"]
    )
    expect(page.get_by_test_id("models").locator("td").last).to_have_text(language["models_total"])
    # The charts draw on a canvas: their labels are read from Chart.js.
    daily = page.evaluate(
        """() => {
          const canvas = document.querySelector('[data-testid="chart-daily"] canvas');
          const chart = Chart.getChart(canvas);
          return {labels: chart.data.labels, series: chart.data.datasets[0].label};
        }"""
    )
    assert len(daily["labels"]) == 30
    assert all(language["day"].match(label) for label in daily["labels"]), daily["labels"]
    assert daily["series"] == language["conversations"]


SHARED_MODULES_JS = """
async () => {
  const i18n = await import("/static/helpdesk/shared/i18n.js");
  const format = await import("/static/helpdesk/shared/format.js");
  const products = await import("/static/helpdesk/shared/products.js");
  const threeMinutesAgo = Date.now() - 3 * 60000 - 5000;
  const sample = () => [
    format.intlLocale(),
    format.formatRelative(threeMinutesAgo),
    format.formatCompact(12345),
    format.formatDuration(200),
    products.formatPrice("1,299.5", "usd"),
    products.stockInfo(3).text,
  ];
  const out = {};
  i18n.loadCatalog({catalog: {}}, "en");
  out.en = sample();
  // The widget's case: the language changes after formatters were made for another one.
  i18n.loadCatalog(
    {catalog: {"Only %(count)s left": ["仅剩 %(count)s 件"]}, plural: "0"}, "zh-hans");
  out.zh = sample();
  // Plural expressions the client does not know (it cannot evaluate them: no eval under CSP).
  i18n.loadCatalog({catalog: {a: ["one", "other"]}, plural: "n%10==1 && n%100!=11 ? 0 : 1"}, "xx");
  out.unknownTwoForms = [i18n.ngettext("a", "b", 1), i18n.ngettext("a", "b", 5)];
  i18n.loadCatalog({catalog: {a: ["单一"]}, plural: "something new"}, "ja");
  out.unknownOneForm = i18n.ngettext("a", "b", 5);
  i18n.loadCatalog({catalog: {a: ["un", "plusieurs"]}, plural: "(n > 1)"}, "fr");
  out.french = [i18n.ngettext("a", "b", 0), i18n.ngettext("a", "b", 2)];
  return out;
}
"""


def test_the_shared_formatters_of_widget_and_console_follow_a_language_change(pages):
    page = pages.new_page()
    page.goto("/console/login/")

    result = page.evaluate(SHARED_MODULES_JS)

    assert result["en"][0] == "en"
    assert re.fullmatch(r"3 minutes ago", result["en"][1])
    assert result["en"][2:] == ["12.3K", "3 min 20 sec", "$1,299.50", "Only 3 left"]
    assert result["zh"][0] == "zh-Hans-CN"
    assert result["zh"][1] == "3分钟前"
    assert result["zh"][2:] == ["1.2万", "3分钟20秒", "US$1,299.50", "仅剩 3 件"]
    assert result["unknownTwoForms"] == ["one", "other"]
    assert result["unknownOneForm"] == "单一"
    assert result["french"] == ["un", "plusieurs"]
