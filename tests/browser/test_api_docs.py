"""The API's interactive docs load in a browser from our own static files."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import REPO_ROOT
from tests.browser.pages import screenshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_the_swagger_page_shows_every_resource(pages):
    requested = []
    page = pages.new_page(
        setup=lambda context, page: page.on("request", lambda r: requested.append(r.url))
    )

    page.goto("/api/v1/docs")

    expect(page.locator(".swagger-ui .title")).to_contain_text("Helpdesk API")
    for tag in ("conversations", "contacts", "knowledge", "reports"):
        expect(page.locator(f"#operations-tag-{tag.replace(' ', '_')}")).to_be_visible()
    assert all(url.startswith(pages.base_url) for url in requested), requested
    (REPO_ROOT / "var" / "screenshots").mkdir(parents=True, exist_ok=True)
    screenshot(page, REPO_ROOT / "var" / "screenshots" / "api-docs.png")
