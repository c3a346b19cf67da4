"""The pre-chat form and verified identity in a real browser: the form fills the contact the
agent sees, its errors show at the field (the widget's own check and the server's), a forged
identity is refused and the widget stays anonymous, a verified user sees their history on a
second device, and logout starts a fresh visitor. Screenshots: var/screenshots/prechat-*.png,
identity-*.png."""

import json

import pytest
from playwright.sync_api import Page, expect

from helpdesk.conversations.models import Contact, Conversation
from helpdesk.tenants.models import Membership
from helpdesk.widget.identity import identity_signature
from helpdesk.widget.models import PrechatField
from tests.browser.pages import (
    console_login,
    customer_send,
    open_widget,
    screenshot,
    widget_messages,
)
from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SCREENSHOTS = REPO_ROOT / "var" / "screenshots"
PHONE = (390, 844)


@pytest.fixture
def form_site(site):
    inbox = site.inbox
    inbox.prechat_enabled = True
    inbox.save()
    for position, (key, kind, label, required, choices) in enumerate(
        [
            ("name", "name", "Your name", True, ""),
            ("email", "email", "E-mail", True, ""),
            ("phone", "phone", "Phone", False, ""),
            ("topic", "choice", "Topic", True, "Billing\nShipping\nReturns"),
        ]
    ):
        PrechatField.objects.create(
            tenant=site.tenant, inbox=inbox, position=position, key=key, kind=kind, label=label,
            required=required, choices=choices,
        )  # fmt: skip
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return site


def agent_online(pages, site) -> Page:
    """An agent with the console open: someone is there, so the widget offers the chat (not
    the offline form, helpdesk/widget/availability.py)."""
    Membership.objects.filter(user=site.agent).update(availability=Membership.Availability.ONLINE)
    agent = pages.new_page(viewport=(1440, 900))
    console_login(agent, site.agent, "Alice Martin")
    return agent


def open_form(page: Page) -> None:
    page.goto("/")
    page.wait_for_function("window.HelpdeskWidget && HelpdeskWidget.state().connected")
    page.get_by_test_id("launcher").click()
    expect(page.get_by_test_id("prechat-form")).to_be_visible()
    expect(page.get_by_test_id("input")).to_be_hidden()


def fill_form(page: Page, **answers) -> None:
    for key, value in answers.items():
        field = page.get_by_test_id(f"prechat-input-{key}")
        if key == "topic":
            field.select_option(value)
        else:
            field.fill(value)


def test_the_pre_chat_form_fills_the_contact_the_agent_sees(pages, form_site):
    agent = agent_online(pages, form_site)
    customer = pages.new_page()
    open_form(customer)
    expect(customer.get_by_test_id("prechat-input-email")).to_have_attribute("type", "email")
    expect(customer.get_by_test_id("prechat-input-phone")).to_have_attribute("type", "tel")
    screenshot(customer, SCREENSHOTS / "prechat-form.png")

    # Left empty or wrong: the widget says so at the field and sends nothing.
    fill_form(customer, email="not an address")
    customer.get_by_test_id("prechat-start").click()
    expect(customer.get_by_test_id("prechat-error-name")).to_have_text("Please fill in this field.")
    expect(customer.get_by_test_id("prechat-error-email")).to_have_text(
        "Please enter a valid e-mail address."
    )
    expect(customer.get_by_test_id("prechat-error-topic")).to_have_text(
        "Please fill in this field."
    )
    expect(customer.get_by_test_id("prechat-input-name")).to_be_focused()
    screenshot(customer, SCREENSHOTS / "prechat-required.png")
    assert not Conversation.objects.exists()

    fill_form(
        customer, name="Ada Lovelace", email="ada@example.com", phone="+44 20 7946 0958",
        topic="Billing",
    )  # fmt: skip
    customer.get_by_test_id("prechat-start").click()
    expect(customer.get_by_test_id("prechat-form")).to_be_hidden()
    expect(customer.get_by_test_id("input")).to_be_visible()
    customer_send(customer, "I was charged twice for order 1234.")

    contact = Contact.objects.get()
    assert (contact.name, contact.email, contact.phone) == (
        "Ada Lovelace",
        "ada@example.com",
        "+44 20 7946 0958",
    )
    assert Conversation.objects.get().details["topic"] == "Billing"

    # A reload does not ask again.
    customer.reload()
    customer.wait_for_function("window.HelpdeskWidget && HelpdeskWidget.state().connected")
    expect(widget_messages(customer)).to_have_count(1)
    expect(customer.get_by_test_id("prechat-form")).to_have_count(0)

    item = agent.get_by_test_id("conversation-item")
    expect(item.get_by_test_id("conversation-name")).to_have_text("Ada Lovelace")
    item.locator("a").click()
    expect(agent.get_by_test_id("contact-name")).to_have_text("Ada Lovelace")
    expect(agent.get_by_test_id("contact-email")).to_have_text("ada@example.com")
    expect(agent.get_by_test_id("contact-phone")).to_have_text("+44 20 7946 0958")
    answers = agent.get_by_test_id("prechat-answers")
    expect(answers).to_contain_text("Topic")
    expect(agent.get_by_test_id("prechat-answer-topic")).to_have_text("Billing")
    screenshot(agent, SCREENSHOTS / "prechat-console.png")


