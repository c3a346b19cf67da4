"""What both browser tests do on the widget and the console, and how they find messages."""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD

SEQ = re.compile(r"^[1-9][0-9]*$")
MESSAGE = "[data-testid=message]"
# A message someone wrote: system events ("Alice joined") are not part of what is compared.
CHAT_MESSAGE = f"{MESSAGE}:not([data-kind=event]):not([data-sender=system])"


def widget_messages(page: Page, *, events: bool = False):
    """The widget's messages; with ``events``, system events ("Alice joined") too."""
    return page.locator(f"[data-testid=panel] {MESSAGE if events else CHAT_MESSAGE}")


def transcript(page: Page, *, events: bool = False):
    """The console's open conversation; with ``events``, system events too."""
    return page.locator(f"[data-testid=transcript] {MESSAGE if events else CHAT_MESSAGE}")


def open_widget(page: Page) -> None:
    page.goto("/")
    page.wait_for_function("window.HelpdeskWidget && HelpdeskWidget.state().connected")
    page.get_by_test_id("launcher").click()
    expect(page.get_by_test_id("panel")).to_be_visible()
    expect(page.get_by_test_id("greeting")).to_have_text("Hi! How can we help?")


def customer_send(page: Page, text: str) -> None:
    page.get_by_test_id("input").fill(text)
    page.keyboard.press("Enter")
    mine = widget_messages(page).filter(has_text=text)
    expect(mine).to_have_attribute("data-sender", "contact")
    expect(mine).to_have_attribute("data-seq", SEQ)
    expect(mine).to_have_attribute("data-state", "complete")


def console_login(page: Page, user, name: str) -> None:
    """Sign ``user`` (whose password is PASSWORD) in to the console, shown as ``name``."""
    page.goto("/console/")
    expect(page).to_have_url("/console/login/?next=/console/")
    page.get_by_test_id("login-username").fill(user.username)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("console")).to_be_visible()
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "online")
    expect(page.get_by_test_id("current-agent")).to_contain_text(name)


def screenshot(page: Page, path) -> None:
    page.screenshot(path=path, animations="disabled")
