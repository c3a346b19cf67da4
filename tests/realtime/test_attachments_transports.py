"""Attachments travel on every transport: WebSocket, long-polling and Socket.IO carry the files
of a message.send, and the message.created / ack / replay payloads carry ``attachments``."""

import asyncio
import contextlib
import json

import httpx
import pytest
from channels.db import database_sync_to_async
from django.test import AsyncClient

from helpdesk.conversations.attachments import attachment_upload
from helpdesk.conversations.models import Message
from tests.realtime.clients import SocketIOCustomer, message_send
from tests.realtime.conftest import ORIGIN
from tests.support import files

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


def customer_file(visitor, name="shot.png", content=None):
    return attachment_upload(
        tenant=visitor.visitor.tenant,
        inbox=visitor.visitor.inbox,
        uploaded_file=files.upload(name, content or files.png_bytes()),
        contact=visitor.visitor.contact,
    )


def agent_file(tenant, user, name="guide.pdf", content=files.PDF):
    return attachment_upload(
        tenant=tenant, inbox=None, uploaded_file=files.upload(name, content), user=user
    )


async def test_websocket_customer_and_agent_send_files(
    connect_customer, connect_agent, inbox, tenant, agent, issue_token
):
    visitor = await db(issue_token)()
    upload = await db(customer_file)(visitor)
    customer = await connect_customer(inbox=inbox, token=visitor.token)
    await customer.recv_type("welcome")

    await customer.send(message_send("", "c-1", attachments=[upload.pk]))
    ack = await customer.recv_type("ack")
    created = await customer.recv_type("message.created")
    assert created["seq"] == ack["seq"]
    (sent,) = created["data"]["attachments"]
    assert (sent["id"], sent["name"], sent["type"]) == (upload.pk, "shot.png", "image/png")
    assert sent["url"].startswith("/files/")
    assert sent["thumbnail_url"].startswith("/files/")
    conversation_id = ack["conversation"]
    await customer.recv_type("resumed")

    console = await connect_agent(agent)
    await console.recv_type("welcome")
    await console.send({"type": "subscribe", "conversation": conversation_id})
    await console.recv_type("subscribed")
    await console.send({"type": "resume", "conversation": conversation_id, "seq": 0})
    replayed = await console.recv_type("message.created")
    assert [a["id"] for a in replayed["data"]["attachments"]] == [upload.pk]

    guide = await db(agent_file)(tenant, agent)
    await console.send(message_send("", "a-1", conversation_id, attachments=[guide.pk]))
    reply = await customer.recv_type("message.created")
    assert reply["data"]["sender"] == "agent"
    assert [(a["name"], a["thumbnail_url"]) for a in reply["data"]["attachments"]] == [
        ("guide.pdf", None)
    ]


async def test_websocket_refuses_another_visitors_file(connect_customer, inbox, issue_token):
    mine = await db(issue_token)()
    theirs = await db(issue_token)()
    their_upload = await db(customer_file)(theirs)
    customer = await connect_customer(inbox=inbox, token=mine.token)
    await customer.recv_type("welcome")

    await customer.send(message_send("look", "c-1", attachments=[their_upload.pk]))
    error = await customer.recv_type("error")
    assert error["data"]["code"] == "attachment_not_found"
    assert not await db(Message.objects.exists)()


def poll_headers(inbox, token):
    return {"X-Inbox-Key": inbox.public_key, "Authorization": f"Bearer {token}", "Origin": ORIGIN}


async def test_long_poll_sends_files(inbox, issue_token):
    visitor = await db(issue_token)()
    upload = await db(customer_file)(visitor, "notes.txt", b"some notes")

    response = await AsyncClient().post(
        "/widget/api/poll/send",
        data=json.dumps(message_send("", "c-1", attachments=[upload.pk])),
        content_type="application/json",
        headers=poll_headers(inbox, visitor.token),
    )

    assert response.status_code == 200, response.json()
    events = response.json()["events"]
    assert events[0]["type"] == "ack"
    created = next(e for e in events if e["type"] == "message.created")
    (sent,) = created["data"]["attachments"]
    assert (sent["name"], sent["type"], sent["size"]) == ("notes.txt", "text/plain", 10)

    # Wait answers with it as well (the replay of the conversation so far).
    replay = await AsyncClient().get(
        "/widget/api/poll",
        {"conversation": events[0]["conversation"], "seq": 0},
        headers=poll_headers(inbox, visitor.token),
    )
    replayed = [e for e in replay.json()["events"] if e["type"] == "message.created"]
    assert [a["id"] for a in replayed[0]["data"]["attachments"]] == [upload.pk]


async def test_long_poll_refuses_too_many_files(inbox, issue_token):
    inbox.attachments_per_message = 1
    await db(inbox.save)()
    visitor = await db(issue_token)()
    ids = [(await db(customer_file)(visitor, f"{n}.txt", b"x")).pk for n in range(2)]

    response = await AsyncClient().post(
        "/widget/api/poll/send",
        data=json.dumps(message_send("", "c-1", attachments=ids)),
        content_type="application/json",
        headers=poll_headers(inbox, visitor.token),
    )

    assert response.status_code == 400
    assert response.json()["events"][0]["data"]["code"] == "too_many_attachments"


@pytest.fixture
async def socketio_customer():
    client = SocketIOCustomer()
    yield client
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(client.client.disconnect(), 2)


async def test_socketio_sends_files_and_the_live_server_serves_them_safely(
    live_server_url, inbox, issue_token, socketio_customer
):
    visitor = await db(issue_token)()
    image = await db(customer_file)(visitor)
    page = await db(customer_file)(visitor, "page.html", files.HTML)
    await socketio_customer.connect(live_server_url, inbox, visitor.token)
    await socketio_customer.next("welcome")

    await socketio_customer.emit(message_send("", "s-1", attachments=[image.pk, page.pk]))
    ack = await socketio_customer.next("ack")
    created = await socketio_customer.next("message.created")
    assert created["seq"] == ack["seq"]
    shot, html = created["data"]["attachments"]
    assert (shot["name"], html["name"], html["type"]) == ("shot.png", "page.html", "text/plain")

    async with httpx.AsyncClient(base_url=live_server_url) as http:
        served = await http.get(shot["url"])
        assert served.status_code == 200
        assert served.content == files.png_bytes()
        assert served.headers["content-disposition"].startswith("inline")
        assert served.headers["x-content-type-options"] == "nosniff"
        download = await http.get(html["url"])
        assert download.status_code == 200
        assert download.content == files.HTML
        assert download.headers["content-type"] == "text/plain; charset=utf-8"
        assert download.headers["content-disposition"].startswith("attachment;")
        assert "sandbox" in download.headers["content-security-policy"]
        thumbnail = await http.get(shot["thumbnail_url"])
        assert thumbnail.headers["content-type"] == "image/webp"