def test_the_servers_refusal_shows_at_the_field_and_the_message_waits(pages, form_site):
    # Answers kept from before the e-mail became required (say): the widget sends them, the
    # server refuses, and the form comes back with the server's error at the e-mail.
    key = f"helpdesk:{form_site.inbox.public_key}:prechat"
    stale = json.dumps({"name": "Ada", "topic": "Billing"})

    def keep_answers(context, page):
        context.add_init_script(f"sessionStorage.setItem({json.dumps(key)}, {json.dumps(stale)})")

    agent_online(pages, form_site)
    customer = pages.new_page(viewport=PHONE, setup=keep_answers)
    open_widget(customer)
    customer.get_by_test_id("input").fill("Hello?")
    customer.keyboard.press("Enter")

    expect(customer.get_by_test_id("prechat-form")).to_be_visible()
    expect(customer.get_by_test_id("prechat-error-email")).to_have_text(
        "Please fill in this field."
    )
    expect(customer.get_by_test_id("prechat-input-name")).to_have_value("Ada")
    screenshot(customer, SCREENSHOTS / "prechat-phone-server-error.png")
    assert not Conversation.objects.exists()

    fill_form(customer, email="ada@example.com")
    customer.get_by_test_id("prechat-start").click()
    sent = widget_messages(customer).filter(has_text="Hello?")
    expect(sent).to_have_attribute("data-state", "complete")
    assert Contact.objects.get().email == "ada@example.com"
    screenshot(customer, SCREENSHOTS / "prechat-phone-sent.png")


def test_the_form_on_a_phone(pages, form_site):
    agent_online(pages, form_site)
    customer = pages.new_page(viewport=PHONE)
    open_form(customer)
    screenshot(customer, SCREENSHOTS / "prechat-phone.png")


# --- verified identity -------------------------------------------------------------------------

IDENTIFY_JS = """([user, signature]) => new Promise((resolve) => {
  window.__identityErrors = [];
  HelpdeskWidget.identify(user, signature, {
    onError: (error) => window.__identityErrors.push(error.code),
  }).then(resolve);
})"""


def identify(page: Page, user: dict, signature: str) -> dict:
    return page.evaluate(IDENTIFY_JS, [user, signature])


