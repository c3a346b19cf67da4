"""Socket.IO for customers on older clients: the same protocol, the same channel-layer groups.

Each Socket.IO connection owns a channel-layer channel; a small task forwards whatever arrives
on it to the client as an event named after the frame's type. A Socket.IO customer and a
WebSocket agent therefore meet in the same groups, on one process or many.
"""

import asyncio
import logging
from typing import Any

import socketio
from channels.layers import get_channel_layer
from django.conf import settings

from helpdesk.core import fastjson, prometheus
from helpdesk.core.aio import cancel_and_wait
from helpdesk.core.errors import FrameTooLarge, InvalidJSON
from helpdesk.realtime.consumers import client_ip, header, parse_hello, start_refusal
from helpdesk.realtime.events import delivered_to
from helpdesk.realtime.frames import Frame, close_code, error_frame, resync_frame
from helpdesk.realtime.layers import GAP_TYPE
from helpdesk.realtime.sessions import CustomerSession
from helpdesk.widget.fast_path import avisitor_arrive

logger = logging.getLogger(__name__)


class _JSON:
    """python-socketio's JSON module hook, so dates in payloads serialise like everywhere."""

    @staticmethod
    def dumps(obj, **kwargs):
        return fastjson.dumps_text(obj)

    @staticmethod
    def loads(text, **kwargs):
        return fastjson.loads(text)


# Origins are checked per inbox when a client connects (an inbox lists its own sites), so
# Engine.IO's blanket CORS check stays open; no cookie is involved.
sio = socketio.AsyncServer(
    async_mode="asgi",
    cors_allowed_origins="*",
    json=_JSON,
    max_http_buffer_size=settings.WS_MAX_FRAME_BYTES * 2,
)


class ChannelSubscriber:
    """Joins channel-layer groups for one Socket.IO connection and forwards their events."""

    def __init__(self, sid: str):
        self.sid = sid
        self.layer = get_channel_layer()
        self.channel: str | None = None
        self._pump: asyncio.Task | None = None

    async def start(self) -> None:
        self.channel = await self.layer.new_channel()
        self._pump = asyncio.ensure_future(self._forward())

    async def _forward(self) -> None:
        while True:
            message = await self.layer.receive(self.channel)
            if message["type"] == GAP_TYPE:
                await _emit(self.sid, [resync_frame(message["reason"])])
                continue
            if not delivered_to(message, self.channel):
                continue
            event = message["event"]
            await sio.emit(event["type"], event, to=self.sid)

    @property
    def channel_name(self) -> str | None:
        return self.channel

    async def join(self, group: str) -> None:
        await self.layer.group_add(group, self.channel)

    async def leave(self, group: str) -> None:
        await self.layer.group_discard(group, self.channel)

    async def stop(self) -> None:
        if self._pump is not None:
            await cancel_and_wait(self._pump)


async def _emit(sid: str, frames: list[Frame]) -> None:
    for frame in frames:
        await sio.emit(frame["type"], frame, to=sid)
    if close_code(frames) is not None:
        await sio.disconnect(sid)


@sio.event
async def connect(sid: str, environ: dict[str, Any], auth: Any) -> None:
    scope = environ.get("asgi.scope", {})
    subscriber = ChannelSubscriber(sid)
    session = None
    try:
        hello = parse_hello({"type": "hello", "data": auth if isinstance(auth, dict) else {}})
        visitor, conversation = await avisitor_arrive(
            inbox_key=hello.data.inbox, token=hello.data.token, origin=header(scope, b"origin")
        )
        await subscriber.start()
        session = CustomerSession(visitor, client_ip=client_ip(scope), subscriber=subscriber)
        frames = await session.welcome(conversation)
    except Exception as exc:
        error = start_refusal(exc)
        await subscriber.stop()
        if session is not None:
            # As a disconnect would: presence taken back, groups left. Best effort: the refusal
            # (often an outage) is what the client must hear.
            try:
                await session.close()
            except Exception as failure:
                logger.warning("A refused Socket.IO connection was not cleaned up: %s", failure)
        # Socket.IO clients get (message, data): the code goes in data, as in docs/protocol.md.
        raise socketio.exceptions.ConnectionRefusedError(
            error.message, error_frame(error)["data"]
        ) from None
    await sio.save_session(sid, {"session": session, "subscriber": subscriber})
    prometheus.OPEN_CONNECTIONS.labels("socketio", "customer").inc()
    await _emit(sid, frames)


@sio.on("*")
async def any_event(event: str, sid: str, data: Any = None) -> None:
    state = await sio.get_session(sid)
    session: CustomerSession = state["session"]
    if not isinstance(data, dict):
        await _emit(sid, [error_frame(InvalidJSON(), ref=event)])
        return
    if len(_JSON.dumps(data)) > settings.WS_MAX_FRAME_BYTES:
        await _emit(sid, [error_frame(FrameTooLarge(limit=settings.WS_MAX_FRAME_BYTES), ref=event)])
        return
    await _emit(sid, await session.handle({**data, "type": event}))


@sio.event
async def disconnect(sid: str, *args) -> None:
    state = await sio.get_session(sid)
    if not state:
        return
    prometheus.OPEN_CONNECTIONS.labels("socketio", "customer").dec()
    await state["subscriber"].stop()
    await state["session"].close()
