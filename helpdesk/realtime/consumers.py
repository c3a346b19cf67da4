"""WebSocket transports: parse, authenticate, hand frames to a session, send what comes back."""

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.http.request import validate_host
from django.utils.translation import gettext

from helpdesk.core import fastjson, prometheus
from helpdesk.core import logging as log_context
from helpdesk.core.aio import cancel_and_wait
from helpdesk.core.asyncdb import db_call
from helpdesk.core.errors import (
    AuthenticationFailed,
    InvalidInput,
    Revoked,
    ServiceError,
    TokenInvalid,
)
from helpdesk.core.outage import unavailable
from helpdesk.core.ratelimit import client_address
from helpdesk.realtime import schemas
from helpdesk.realtime.events import delivered_to, event_text
from helpdesk.realtime.frames import (
    CLOSE_CODES,
    Frame,
    close_code,
    error_frame,
    parse_frame,
    resync_frame,
)
from helpdesk.realtime.sessions import AgentSession, CustomerSession
from helpdesk.tenants.access import active_membership
from helpdesk.widget.fast_path import avisitor_arrive

logger = logging.getLogger(__name__)

HELLO_TIMEOUT = 10.0
# Acks whose message.created echo a customer connection still expects (and skips).
ACKED_REMEMBERED = 64
# How often an open console re-checks that its agent still has access, as a backstop to the
# immediate notice that membership changes send.
AGENT_RECHECK_SECONDS = 60.0


def header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def client_ip(scope: dict) -> str:
    client = scope.get("client")
    return client_address(header(scope, b"x-forwarded-for"), client[0] if client else None)


class FrameConsumer(AsyncWebsocketConsumer):
    """Shared plumbing: frames as JSON text, channel-layer groups as subscriptions."""

    session: CustomerSession | AgentSession | None = None
    metrics_side = "customer"  # the open_connections metric's label

    async def send_frames(self, frames: list[Frame]) -> None:
        for frame in frames:
            await self.send(text_data=fastjson.dumps_text(frame))
        code = close_code(frames)
        if code is not None:
            await self.close(code=code)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' own dispatch first closes stale database connections, which is a hop to
        # its one shared sync thread for every event every socket gets: at 100 messages a
        # second the agents' events queued behind it for seconds. These consumers never touch
        # the database from the loop; their database work runs in db_call threads, which
        # look after their own connections.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)

    async def leave(self, group: str) -> None:
        await self.channel_layer.group_discard(group, self.channel_name)

    async def helpdesk_event(self, message: dict[str, Any]) -> None:
        """An event published to a group this connection joined."""
        if not delivered_to(message, self.channel_name):
            return
        await self.send(text_data=event_text(message))

    async def helpdesk_gap(self, message: dict[str, Any]) -> None:
        """Events for this connection were lost (helpdesk/realtime/layers.py): the client
        resumes from what it has."""
        await self.send_frames([resync_frame(message["reason"])])

    async def receive(self, text_data=None, bytes_data=None):
        try:
            frame = parse_frame(text_data if text_data is not None else bytes_data)
        except ServiceError as error:
            await self.send_frames([error_frame(error)])
            return
        if self.session is None:
            await self.start_session(frame)
        else:
            await self.send_frames(await self.session.handle(frame))

    async def start_session(self, frame: Frame) -> None:
        raise NotImplementedError

    async def disconnect(self, code):
        if self.session is not None:
            await self.session.close()

    async def __call__(self, scope, receive, send):
        """Channels' consumer loop, with layer messages delivered by callback, in batches.

        Channels keeps a task per socket waiting for the next layer message, takes one
        message per wake-up, and each takes a few turns of the event loop to arrive: a
        console receiving hundreds of events a second could not keep up, and every idle socket
        held two tasks. Here the layer calls back when messages arrive
        (helpdesk/realtime/layers.py) and one short-lived task sends all that is waiting. It
        waits while a frame from the client is being handled, so what that frame answers
        still comes before what happened after it, as before.
        """
        self.scope = scope
        self.channel_layer = get_channel_layer()
        try:
            self.channel_name = await self.channel_layer.new_channel()
        except Exception as exc:
            await _refuse_for_now(start_refusal(exc), receive, send)
            return
        self.base_send = send
        self._handling = False
        self._drainer: asyncio.Task | None = None
        self.channel_layer.attach(self.channel_name, self._layer_ready)
        prometheus.OPEN_CONNECTIONS.labels("websocket", self.metrics_side).inc()
        try:
            while True:
                await self._handle(await receive())
                self._layer_ready()
        except StopConsumer:
            pass
        finally:
            prometheus.OPEN_CONNECTIONS.labels("websocket", self.metrics_side).dec()
            if self._drainer is not None:
                await cancel_and_wait(self._drainer)
            # However the consumer ends (a failure included), its groups are left: the layer
            # would otherwise keep a mailbox for it that nobody reads.
            if self.session is not None:
                await self.session.leave_all()
            self.channel_layer.detach(self.channel_name)

    async def _handle(self, message: dict[str, Any]) -> None:
        # Its own function, so the frame is not kept alive between frames.
        self._handling = True
        try:
            await self.dispatch(message)
        finally:
            self._handling = False

    def _layer_ready(self) -> None:
        if self._handling or (self._drainer is not None and not self._drainer.done()):
            return
        self._drainer = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while messages := self.channel_layer.take_all(self.channel_name):
                for message in messages:
                    await self.dispatch(message)
                if self._handling:
                    return  # picked up again when the frame is handled
        except OSError:
            pass  # the client is gone (uvicorn raises ClientDisconnected); its disconnect follows
        finally:
            self._drainer = None


