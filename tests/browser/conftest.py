"""Browser tests: Playwright (sync API) driving Debian's chromium against the live daphne server.

One browser for the whole package; every test gets fresh contexts (cookies, localStorage).

Two things the fixtures take care of:

* The live server runs with DEBUG off and nothing collected into STATIC_ROOT, so it serves no
  static files. Every context answers ``/static/...`` from the repository's ``static/``
  directory instead: the page, the widget's API calls and its socket still go to daphne.
* Playwright's sync API leaves its own event loop marked as running in the main thread between
  calls. Django then refuses ORM calls in the test process ("async context"), so, for as long as
  the browser is up, DJANGO_ALLOW_ASYNC_UNSAFE is set. The browser is package-scoped so that
  the loop is gone again before the rest of the suite (async tests among it) runs.
"""

import mimetypes
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.factories import InboxFactory, MembershipFactory, TenantFactory

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = REPO_ROOT / "test-artifacts"
STATIC_DIR = REPO_ROOT / "static"
PASSWORD = "pw-for-tests-1"  # what tests.factories.UserFactory sets

# Short default waits: everything here is local, and a hung wait should fail the test quickly.
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def chromium_executable() -> Path:
    """The system chromium; a missing one skips the browser tests, except on CI where it fails."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        reason = f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "; CI=true, so this is a failure, not a skip", pytrace=False)
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="package")
def browser(chromium_executable):
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_executable), args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _serve_static(route) -> None:
    """Answer /static/<path> from the repository's static/ directory, else from an app's."""
    from urllib.parse import unquote, urlsplit

    from django.contrib.staticfiles import finders

    relative = unquote(urlsplit(route.request.url).path).removeprefix("/static/")
    path = (STATIC_DIR / relative).resolve()
    if not path.is_relative_to(STATIC_DIR.resolve()) or not path.is_file():
        # An app's static files (django-ninja's Swagger UI), where collectstatic finds them.
        found = finders.find(relative) if ".." not in relative else None
        if not found:
            route.fulfill(status=404, body="not found")
            return
        path = Path(found)
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if content_type.startswith("text/") or content_type.endswith("javascript"):
        content_type += "; charset=utf-8"
    route.fulfill(status=200, body=path.read_bytes(), headers={"Content-Type": content_type})


@dataclass
class Pages:
    """Contexts and pages a test opened, with the page errors each of them raised."""

    browser: object
    base_url: str
    contexts: list = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def new_page(
        self, *, viewport=(1280, 800), setup: Callable | None = None, locale: str = "en-US"
    ):
        context = self.browser.new_context(
            base_url=self.base_url,
            viewport={"width": viewport[0], "height": viewport[1]},
            locale=locale,
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.route(re.compile(r"^https?://[^/]+/static/"), _serve_static)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        if setup is not None:
            setup(context, page)
        return page


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.browser_test_failed = report.failed
    return report


@pytest.fixture
def pages(request, browser, live_server_url) -> Iterator[Pages]:
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    opened = Pages(browser=browser, base_url=live_server_url)
    try:
        yield opened
        if getattr(request.node, "browser_test_failed", False):
            # What every page looked like when the test failed, next to the other artifacts.
            ARTIFACTS.mkdir(exist_ok=True)
            for number, context in enumerate(opened.contexts):
                for page in context.pages:
                    page.screenshot(path=ARTIFACTS / f"failed-{request.node.name}-{number}.png")
    finally:
        for context in opened.contexts:
            context.close()
    assert not opened.errors, f"uncaught errors in the pages: {opened.errors}"


@dataclass
class Site:
    tenant: object
    inbox: object
    agent: object
    password: str


@pytest.fixture
def site(live_server_url) -> Site:
    """A tenant whose inbox the demo page at / embeds (the first active one) and that allows
    the live server's origin, plus an agent who can sign in with PASSWORD."""
    from helpdesk.tenants.models import Inbox

    tenant = TenantFactory(name="Acme Outdoor")
    inbox = InboxFactory(tenant=tenant, allowed_origins=live_server_url)
    Inbox.objects.exclude(pk=inbox.pk).update(is_active=False)
    agent = MembershipFactory(
        tenant=tenant,
        user__username="alice",
        user__first_name="Alice",
        user__last_name="Martin",
    ).user
    return Site(tenant=tenant, inbox=inbox, agent=agent, password=PASSWORD)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
