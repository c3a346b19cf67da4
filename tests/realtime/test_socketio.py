"""Socket.IO against a real daphne process, with python-socketio's real client."""

import asyncio
import contextlib

import pytest
import socketio
from channels.db import database_sync_to_async

from helpdesk.conversations.models import Message
from tests.realtime.clients import SocketIOCustomer, WebSocketAgent, message_send
from tests.realtime.conftest import ORIGIN

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


@pytest.fixture
async def customer():
    client = SocketIOCustomer()
    yield client
    # The polling client's disconnect waits for its pending GET, which the server only ends at
    # its next ping (25 s); the test does not wait for that.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(client.client.disconnect(), 2)


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_socketio_customer_and_websocket_agent_talk_both_ways(
    live_server_url, inbox, issue_token, agent, customer, transport
):
    token = (await db(issue_token)()).token
    await customer.connect(live_server_url, inbox, token, transport=transport)
    welcome = await customer.next("welcome")
    assert welcome["conversation"] is None

    await customer.emit(message_send("hello over socket.io", "s-1"))
    ack = await customer.next("ack")
    conversation_id = ack["conversation"]
    assert (await customer.next("resumed"))["seq"] == 1

    console = await WebSocketAgent.connect(live_server_url, agent)
    await console.send({"type": "subscribe", "conversation": conversation_id})
    await console.next("subscribed")
    await console.send({"type": "resume", "conversation": conversation_id, "seq": 0})
    replayed = await console.next("message.created")
    assert replayed["data"]["text"] == "hello over socket.io"

    await console.send(message_send("hi from an agent", "a-1", conversation_id))
    reply = await customer.next("message.created")
    assert reply["data"]["text"] == "hi from an agent"
    assert reply["data"]["sender"] == "agent"

    await customer.emit(message_send("thanks", "s-2", conversation_id))
    own = await console.next("message.created")
    live = await console.next("message.created")
    assert (own["data"]["text"], live["data"]["text"]) == ("hi from an agent", "thanks")
    await console.ws.close()


async def test_socketio_customer_never_receives_private_notes(
    live_server_url, inbox, issue_token, agent, customer
):
    token = (await db(issue_token)()).token
    await customer.connect(live_server_url, inbox, token)
    await customer.next("welcome")
    await customer.emit(message_send("hi", "s-1"))
    conversation_id = (await customer.next("ack"))["conversation"]
    await customer.next("resumed")
    console = await WebSocketAgent.connect(live_server_url, agent)

    await console.send(message_send("internal only", "n-1", conversation_id, kind="note"))
    await console.send(message_send("public", "a-1", conversation_id))

    public = await customer.next("message.created")
    assert public["data"]["text"] == "public"
    assert await db(Message.objects.filter(kind="note").count)() == 1
    await console.ws.close()


async def test_socketio_resend_is_stored_once(live_server_url, inbox, issue_token, customer):
    token = (await db(issue_token)()).token
    await customer.connect(live_server_url, inbox, token)
    await customer.next("welcome")
    frame = message_send("once", "same")

    await customer.emit(frame)
    first = await customer.next("ack")
    await customer.emit({**frame, "conversation": first["conversation"]})
    second = await customer.next("ack")

    assert second["seq"] == first["seq"] == 1
    assert await db(Message.objects.count)() == 1


async def test_socketio_bad_frames_get_error_events(live_server_url, inbox, issue_token, customer):
    token = (await db(issue_token)()).token
    await customer.connect(live_server_url, inbox, token)
    await customer.next("welcome")

    await customer.client.emit("message.send", "not an object")
    assert (await customer.next("error"))["data"]["code"] == "invalid_json"
    await customer.client.emit("shout", {})
    assert (await customer.next("error"))["data"]["code"] == "unknown_type"
    await customer.emit(message_send("x" * 20_000, "big"))
    assert (await customer.next("error"))["data"]["code"] == "frame_too_large"
    assert await db(Message.objects.count)() == 0


@pytest.mark.parametrize(
    ("token", "origin", "code"),
    [
        ("garbage", ORIGIN, "token_invalid"),
        (None, "https://evil.example.com", "origin_not_allowed"),
    ],
)
async def test_socketio_refuses_bad_credentials(
    live_server_url, inbox, issue_token, customer, token, origin, code
):
    token = token or (await db(issue_token)()).token
    errors = []
    customer.client.on("connect_error", lambda data: errors.append(data))

    with pytest.raises(socketio.exceptions.ConnectionError):
        await customer.connect(live_server_url, inbox, token, origin=origin)

    [error] = errors
    assert error["data"]["code"] == code
    assert error["message"] == error["data"]["message"]


async def test_socketio_token_must_not_travel_in_the_query_string(
    live_server_url, inbox, issue_token
):
    token = (await db(issue_token)()).token
    client = socketio.AsyncClient(reconnection=False)
    errors = []
    client.on("connect_error", lambda data: errors.append(data))

    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(
            f"{live_server_url}?inbox={inbox.public_key}&token={token}",
            transports=["websocket"],
            headers={"Origin": ORIGIN},
            wait_timeout=5,
        )

    # A valid token and inbox, from an allowed origin: refused only because the server reads
    # credentials from the auth payload alone, and that is empty.
    [error] = errors
    assert error["data"]["code"] == "unauthenticated"
    assert error["message"] == error["data"]["message"]
