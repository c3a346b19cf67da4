"""The console is native ES modules (static/helpdesk/console/*.js, no build step): the whole
module graph loads without an error, and the catalog the page hands it translates its text."""

import json

import pytest
from playwright.sync_api import expect

from helpdesk.conversations.services import Sender
from tests.browser.pages import console_login, transcript
from tests.factories import ConversationFactory, post_message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# A catalog in Django's JSON catalog format, as the server will render it into the page.
CATALOG = {
    "catalog": {"Live": "在线"},
    "plural": None,
    "formats": {},
}


def watch_console(page) -> list[str]:
    """Everything the page logged as an error, and every module it could not load."""
    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}") if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    page.on(
        "response",
        lambda response: (
            problems.append(f"{response.status} {response.url}")
            if "/static/" in response.url and response.status != 200
            else None
        ),
    )
    return problems


def test_the_console_module_graph_loads_without_errors(pages, site):
    conversation = ConversationFactory(tenant=site.tenant, inbox=site.inbox)
    post_message(conversation, "Where is my parcel?", Sender.contact(), client_id="c-1")
    agent = pages.new_page(viewport=(1440, 900))
    problems = watch_console(agent)
    modules: list[str] = []
    agent.on(
        "request",
        lambda request: (
            modules.append(request.url.rsplit("/", 1)[-1])
            if request.resource_type == "script"
            else None
        ),
    )

    console_login(agent, site.agent, "Alice Martin")
    agent.goto(f"/console/#/all/{conversation.pk}")
    expect(transcript(agent)).to_have_count(1)
    expect(transcript(agent)).to_contain_text("Where is my parcel?")
    # Parts from every corner of the graph drew themselves: list, header, panel, composer, assist.
    expect(agent.get_by_test_id("conversation-item")).to_have_count(1)
    expect(agent.get_by_test_id("conversation-status")).to_have_text("Bot")
    expect(agent.get_by_test_id("contact-details")).to_be_visible()
    expect(agent.get_by_test_id("composer-input")).to_have_attribute(
        "placeholder", "Write a reply…"
    )
    expect(agent.get_by_test_id("suggest-reply")).to_be_attached()
    expect(agent.get_by_test_id("connection-status").locator(".conn__text")).to_have_text("Live")

    assert problems == []
    assert {"console.js", "assist.js", "i18n.js", "connection.js", "transcript.js"} <= set(modules)


# Puts CATALOG into the page's bootstrap as the parser writes it, before the modules run (they
# run once the document is parsed). Serving a rewritten page from the test instead would make
# Chromium treat it as public and refuse its socket to 127.0.0.1.
ADD_CATALOG_JS = """
catalog => new MutationObserver((records, observer) => {
  const element = document.getElementById("console-bootstrap");
  if (!element) return;
  let data;
  try { data = JSON.parse(element.textContent); } catch (error) { return; }
  observer.disconnect();
  element.textContent = JSON.stringify(Object.assign(data, {i18n: catalog, language: "zh-hans"}));
}).observe(document, {childList: true, subtree: true})
"""


def test_the_catalog_in_the_bootstrap_translates_the_console(pages, site):
    agent = pages.new_page()
    problems = watch_console(agent)
    console_login(agent, site.agent, "Alice Martin")
    agent.add_init_script(f"({ADD_CATALOG_JS})({json.dumps(CATALOG)})")
    agent.reload()

    expect(agent.get_by_test_id("connection-status").locator(".conn__text")).to_have_text("在线")
    # A msgid the catalog lacks stays English.
    expect(agent.get_by_test_id("conversation-list-state")).to_have_text("No conversations yet.")
    assert problems == []
