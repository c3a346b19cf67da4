"""Clients and frames for the realtime tests.

``message_send`` builds the protocol's message.send frame; ``start_conversation`` drives the
in-process client of tests/realtime/conftest.py; the other classes talk to a live server
(``live_server_url`` or servers a test starts itself) over a real socket.
"""

import asyncio
import json

import socketio
import websockets
from channels.db import database_sync_to_async

from tests.realtime.conftest import ORIGIN
from tests.support.sessions import session_cookie


def message_send(text, client_id, conversation=None, **data) -> dict:
    """A message.send frame; ``data`` adds fields such as ``kind="note"``."""
    return {
        "type": "message.send",
        "conversation": conversation,
        "data": {"text": text, "client_id": client_id, **data},
    }


async def start_conversation(client, text="hi", client_id="c-1") -> int:
    """The first message: ack, then the replay of the new conversation so far."""
    await client.send(message_send(text, client_id))
    ack = await client.recv_type("ack")
    assert (await client.recv_type("message.created"))["seq"] == ack["seq"]
    assert (await client.recv_type("resumed"))["seq"] == ack["seq"]
    return ack["conversation"]


class _FrameReader:
    async def _receive(self) -> dict:
        raise NotImplementedError

    async def receive(self, timeout=5) -> dict:
        """The next frame, whatever its type."""
        return await asyncio.wait_for(self._receive(), timeout)

    async def next(self, frame_type, timeout=5) -> dict:
        """The next frame of ``frame_type``, skipping others; each wait is at most ``timeout``."""
        while True:
            frame = await asyncio.wait_for(self._receive(), timeout)
            if frame["type"] == frame_type:
                return frame


class _WebSocketClient(_FrameReader):
    """JSON frames over a plain WebSocket (the websockets library's client)."""

    def __init__(self, ws):
        self.ws = ws

    async def _receive(self) -> dict:
        return json.loads(await self.ws.recv())

    async def send(self, frame) -> None:
        await self.ws.send(json.dumps(frame))


class WebSocketCustomer(_WebSocketClient):
    @classmethod
    async def connect(cls, url, inbox, token):
        ws = await websockets.connect(
            url.replace("http", "ws") + "/ws/widget/", additional_headers={"Origin": ORIGIN}
        )
        customer = cls(ws)
        await customer.send({"type": "hello", "data": {"inbox": inbox.public_key, "token": token}})
        return customer


class WebSocketAgent(_WebSocketClient):
    @classmethod
    async def connect(cls, url, user):
        """A console socket with a real login session, past its welcome."""
        cookie = await database_sync_to_async(session_cookie)(user)
        ws = await websockets.connect(
            url.replace("http", "ws") + "/ws/console/",
            additional_headers={"Cookie": cookie, "Origin": url},
        )
        agent = cls(ws)
        await agent.next("welcome")
        return agent


class SocketIOCustomer(_FrameReader):
    """A Socket.IO client that records every frame it is sent, by type."""

    def __init__(self):
        self.client = socketio.AsyncClient(reconnection=False)
        self.frames: asyncio.Queue = asyncio.Queue()

        @self.client.on("*")
        async def any_event(event, data):
            await self.frames.put(data)

    async def _receive(self) -> dict:
        return await self.frames.get()

    async def connect(self, url, inbox, token, transport="websocket", origin=ORIGIN):
        await self.client.connect(
            url,
            socketio_path="socket.io",
            transports=[transport],
            headers={"Origin": origin},
            auth={"inbox": inbox.public_key, "token": token},
            wait_timeout=5,
        )

    async def emit(self, frame) -> None:
        await self.client.emit(frame["type"], frame)
