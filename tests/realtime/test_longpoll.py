import asyncio
import json
import time

import pytest
from channels.db import database_sync_to_async
from django.test import AsyncClient

from helpdesk.conversations.models import Conversation, Message
from helpdesk.conversations.services import Sender, message_post
from tests.conftest import fresh_rate_window
from tests.factories import ConversationFactory
from tests.realtime.clients import message_send
from tests.realtime.conftest import ORIGIN

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


@pytest.fixture
async def visitor(inbox, issue_token):
    return await db(issue_token)()


def auth_headers(inbox, token, origin=ORIGIN):
    headers = {"X-Inbox-Key": inbox.public_key, "Authorization": f"Bearer {token}"}
    if origin:
        headers["Origin"] = origin
    return headers


async def send(inbox, token, frame, origin=ORIGIN):
    body = frame if isinstance(frame, str | bytes) else json.dumps(frame)
    return await AsyncClient().post(
        "/widget/api/poll/send",
        data=body,
        content_type="application/json",
        headers=auth_headers(inbox, token, origin),
    )


async def wait(inbox, token, conversation_id, seq, origin=ORIGIN):
    return await AsyncClient().get(
        "/widget/api/poll",
        {"conversation": conversation_id, "seq": seq},
        headers=auth_headers(inbox, token, origin),
    )


async def start(inbox, token) -> int:
    response = await send(inbox, token, message_send("hello", "c-1"))
    assert response.status_code == 200
    return response.json()["events"][0]["conversation"]


def types(response) -> list[str]:
    return [event["type"] for event in response.json()["events"]]


async def test_hello_over_long_poll_answers_welcome(inbox, visitor):
    response = await send(inbox, visitor.token, {"type": "hello"})

    assert response.status_code == 200
    assert types(response) == ["welcome"]
    assert response["Access-Control-Allow-Origin"] == ORIGIN


async def test_send_answers_ack_and_the_new_conversation_so_far(inbox, visitor):
    response = await send(inbox, visitor.token, message_send("hello", "c-1"))

    assert types(response) == ["ack", "message.created", "resumed"]
    assert response.json()["events"][1]["data"]["text"] == "hello"
    assert await db(Message.objects.count)() == 1


async def test_a_send_in_a_known_conversation_answers_just_the_ack(inbox, visitor):
    conversation_id = await start(inbox, visitor.token)

    response = await send(inbox, visitor.token, message_send("more", "c-2", conversation_id))

    # The next GET delivers the message; replaying it here too would send it twice.
    assert types(response) == ["ack"]


async def test_resend_over_long_poll_is_stored_once(inbox, visitor):
    conversation_id = await start(inbox, visitor.token)

    again = await send(inbox, visitor.token, message_send("hello", "c-1", conversation_id))

    assert again.json()["events"][0]["seq"] == 1
    assert await db(Message.objects.count)() == 1


async def test_wait_answers_at_once_with_missed_messages_without_notes(inbox, visitor, agent):
    conversation_id = await start(inbox, visitor.token)

    def agent_posts():
        for text, kind in [("a reply", "text"), ("note", "note")]:
            message_post(
                tenant=inbox.tenant,
                conversation_id=conversation_id,
                sender=Sender.agent(agent),
                text=text,
                kind=kind,
            )

    await db(agent_posts)()

    started = time.monotonic()
    response = await wait(inbox, visitor.token, conversation_id, 0)

    assert time.monotonic() - started < 2
    events = response.json()["events"]
    assert [(e["seq"], e["data"]["text"]) for e in events] == [(1, "hello"), (2, "a reply")]


async def test_wait_holds_until_a_message_arrives(inbox, visitor, agent, settings):
    settings.LONGPOLL_TIMEOUT = 10
    conversation_id = await start(inbox, visitor.token)

    waiting = asyncio.ensure_future(wait(inbox, visitor.token, conversation_id, 1))
    await asyncio.sleep(0.3)
    assert not waiting.done(), "nothing new yet: the poll must hold"
    await db(message_post)(
        tenant=inbox.tenant,
        conversation_id=conversation_id,
        sender=Sender.agent(agent),
        text="an agent replies",
    )
    response = await asyncio.wait_for(waiting, 5)

    created = [e for e in response.json()["events"] if e["type"] == "message.created"]
    assert [e["data"]["text"] for e in created] == ["an agent replies"]


async def test_wait_never_delivers_a_private_note(inbox, visitor, agent, settings):
    settings.LONGPOLL_TIMEOUT = 0.5
    conversation_id = await start(inbox, visitor.token)

    waiting = asyncio.ensure_future(wait(inbox, visitor.token, conversation_id, 1))
    await asyncio.sleep(0.1)
    await db(message_post)(
        tenant=inbox.tenant,
        conversation_id=conversation_id,
        sender=Sender.agent(agent),
        text="internal",
        kind="note",
    )
    response = await asyncio.wait_for(waiting, 5)

    assert [e for e in response.json()["events"] if e["type"].startswith("message.")] == []


async def test_wait_times_out_with_no_events(inbox, visitor, settings):
    settings.LONGPOLL_TIMEOUT = 0.2
    conversation_id = await start(inbox, visitor.token)

    response = await wait(inbox, visitor.token, conversation_id, 1)

    assert response.status_code == 200
    assert response.json() == {"events": []}


