# ruff: noqa: F811 - the fixtures imported below are used by name
"""A product link typed in the widget comes back to the customer as a card, through the whole
path: WebSocket → stored message → job after commit → plugin → message.updated."""

import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from tests.plugins.product_links.test_plugin import pattern, product_links, shop  # noqa: F401
from tests.realtime.clients import start_conversation
from tests.realtime.conftest import connect_customer, issue_token  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def jobs_running(request):
    """In service mode the plugin runs on a real Celery worker."""
    if settings.CELERY_BROKER_URL:
        request.getfixturevalue("celery_worker")


async def test_a_product_link_becomes_a_card_on_the_customers_screen(
    inbox,
    issue_token,
    connect_customer,
    product_links,
    shop,
    jobs_running,
):
    await database_sync_to_async(product_links)(tenant=inbox.tenant)
    issued = await database_sync_to_async(issue_token)()
    customer = await connect_customer(inbox, issued.token)
    await customer.recv_type("welcome")

    await start_conversation(customer, f"Is this one in stock? {shop}/p/1001")
    updated = await customer.recv_type("message.updated", timeout=15)

    [card] = updated["data"]["metadata"]["cards"]
    assert card["title"] == "Trail shoe 1001"
    assert card["url"].endswith("/p/1001")
    assert updated["data"]["text"].startswith("Is this one in stock?")
