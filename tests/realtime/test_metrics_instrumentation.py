"""The realtime doors keep the Prometheus metrics: open connections, messages by sender."""

import pytest
from channels.db import database_sync_to_async

from helpdesk.core import prometheus
from tests.realtime.clients import message_send, start_conversation

pytestmark = pytest.mark.django_db(transaction=True)


def sample(name: str, labels: dict) -> float:
    return prometheus.REGISTRY.get_sample_value(name, labels) or 0.0


WS_CUSTOMER = {"transport": "websocket", "side": "customer"}
WS_AGENT = {"transport": "websocket", "side": "agent"}


async def test_a_customer_socket_is_counted_while_open_and_its_messages_by_sender(
    connect_customer, inbox, issue_token
):
    open_before = sample("helpdesk_open_connections", WS_CUSTOMER)
    sent_before = sample("helpdesk_messages_total", {"sender": "contact"})
    latency_before = sample("helpdesk_message_delivery_seconds_count", {})

    issued = await database_sync_to_async(issue_token)()
    client = await connect_customer(inbox, issued.token)
    await client.recv_type("welcome")
    assert sample("helpdesk_open_connections", WS_CUSTOMER) == open_before + 1
    conversation = await start_conversation(client, "first")
    await client.send(message_send("second", "c-2", conversation=conversation))
    await client.recv_type("ack")

    assert sample("helpdesk_messages_total", {"sender": "contact"}) == sent_before + 2
    assert sample("helpdesk_message_delivery_seconds_count", {}) == latency_before + 2
    await client.close()
    assert sample("helpdesk_open_connections", WS_CUSTOMER) == open_before


async def test_an_agent_socket_is_counted_on_its_side(connect_agent, agent):
    before = sample("helpdesk_open_connections", WS_AGENT)
    console = await connect_agent(agent)
    assert (await console.recv())["type"] == "welcome"
    assert sample("helpdesk_open_connections", WS_AGENT) == before + 1
    await console.close()
    assert sample("helpdesk_open_connections", WS_AGENT) == before
