"""follow_up.request on the WebSocket and over long-poll: the session answers action.done with
the conversation and follows it."""

import json

import pytest
from channels.db import database_sync_to_async
from django.test import AsyncClient

from helpdesk.conversations.models import Conversation, Message
from tests.factories import ContactFactory, ConversationFactory
from tests.realtime.clients import start_conversation
from tests.realtime.conftest import ORIGIN

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


def follow_up(conversation=None, email="ada@example.com", text="Call me back", name="Ada"):
    return {
        "type": "follow_up.request",
        "conversation": conversation,
        "data": {"email": email, "text": text, "name": name},
    }


# --- WebSocket ------------------------------------------------------------------------------------


async def test_websocket_offline_form_leaves_a_followed_conversation(inbox, issue_token,
                                                                     connect_customer):  # fmt: skip
    issued = await db(issue_token)()
    client = await connect_customer(inbox, issued.token)
    assert (await client.recv())["type"] == "welcome"

    await client.send(follow_up())
    done = await client.recv_type("action.done")

    assert done["data"]["action"] == "follow_up"
    payload = done["data"]["conversation"]
    assert (payload["status"], payload["follow_up"]) == ("queued", True)
    assert done["conversation"] == payload["id"]
    conversation = await db(Conversation.objects.get)(pk=payload["id"])
    assert conversation.contact_id == issued.visitor.contact.pk
    # The session follows it: an agent's reply reaches this socket.
    from helpdesk.conversations.services import Sender, message_post
    from tests.factories import MembershipFactory

    agent = (await db(MembershipFactory)(tenant=inbox.tenant)).user
    await db(message_post)(
        tenant=inbox.tenant,
        conversation_id=conversation.pk,
        sender=Sender.agent(agent),
        text="We'll e-mail you",
    )
    created = await client.recv_type("message.created")
    assert created["data"]["text"] == "We'll e-mail you"


async def test_websocket_marks_the_customers_own_conversation(inbox, issue_token,
                                                              connect_customer):  # fmt: skip
    issued = await db(issue_token)()
    client = await connect_customer(inbox, issued.token)
    await client.recv()
    conversation_id = await start_conversation(client)

    await client.send(follow_up(conversation_id, text=""))
    done = await client.recv_type("action.done")

    assert done["data"]["conversation"]["id"] == conversation_id
    assert done["data"]["conversation"]["follow_up"] is True
    contact = await db(lambda: Conversation.objects.get(pk=conversation_id).contact)()
    assert (contact.email, contact.name) == ("ada@example.com", "Ada")


async def test_websocket_invalid_email_is_an_error_frame(inbox, issue_token, connect_customer):
    issued = await db(issue_token)()
    client = await connect_customer(inbox, issued.token)
    await client.recv()

    await client.send(follow_up(email="nope"))
    error = await client.recv_type("error")

    assert error["data"]["code"] == "email_invalid"
    assert error["data"]["field"] == "email"
    assert not await db(Conversation.objects.exists)()


async def test_websocket_someone_elses_conversation_is_not_found(inbox, issue_token,
                                                                 connect_customer):  # fmt: skip
    theirs = await db(ConversationFactory)(
        tenant=inbox.tenant, inbox=inbox, contact=await db(ContactFactory)(tenant=inbox.tenant)
    )
    issued = await db(issue_token)()
    client = await connect_customer(inbox, issued.token)
    await client.recv()

    await client.send(follow_up(theirs.pk))
    error = await client.recv_type("error")

    assert error["data"]["code"] == "not_found"
    await db(theirs.refresh_from_db)()
    assert theirs.follow_up is False


# --- Long-poll ------------------------------------------------------------------------------------


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


async def test_long_poll_offline_form(inbox, issue_token):
    issued = await db(issue_token)()

    response = await poll_send(inbox, issued.token, follow_up())

    assert response.status_code == 200
    events = response.json()["events"]
    done = next(e for e in events if e["type"] == "action.done")
    assert done["data"]["action"] == "follow_up"
    assert done["data"]["conversation"]["follow_up"] is True
    message = await db(Message.objects.get)()
    assert message.text == "Call me back"


async def test_long_poll_double_submit_is_one_conversation(inbox, issue_token):
    issued = await db(issue_token)()

    first = await poll_send(inbox, issued.token, follow_up())
    again = await poll_send(inbox, issued.token, follow_up())

    ids = {
        next(e for e in r.json()["events"] if e["type"] == "action.done")["conversation"]
        for r in (first, again)
    }
    assert len(ids) == 1
    assert await db(Conversation.objects.count)() == 1


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"email": "", "text": "hi"}, "email_required"),
        ({"email": "x@", "text": "hi"}, "email_invalid"),
        ({"email": "ada@example.com", "text": ""}, "text_empty"),
        ({"text": "hi"}, "invalid"),
    ],
)
async def test_long_poll_invalid_requests_are_400_with_a_code(inbox, issue_token, data, code):
    issued = await db(issue_token)()

    response = await poll_send(
        inbox, issued.token, {"type": "follow_up.request", "conversation": None, "data": data}
    )

    assert response.status_code == 400
    assert response.json()["events"][0]["data"]["code"] == code