class CustomerConsumer(FrameConsumer):
    """The widget's socket. Authenticates with the first frame, so no token is ever in a URL."""

    async def connect(self):
        self._acked: set[tuple[int, int]] = set()
        await self.accept()
        self._hello_timer = asyncio.get_running_loop().call_later(
            HELLO_TIMEOUT, lambda: asyncio.ensure_future(self._hello_timed_out())
        )

    async def _hello_timed_out(self) -> None:
        if self.session is None:
            await self.close(code=4408)

    async def send_frames(self, frames: list[Frame]) -> None:
        for frame in frames:
            if frame["type"] == "ack":
                if len(self._acked) >= ACKED_REMEMBERED:
                    self._acked.clear()  # echoes that never came (a dropped event)
                self._acked.add((frame["conversation"], frame["seq"]))
        await super().send_frames(frames)

    async def helpdesk_event(self, message: dict[str, Any]) -> None:
        # The ack carried this connection's own message in full; its message.created echo
        # would be one more frame per message for nothing (the other tabs still get it).
        event = message["event"]
        if self._acked and event["type"] == "message.created":
            key = (event["conversation"], event.get("seq"))
            if key in self._acked:
                self._acked.discard(key)
                return
        await super().helpdesk_event(message)

    async def start_session(self, frame: Frame) -> None:
        if frame.get("type") != "hello":
            await self.send_frames(
                [
                    error_frame(
                        AuthenticationFailed(gettext("Send hello first.")), ref=frame.get("type")
                    )
                ]
            )
            return
        try:
            hello = parse_hello(frame)
            visitor, conversation = await avisitor_arrive(
                inbox_key=hello.data.inbox,
                token=hello.data.token,
                origin=header(self.scope, b"origin"),
            )
            self._hello_timer.cancel()
            log_context.bind(
                tenant=visitor.tenant.pk, conversation=getattr(conversation, "pk", None)
            )
            self.session = CustomerSession(
                visitor, client_ip=client_ip(self.scope), subscriber=self
            )
            frames = await self.session.welcome(conversation)
        except Exception as exc:
            frames = [error_frame(start_refusal(exc), ref="hello")]
        await self.send_frames(frames)

    async def disconnect(self, code):
        self._hello_timer.cancel()
        await super().disconnect(code)


async def _refuse_for_now(error: ServiceError, receive, send) -> None:
    """Answer a socket that cannot be served yet (Redis is down) with ``error`` and 4503, so
    the client retries, rather than failing the handshake like a server error."""
    if (await receive())["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": fastjson.dumps_text(error_frame(error))})
    await send({"type": "websocket.close", "code": CLOSE_CODES[error.code]})


def start_refusal(exc: Exception) -> ServiceError:
    """The error that answers a connection's failed start; unexpected failures propagate."""
    if isinstance(exc, ServiceError):
        return exc
    if (error := unavailable(exc)) is None:
        raise exc
    return error


def parse_hello(frame: Frame) -> schemas.Hello:
    """A malformed hello cannot authenticate: it ends the connection as a bad token would."""
    try:
        return schemas.validate(frame, schemas.HELLO_FRAMES)
    except InvalidInput as error:
        if error.details.get("field") == "data.token":
            raise TokenInvalid() from None
        raise AuthenticationFailed(error.message) from None


def same_site_origin(scope: dict) -> bool:
    """The console is only used from the helpdesk's own pages (or CSRF-trusted origins)."""
    origin = header(scope, b"origin")
    if not origin:
        return False
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    parts = urlsplit(origin)
    host = header(scope, b"host")
    if not parts.hostname or not host:
        return False
    origin_host = parts.netloc.lower()
    return origin_host == host.lower() and validate_host(
        parts.hostname, settings.ALLOWED_HOSTS or ["localhost", "127.0.0.1", "[::1]"]
    )


class AgentConsumer(FrameConsumer):
    """The console's socket, authenticated by the Django session."""

    metrics_side = "agent"

    async def connect(self):
        user = self.scope.get("user")
        if not same_site_origin(self.scope):
            await self.close(code=4403)
            return
        accepted = False
        try:
            membership = None
            if user is not None and user.is_authenticated:
                membership = await db_call(active_membership)(user)
            if membership is None:
                await self.close(code=4401)
                return
            await self.accept()
            accepted = True
            log_context.bind(tenant=membership.tenant_id)
            self.session = AgentSession(
                user=user,
                tenant=membership.tenant,
                subscriber=self,
                language=membership.language,
            )
            frames = await self.session.welcome()
        except Exception as exc:
            refusal = start_refusal(exc)
            if not accepted:  # so that the console sees the close code, and retries
                await self.accept()
            frames = [error_frame(refusal)]
        await self.send_frames(frames)
        if close_code(frames) is None:
            self._recheck = asyncio.ensure_future(self._recheck_access())

    async def _recheck_access(self) -> None:
        while True:
            await asyncio.sleep(AGENT_RECHECK_SECONDS)
            if not await self.session.still_allowed():
                await self._revoke()
                return

    async def _revoke(self) -> None:
        await self.send_frames([error_frame(Revoked())])

    async def start_session(self, frame: Frame) -> None:
        # connect() either creates the session or closes; a frame cannot arrive without one.
        await self.close(code=4401)

    async def helpdesk_event(self, message: dict[str, Any]) -> None:
        if message["event"]["type"] == "revoked":
            await self._revoke()
            return
        await super().helpdesk_event(message)

    async def disconnect(self, code):
        recheck = getattr(self, "_recheck", None)
        if recheck is not None:
            await cancel_and_wait(recheck)
        await super().disconnect(code)
