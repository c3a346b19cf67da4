"""Two server processes sharing PostgreSQL and Redis behave as one helpdesk."""

import asyncio
import json

import pytest
import websockets
from channels.db import database_sync_to_async

from helpdesk.conversations.models import Message
from tests.conftest import LIVE_SERVER_ENV, free_port, start_server, stop_process
from tests.realtime.conftest import ORIGIN
from tests.realtime.test_socketio import SocketIOCustomer, WebSocketAgent

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

db = database_sync_to_async


@pytest.fixture(scope="module")
def two_nodes(django_db_setup, django_db_blocker):
    ports = [free_port(), free_port()]
    processes = [start_server(port, **LIVE_SERVER_ENV) for port in ports]
    try:
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            stop_process(process)


class WebSocketCustomer:
    def __init__(self, ws):
        self.ws = ws

    @classmethod
    async def connect(cls, url, inbox, token):
        ws = await websockets.connect(
            url.replace("http", "ws") + "/ws/widget/", additional_headers={"Origin": ORIGIN}
        )
        customer = cls(ws)
        await customer.send({"type": "hello", "data": {"inbox": inbox.public_key, "token": token}})
        return customer

    async def send(self, frame):
        await self.ws.send(json.dumps(frame))

    async def next(self, frame_type, timeout=5):
        while True:
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if frame["type"] == frame_type:
                return frame


async def test_customer_on_one_node_and_agent_on_the_other_talk_both_ways(
    two_nodes, inbox, issue_token, agent
):
    node_a, node_b = two_nodes
    token = (await db(issue_token)()).token
    customer = await WebSocketCustomer.connect(node_a, inbox, token)
    await customer.next("welcome")
    await customer.send(
        {
            "type": "message.send",
            "conversation": None,
            "data": {"text": "hello from node A", "client_id": "c-1"},
        }
    )
    conversation_id = (await customer.next("ack"))["conversation"]
    await customer.next("resumed")

    console = await WebSocketAgent.connect(node_b, agent)
    await console.send({"type": "subscribe", "conversation": conversation_id})
    await console.next("subscribed")
    await customer.send(
        {
            "type": "message.send",
            "conversation": conversation_id,
            "data": {"text": "anyone there?", "client_id": "c-2"},
        }
    )
    assert (await console.next("message.created"))["data"]["text"] == "anyone there?"
    assert (await customer.next("message.created"))["data"]["text"] == "anyone there?"

    await console.send(
        {
            "type": "message.send",
            "conversation": conversation_id,
            "data": {"text": "yes, from node B", "client_id": "a-1"},
        }
    )
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
    await sio_customer.emit(
        {
            "type": "message.send",
            "conversation": None,
            "data": {"text": "via socket.io on A", "client_id": "s-1"},
        }
    )
    conversation_id = (await sio_customer.next("ack"))["conversation"]
    await sio_customer.next("resumed")

    console = await WebSocketAgent.connect(node_b, agent)
    await console.send(
        {
            "type": "message.send",
            "conversation": conversation_id,
            "data": {"text": "via websocket on B", "client_id": "a-1"},
        }
    )

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
    await customer.send(
        {
            "type": "message.send",
            "conversation": None,
            "data": {"text": "new here", "client_id": "c-1"},
        }
    )

    update = await console.next("conversation.updated")
    assert update["data"]["contact"]["id"]
    await customer.ws.close()
    await console.ws.close()


async def test_an_idle_socket_outlives_the_channel_layers_blocking_read(
    two_nodes, inbox, issue_token
):
    """channels-redis blocks 5 s per read; redis-py's default read timeout is also 5 s."""
    node_a, _ = two_nodes
    token = (await db(issue_token)()).token
    customer = await WebSocketCustomer.connect(node_a, inbox, token)
    await customer.next("welcome")

    await asyncio.sleep(7)
    await customer.send({"type": "ping"})

    assert (await customer.next("pong"))["type"] == "pong"
    await customer.ws.close()
