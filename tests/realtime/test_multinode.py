"""Two server processes sharing PostgreSQL and Redis behave as one helpdesk: one daphne, one
uvicorn (``manage.py serve``), so both servers the project ships are tested together."""

import asyncio

import pytest
from channels.db import database_sync_to_async

from helpdesk.conversations.models import Message
from tests.conftest import LIVE_SERVER_ENV, free_port, start_server, stop_process
from tests.realtime.clients import (
    SocketIOCustomer,
    WebSocketAgent,
    WebSocketCustomer,
    message_send,
)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

db = database_sync_to_async


@pytest.fixture(scope="module")
def two_nodes(django_db_setup, django_db_blocker):
    ports = [free_port(), free_port()]
    processes = [
        start_server(port, server, **LIVE_SERVER_ENV)
        for port, server in zip(ports, ("daphne", "uvicorn"), strict=True)
    ]
    try:
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            stop_process(process)


async def test_customer_on_one_node_and_agent_on_the_other_talk_both_ways(
    two_nodes, inbox, issue_token, agent
):
    node_a, node_b = two_nodes
    token = (await db(issue_token)()).token
    customer = await WebSocketCustomer.connect(node_a, inbox, token)
    await customer.next("welcome")
    await customer.send(message_send("hello from node A", "c-1"))
    conversation_id = (await customer.next("ack"))["conversation"]
    await customer.next("resumed")

    console = await WebSocketAgent.connect(node_b, agent)
    await console.send({"type": "subscribe", "conversation": conversation_id})
    await console.next("subscribed")
    await customer.send(message_send("anyone there?", "c-2", conversation_id))
    assert (await console.next("message.created"))["data"]["text"] == "anyone there?"
    assert (await customer.next("ack"))["data"]["message"]["text"] == "anyone there?"

    await console.send(message_send("yes, from node B", "a-1", conversation_id))
    assert (await customer.next("message.created"))["data"]["text"] == "yes, from node B"
    assert await db(Message.objects.count)() == 3
    await customer.ws.close()
    await console.ws.close()


async def test_socketio_on_one_node_sees_websocket_on_the_other(
    two_nodes, inbox, issue_token, agent
):
    node_a, node_b = two_nodes
    token = (await db(issue_token)()).token
    sio_customer = SocketIOCustomer()
    await sio_customer.connect(node_a, inbox, token)
    await sio_customer.next("welcome")
    await sio_customer.emit(message_send("via socket.io on A", "s-1"))
    conversation_id = (await sio_customer.next("ack"))["conversation"]
    await sio_customer.next("resumed")

    console = await WebSocketAgent.connect(node_b, agent)
    await console.send(message_send("via websocket on B", "a-1", conversation_id))

    received = await sio_customer.next("message.created")
    assert received["data"]["text"] == "via websocket on B"
    await sio_customer.client.disconnect()
    await console.ws.close()


async def test_conversation_list_updates_reach_agents_on_every_node(
    two_nodes, inbox, issue_token, agent, tenant
):
    node_a, node_b = two_nodes
    console = await WebSocketAgent.connect(node_b, agent)
    token = (await db(issue_token)()).token

    customer = await WebSocketCustomer.connect(node_a, inbox, token)
    await customer.next("welcome")
    await customer.send(message_send("new here", "c-1"))

    update = await console.next("conversation.updated")
    assert update["data"]["contact"]["id"]
    await customer.ws.close()
    await console.ws.close()


async def test_an_idle_socket_outlives_the_channel_layers_blocking_read(
    two_nodes, inbox, issue_token
):
    """An idle socket stays up past redis-py's default 5 s read timeout (the channel layer's
    subscription reads without one)."""
    node_a, _ = two_nodes
    token = (await db(issue_token)()).token
    customer = await WebSocketCustomer.connect(node_a, inbox, token)
    await customer.next("welcome")

    await asyncio.sleep(7)
    await customer.send({"type": "ping"})

    assert (await customer.next("pong"))["type"] == "pong"
    await customer.ws.close()