async def test_token_in_the_url_is_not_accepted(inbox, visitor):
    response = await AsyncClient().get(
        "/widget/api/poll",
        {"conversation": 1, "seq": 0, "token": visitor.token},
        headers={"X-Inbox-Key": inbox.public_key, "Origin": ORIGIN},
    )

    assert response.status_code == 401
    assert response.json()["events"][0]["data"]["code"] == "token_invalid"


@pytest.mark.parametrize(
    ("frame", "status", "code"),
    [
        ("not json", 400, "invalid_json"),
        ({"type": "shout"}, 400, "unknown_type"),
        ({"type": "message.send", "data": {"text": "", "client_id": "a"}}, 400, "text_empty"),
        ({"type": "resume", "conversation": 999_999, "seq": 0}, 404, "not_found"),
    ],
)
async def test_bad_frames_get_a_status_and_a_code(inbox, visitor, frame, status, code):
    response = await send(inbox, visitor.token, frame)

    assert response.status_code == status
    assert response.json()["events"][0]["data"]["code"] == code
    assert await db(Message.objects.count)() == 0


async def test_oversized_body_is_413(inbox, visitor, settings):
    response = await send(
        inbox, visitor.token, message_send("x" * settings.WS_MAX_FRAME_BYTES, "c")
    )

    assert response.status_code == 413
    assert response.json()["events"][0]["data"]["code"] == "frame_too_large"


async def test_rate_limit_is_429_with_retry_after(inbox, visitor, settings):
    settings.RATE_CUSTOMER_MESSAGES = (1, 60)
    fresh_rate_window(60)
    conversation_id = await start(inbox, visitor.token)

    response = await send(inbox, visitor.token, message_send("again", "c-2", conversation_id))

    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["events"][0]["data"]["retry_after"] == int(response["Retry-After"])
    assert await db(Message.objects.count)() == 1


async def test_writing_in_a_resolved_conversation_reopens_it(inbox, visitor):
    conversation_id = await start(inbox, visitor.token)
    await db(Conversation.objects.filter(pk=conversation_id).update)(status="resolved")

    response = await send(inbox, visitor.token, message_send("again", "c-2", conversation_id))

    assert response.status_code == 200
    assert (await db(Conversation.objects.get)(pk=conversation_id)).status == "queued"


@pytest.mark.parametrize("token", ["", "garbage"])
async def test_bad_token_is_401(inbox, token):
    response = await send(inbox, token, {"type": "ping"})

    assert response.status_code == 401
    assert response.json()["events"][0]["data"]["code"] == "token_invalid"


async def test_foreign_origin_is_403_without_cors_headers(inbox, visitor):
    response = await send(inbox, visitor.token, {"type": "ping"}, origin="https://evil.test")

    assert response.status_code == 403
    assert response.json()["events"][0]["data"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response


async def test_another_tenants_conversation_is_404_like_a_missing_one(inbox, visitor, other_tenant):
    foreign = await db(ConversationFactory)(tenant=other_tenant)

    answers = [await wait(inbox, visitor.token, cid, 0) for cid in (foreign.pk, foreign.pk + 99)]

    assert [r.status_code for r in answers] == [404, 404]
    assert answers[0].json() == answers[1].json()


@pytest.mark.parametrize(
    "params",
    [
        {"conversation": "x", "seq": 0},
        {"seq": 0},
        {"conversation": 1, "seq": "-1"},
        {"conversation": 1, "seq": "1e9"},
    ],
)
async def test_bad_wait_parameters_are_refused(inbox, visitor, params):
    conversation_id = await start(inbox, visitor.token)
    if params.get("conversation") == 1:
        params = {**params, "conversation": conversation_id}

    response = await AsyncClient().get(
        "/widget/api/poll", params, headers=auth_headers(inbox, visitor.token)
    )

    assert response.status_code in (400, 404)
    assert response.json()["events"][0]["type"] == "error"


async def test_preflight_is_answered_for_the_widget_headers(inbox):
    response = await AsyncClient().options(
        "/widget/api/poll/send",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
    )

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert "X-Inbox-Key" in response["Access-Control-Allow-Headers"]
    assert "Authorization" in response["Access-Control-Allow-Headers"]


async def test_wrong_method_is_405(inbox, visitor):
    response = await AsyncClient().put(
        "/widget/api/poll/send", headers=auth_headers(inbox, visitor.token)
    )

    assert response.status_code == 405


async def test_same_origin_poll_without_an_origin_header_is_accepted(inbox, visitor):
    """Chromium sends no Origin on a same-origin GET, e.g. the widget on the demo page."""
    await db(type(inbox).objects.filter(pk=inbox.pk).update)(
        allowed_origins=f"{ORIGIN}\nhttp://testserver"
    )
    conversation_id = await start(inbox, visitor.token)
    headers = {"X-Inbox-Key": inbox.public_key, "Authorization": f"Bearer {visitor.token}"}

    response = await AsyncClient().get(
        "/widget/api/poll", {"conversation": conversation_id, "seq": 0}, headers=headers
    )

    assert response.status_code == 200
    assert response.json()["events"][0]["data"]["text"] == "hello"


async def test_missing_origin_from_another_site_is_still_refused(inbox, visitor):
    headers = {"X-Inbox-Key": inbox.public_key, "Authorization": f"Bearer {visitor.token}"}

    response = await AsyncClient().post(
        "/widget/api/poll/send",
        data={"type": "ping"},
        content_type="application/json",
        headers=headers,
    )

    assert response.status_code == 403