def test_a_forged_signature_is_refused_and_the_widget_stays_anonymous(pages, site):
    victim = Contact.objects.create(tenant=site.tenant, external_id="u-1", name="Victim")
    agent_online(pages, site)
    customer = pages.new_page()
    errors = []
    customer.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    open_widget(customer)
    before = customer.evaluate("HelpdeskWidget.state().visitor")

    result = identify(customer, {"id": "u-1", "name": "Mallory"}, "0" * 64)

    assert result == {"ok": False, "code": "identity_invalid"}
    assert customer.evaluate("window.__identityErrors") == ["identity_invalid"]
    assert any("identity_invalid" in text for text in errors)
    state = customer.evaluate("HelpdeskWidget.state()")
    assert (state["visitor"], state["identified"], state["fatal"]) == (before, False, None)
    customer_send(customer, "Still anonymous and still chatting")
    victim.refresh_from_db()
    assert victim.name == "Victim"
    assert not victim.conversations.exists()
    screenshot(customer, SCREENSHOTS / "identity-refused.png")


def test_a_verified_user_sees_their_history_on_another_device_and_logout_starts_afresh(pages, site):
    signature = identity_signature(site.inbox.identity_secret, "u-42")
    user = {"id": "u-42", "name": "Grace Hopper", "email": "grace@example.com"}
    agent_online(pages, site)

    laptop = pages.new_page()
    open_widget(laptop)
    assert identify(laptop, user, signature)["ok"] is True
    laptop.wait_for_function(
        "HelpdeskWidget.state().identified && HelpdeskWidget.state().connected"
    )
    customer_send(laptop, "Sent from my laptop")

    phone = pages.new_page(viewport=PHONE)
    open_widget(phone)
    assert identify(phone, user, signature)["ok"] is True
    expect(widget_messages(phone).filter(has_text="Sent from my laptop")).to_have_count(1)
    assert phone.evaluate("HelpdeskWidget.state().visitor") == laptop.evaluate(
        "HelpdeskWidget.state().visitor"
    )
    screenshot(phone, SCREENSHOTS / "identity-second-device.png")
    contact = Contact.objects.get(external_id="u-42")
    assert (contact.name, contact.email) == ("Grace Hopper", "grace@example.com")

    identified_visitor = laptop.evaluate("HelpdeskWidget.state().visitor")
    laptop.evaluate("HelpdeskWidget.logout()")
    laptop.wait_for_function(
        "(v) => HelpdeskWidget.state().connected && HelpdeskWidget.state().visitor"
        " && HelpdeskWidget.state().visitor !== v",
        arg=identified_visitor,
    )
    expect(widget_messages(laptop)).to_have_count(0)
    state = laptop.evaluate("HelpdeskWidget.state()")
    assert (state["identified"], state["conversation"]) == (False, None)
    screenshot(laptop, SCREENSHOTS / "identity-logout.png")
    customer_send(laptop, "A new visitor here")
    assert Contact.objects.get(visitor_id=state["visitor"]).external_id == ""


def test_a_server_rendered_page_identifies_with_the_tags_attributes(pages, site, live_server_url):
    agent_online(pages, site)
    signature = identity_signature(site.inbox.identity_secret, "u-7")
    Contact.objects.create(tenant=site.tenant, external_id="u-7", name="Old Name")
    html = (
        '<!doctype html><html><body><p>Account page</p><script src="/static/helpdesk/widget.js"'
        f' data-inbox="{site.inbox.public_key}" data-user-id="u-7" data-user-name="Lin Wei"'
        f' data-user-email="lin@example.com" data-user-hash="{signature}" async></script>'
        "</body></html>"
    )

    def account_page(context, page):
        context.route(
            f"{live_server_url}/account",
            lambda route: route.fulfill(status=200, body=html, content_type="text/html"),
        )

    customer = pages.new_page(setup=account_page)
    customer.goto("/account")
    customer.wait_for_function(
        "window.HelpdeskWidget && HelpdeskWidget.state().connected"
        " && HelpdeskWidget.state().identified"
    )
    contact = Contact.objects.get(external_id="u-7")
    assert customer.evaluate("HelpdeskWidget.state().visitor") == str(contact.visitor_id)
    assert (contact.name, contact.email) == ("Lin Wei", "lin@example.com")
