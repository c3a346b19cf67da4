"""While Redis is down, the widget is told to retry, and it loses nothing.

A real daphne process on a Redis server of this test's own, which the test stops and starts
again: during the outage the widget's HTTP endpoints answer a JSON 503 with Retry-After, sockets
close with 4503 after an ``unavailable`` error, nothing half-stored is left, and
once Redis is back the same visitor reconnects, resumes, and its refused message goes through
once.
"""

import asyncio

import httpx
import pytest
import websockets
from channels.db import database_sync_to_async

from helpdesk.conversations.models import Message
from helpdesk.core import fastjson
from tests.realtime.clients import WebSocketCustomer, message_send
from tests.realtime.conftest import ORIGIN

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, pytest.mark.slow]

db = database_sync_to_async


async def visitor_token(http: httpx.AsyncClient, inbox, token=None) -> httpx.Response:
    body = {"inbox": inbox.public_key, **({"token": token} if token else {})}
    return await http.post("/widget/api/visitor", json=body, headers={"Origin": ORIGIN})


async def closed_with(customer: WebSocketCustomer) -> int:
    """The close code, once every frame before it has been read."""
    try:
        while True:
            await asyncio.wait_for(customer.ws.recv(), 10)
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code


async def test_widget_retries_through_a_redis_outage_and_loses_nothing(
    fault_redis, fault_web, inbox
):
    url = fault_web
    async with httpx.AsyncClient(base_url=url, timeout=15) as http:
        token = (await visitor_token(http, inbox)).json()["token"]
        customer = await WebSocketCustomer.connect(url, inbox, token)
        await customer.next("welcome")
        await customer.send(message_send("before", "c-before"))
        conversation = (await customer.next("ack"))["conversation"]

        fault_redis.stop()

        refused = await visitor_token(http, inbox, token)
        assert refused.status_code == 503
        assert refused.headers["Content-Type"] == "application/json"
        assert int(refused.headers["Retry-After"]) > 0
        assert refused.json()["events"][0]["data"]["code"] == "unavailable"

        await customer.send(message_send("during", "c-during", conversation=conversation))
        error = await customer.next("error")
        assert error["data"]["code"] == "unavailable"
        assert error["data"]["retry_after"] > 0
        assert await closed_with(customer) == 4503

        newcomer = await websockets.connect(
            url.replace("http", "ws") + "/ws/widget/", additional_headers={"Origin": ORIGIN}
        )
        # Refused before its hello: its process cannot receive events while Redis is away.
        assert fastjson.loads(await asyncio.wait_for(newcomer.recv(), 10))["data"]["code"] == (
            "unavailable"
        )
        assert await closed_with(WebSocketCustomer(newcomer)) == 4503

        fault_redis.start()

        assert (await visitor_token(http, inbox, token)).status_code == 200
        customer = await WebSocketCustomer.connect(url, inbox, token)
        welcome = await customer.next("welcome")
        assert welcome["conversation"] == conversation
        await customer.send(message_send("during", "c-during", conversation=conversation))
        ack = await customer.next("ack")
        await customer.send(message_send("during", "c-during", conversation=conversation))
        assert (await customer.next("ack"))["seq"] == ack["seq"]  # the widget's resend: once
        await customer.ws.close()

    texts = await db(
        lambda: list(
            Message.objects.filter(conversation_id=conversation, kind="text")
            .order_by("seq")
            .values_list("text", flat=True)
        )
    )()
    assert texts == ["before", "during"]
