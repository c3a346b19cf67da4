"""rating.send works the same over WebSocket, long-poll and Socket.IO."""

import asyncio
import contextlib
import json

import pytest
from channels.db import database_sync_to_async
from django.test import AsyncClient

from helpdesk.conversations.lifecycle import conversation_resolve
from helpdesk.conversations.models import Rating
from tests.factories import ConversationFactory
from tests.realtime.clients import SocketIOCustomer
from tests.realtime.conftest import ORIGIN

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


def rating_send(conversation_id, score=4, comment="Very helpful"):
    return {
        "type": "rating.send",
        "conversation": conversation_id,
        "data": {"score": score, "comment": comment},
    }


@db
def resolved_conversation_of(issued, resolve=True):
    visitor = issued.visitor
    conversation = ConversationFactory(
        tenant=visitor.tenant, inbox=visitor.inbox, contact=visitor.contact
    )
    if resolve:
        conversation_resolve(tenant=visitor.tenant, conversation_id=conversation.pk)
    return conversation.pk


@db
def stored():
    return [(r.conversation_id, r.score, r.comment) for r in Rating.objects.all()]


# --- WebSocket ----------------------------------------------------------------------------------


async def test_rating_over_websocket_answers_action_done(inbox, issue_token, connect_customer):
    issued = await db(issue_token)()
    conversation_id = await resolved_conversation_of(issued)
    customer = await connect_customer(inbox, issued.token)
    welcome = await customer.recv_type("welcome")
    # On load: the resolved conversation, not rated yet.
    assert welcome["data"]["conversation"]["rating"] is None

    await customer.send(rating_send(conversation_id))

    done = await customer.recv_type("action.done")
    assert done["conversation"] == conversation_id
    assert done["data"]["action"] == "rating"
    assert done["data"]["rating"]["score"] == 4
    assert done["data"]["rating"]["comment"] == "Very helpful"
    assert await stored() == [(conversation_id, 4, "Very helpful")]

    # A reload: the welcome tells the widget the conversation is rated already.
    again = await connect_customer(inbox, issued.token)
    welcome = await again.recv_type("welcome")
    assert welcome["data"]["conversation"]["rating"]["score"] == 4


async def test_websocket_errors_name_the_rule(inbox, issue_token, connect_customer):
    issued = await db(issue_token)()
    open_id = await resolved_conversation_of(issued, resolve=False)
    customer = await connect_customer(inbox, issued.token)
    await customer.recv_type("welcome")

    await customer.send(rating_send(open_id))
    error = await customer.recv_type("error")
    assert error["data"]["code"] == "conversation_not_resolved"
    assert error["data"]["ref"] == "rating.send"

    await customer.send(rating_send(open_id, score=9))
    assert (await customer.recv_type("error"))["data"]["code"] == "invalid"

    resolved_id = await resolved_conversation_of(issued)
    await customer.send(rating_send(resolved_id))
    await customer.recv_type("action.done")
    await customer.send(rating_send(resolved_id, score=1))
    assert (await customer.recv_type("error"))["data"]["code"] == "already_rated"


async def test_another_visitors_conversation_cannot_be_rated(inbox, issue_token, connect_customer):
    owner = await db(issue_token)()
    conversation_id = await resolved_conversation_of(owner)
    intruder = await db(issue_token)()
    customer = await connect_customer(inbox, intruder.token)
    await customer.recv_type("welcome")

    await customer.send(rating_send(conversation_id))

    assert (await customer.recv_type("error"))["data"]["code"] == "not_found"
    assert await stored() == []


# --- Long-poll ----------------------------------------------------------------------------------


async def poll_send(inbox, token, frame):
    return await AsyncClient().post(
        "/widget/api/poll/send",
        data=json.dumps(frame),
        content_type="application/json",
        headers={
            "X-Inbox-Key": inbox.public_key,
            "Authorization": f"Bearer {token}",
            "Origin": ORIGIN,
        },
    )


async def test_rating_over_long_poll(inbox, issue_token):
    issued = await db(issue_token)()
    conversation_id = await resolved_conversation_of(issued)

    response = await poll_send(
        inbox, issued.token, rating_send(conversation_id, score=5, comment="")
    )

    assert response.status_code == 200
    events = response.json()["events"]
    assert [e["type"] for e in events] == ["action.done"]
    assert events[0]["data"]["rating"] == {
        "score": 5,
        "scale": "five",
        "comment": "",
        "created_at": events[0]["data"]["rating"]["created_at"],
    }

    again = await poll_send(inbox, issued.token, rating_send(conversation_id, score=1))
    assert again.status_code == 409
    assert again.json()["events"][0]["data"]["code"] == "already_rated"
    assert await stored() == [(conversation_id, 5, "")]


# --- Socket.IO ----------------------------------------------------------------------------------


@pytest.fixture
async def sio_customer():
    client = SocketIOCustomer()
    yield client
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(client.client.disconnect(), 2)


async def test_rating_over_socketio(live_server_url, inbox, issue_token, sio_customer):
    issued = await db(issue_token)()
    conversation_id = await resolved_conversation_of(issued)
    await sio_customer.connect(live_server_url, inbox, issued.token)
    await sio_customer.next("welcome")

    await sio_customer.emit(rating_send(conversation_id, score=3, comment="ok"))

    done = await sio_customer.next("action.done")
    assert done["data"]["action"] == "rating"
    assert done["data"]["rating"]["score"] == 3
    assert await stored() == [(conversation_id, 3, "ok")]

    await sio_customer.emit(rating_send(conversation_id, score=1))
    assert (await sio_customer.next("error"))["data"]["code"] == "already_rated"
