"""The service mode's channel layer: loop hubs (helpdesk/realtime/layers.py) joined by Redis.

Per hub (in practice, per server process) there are two Redis connections, whatever the number
of sockets: one subscribed to the groups the hub's mailboxes are in, one that publishes. A
group message is one PUBLISH; Redis passes it to each hub with a member, and the hub to its
members. Messages published from one loop go out in the order they were sent, in pipelines
(whatever queued while the previous batch was on the wire goes in the next).

Joining a group waits until Redis has confirmed the subscription, so a message published after
``group_add`` returns reaches the new member: the long-poll and resume paths subscribe first and
read the database second, and rely on it.

When the subscription connection breaks, the hub reconnects with backoff, subscribes again to
everything its mailboxes are in, and only then gives each of them a gap: what was published
while it was away is lost, the clients resume from their last seq, and what is published after
the gap reaches them. A publish that fails twice (with a new connection in between) raises
``LayerUnavailable``; either way it is counted and logged.
"""

import asyncio
import collections
import contextlib
import logging
from typing import Any

import hiredis
import redis
import redis.asyncio
from redis.asyncio.connection import Connection

from helpdesk.core import fastjson
from helpdesk.core.aio import cancel_and_wait, raise_if_cancelling
from helpdesk.realtime.layers import (
    TARGET_FIELD,
    HubChannelLayer,
    LayerUnavailable,
    LoopHub,
    channel_token,
    stats,
)
from helpdesk.realtime.resp import RespConnection

logger = logging.getLogger(__name__)

# The subscription connection sends PING after this long without a message, and is considered
# dead when the PONG has not come back this long after.
PING_SECONDS = 10.0
# Longest wait for Redis to confirm a subscription before group_add gives up.
SUBSCRIBE_TIMEOUT = 5.0
# Reconnection backoff of the subscription connection.
RECONNECT_FIRST = 0.05
RECONNECT_MAX = 2.0
# At most this many PUBLISH commands in one pipeline.
PUBLISH_BATCH = 512
# Longest wait for a PUBLISH pipeline's replies.
PUBLISH_TIMEOUT = 5.0
REDIS_ERRORS = (redis.RedisError, OSError, asyncio.TimeoutError, EOFError)
# A garbled reply stream (hiredis.ProtocolError) reconnects too: uncaught, it would end the
# subscription task for good and leave the hub deaf.
SUBSCRIBER_ERRORS = (OSError, ConnectionError, TimeoutError, EOFError, hiredis.ProtocolError)


class RedisHub(LoopHub):
    """A loop hub that subscribes its groups in Redis and publishes through it."""

    def __init__(self, layer: "RedisHubChannelLayer", loop: asyncio.AbstractEventLoop):
        super().__init__(layer, loop)
        self.layer: RedisHubChannelLayer = layer
        self.direct = self.layer.redis_name(f"hub.{self.token}")
        # Subscription state. `sent` holds what the last command on the connection asked for;
        # `unconfirmed` counts SUBSCRIBE commands whose reply has not come back.
        self.sent: set[bytes] = set()
        self.unconfirmed: collections.Counter[bytes] = collections.Counter()
        self.waiters: dict[bytes, list[asyncio.Future]] = {}
        self.to_check: set[bytes] = set()
        self.writing_scheduled = False
        self.connected = asyncio.Event()
        self.heard_at = 0.0
        self.gap_pending: str | None = None
        self.subscriber: RespConnection | None = None
        # Publishing state.
        self.outbox: collections.deque[tuple[bytes, bytes, asyncio.Future | None]] = (
            collections.deque()
        )
        self.outbox_ready = asyncio.Event()
        self.publisher: Connection | None = None
        self.tasks = [
            loop.create_task(self._subscribe_forever(), name="helpdesk-layer-subscriber"),
            loop.create_task(self._publish_forever(), name="helpdesk-layer-publisher"),
        ]

    # --- subscriptions --------------------------------------------------------------------

    def confirmed(self, name: bytes) -> bool:
        return name in self.sent and not self.unconfirmed[name] and self.connected.is_set()

    async def subscribed(self, group: str) -> None:
        """Return once Redis confirms this hub's subscription to ``group``."""
        await self._confirmed_soon(self.layer.redis_name(group), group)

    async def reachable(self) -> None:
        """Return once messages sent to this hub's channels from elsewhere can arrive."""
        await self._confirmed_soon(self.direct, "this process's channels")

    async def _confirmed_soon(self, name: bytes, what: str) -> None:
        self._check(name)
        if self.confirmed(name):
            return
        if self.gap_pending is not None and not self.connected.is_set():
            # Redis went away and has not come back: say so now rather than after the timeout
            # (a socket's handshake would time out first, and the client could not be told).
            raise LayerUnavailable(f"Redis is unreachable: no subscription to {what}")
        waiter = self.loop.create_future()
        waiters = self.waiters.setdefault(name, [])
        waiters.append(waiter)
        try:
            done, _ = await asyncio.wait({waiter}, timeout=SUBSCRIBE_TIMEOUT)
        finally:
            if not waiter.done():
                # Timed out, or the caller gave up first (a readiness probe every few seconds
                # during an outage): forget the waiter rather than keep one per attempt.
                waiter.cancel()
                with contextlib.suppress(ValueError):
                    waiters.remove(waiter)
        if not done:
            raise LayerUnavailable(f"Redis did not confirm the subscription to {what}")

    def unsubscribe_later(self, group: str) -> None:
        self._check(self.layer.redis_name(group))

    def _check(self, name: bytes) -> None:
        """Bring ``name``'s subscription in line with the hub's groups, with the next batch."""
        self.to_check.add(name)
        if not self.writing_scheduled:
            self.writing_scheduled = True
            self.loop.call_soon(self._write_subscriptions)

    def _wanted(self, name: bytes) -> bool:
        return name == self.direct or self.layer.group_of(name) in self.groups

    async def _subscribe_forever(self) -> None:
        backoff = RECONNECT_FIRST
        while True:
            connection = None
            try:
                connection = await RespConnection.open(self.layer.url, name="helpdesk-layer-sub")
                self.subscriber = connection
                self.sent.clear()
                self.unconfirmed.clear()
                self.connected.set()
                for name in {self.direct, *map(self.layer.redis_name, self.groups)}:
                    self._check(name)
                backoff = RECONNECT_FIRST
                await self._read_subscription(connection)
            except asyncio.CancelledError:
                raise
            except SUBSCRIBER_ERRORS as error:
                raise_if_cancelling()
                stats.add("subscriber_reconnects")
                if self.gap_pending is None:
                    # Once per outage; the gap after it is counted and logged again.
                    logger.warning("Channel layer subscription lost (%s); reconnecting", error)
                self.gap_pending = "reconnect"
            finally:
                self.connected.clear()
                self.subscriber = None
                if connection is not None:
                    connection.close()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, RECONNECT_MAX)

    async def _read_subscription(self, connection: RespConnection) -> None:
        self.heard_at = self.loop.time()
        keepalive = self.loop.call_later(PING_SECONDS, self._keepalive, connection)
        try:
            while True:
                replies = await connection.read()
                self.heard_at = self.loop.time()
                for reply in replies:
                    self._on_reply(reply)
        finally:
            keepalive.cancel()

    def _keepalive(self, connection: RespConnection) -> None:
        """PING a quiet subscription; close it if even the PONG does not come back."""
        if connection is not self.subscriber:
            return
        quiet = self.loop.time() - self.heard_at
        if quiet >= 2 * PING_SECONDS:
            connection.close()  # the read fails, and the subscription starts again
            return
        if quiet >= PING_SECONDS:
            connection.send(("PING",))
        self.loop.call_later(PING_SECONDS, self._keepalive, connection)

    def _write_subscriptions(self) -> None:
        self.writing_scheduled = False
        connection = self.subscriber
        if connection is None or not self.to_check:
            return  # sent when the connection is (re)made
        checking, self.to_check = self.to_check, set()
        subscribe = [n for n in checking if self._wanted(n) and n not in self.sent]
        unsubscribe = [n for n in checking if not self._wanted(n) and n in self.sent]
        commands = []
        if subscribe:
            self.sent.update(subscribe)
            self.unconfirmed.update(subscribe)
            commands.append(("SUBSCRIBE", *subscribe))
        if unsubscribe:
            self.sent.difference_update(unsubscribe)
            commands.append(("UNSUBSCRIBE", *unsubscribe))
        for name in checking:
            # Already subscribed before this waiter came: nothing to wait for.
            if self.confirmed(name):
                self._wake(name)
        if commands:
            connection.send(*commands)

    def _on_reply(self, reply: list | Exception) -> None:
        if isinstance(reply, Exception):
            # An error reply (a refused SUBSCRIBE: ACL, out of memory): the subscription can no
            # longer be trusted; start it again like a broken connection.
            raise ConnectionError(f"Redis refused a subscription command: {reply}")
        kind = reply[0]
        if kind == b"message":
            self._on_message(reply[1], reply[2])
        elif kind == b"subscribe":
            name = reply[1]
            self.unconfirmed[name] -= 1
            if self.unconfirmed[name] <= 0:
                del self.unconfirmed[name]
                self._wake(name)
            if self.gap_pending is not None and not self.unconfirmed:
                # Everything is subscribed again: from here on nothing is missed, so the
                # clients may resume now and catch up with what went by meanwhile.
                reason, self.gap_pending = self.gap_pending, None
                told = self.gap_all(reason)
                if told:
                    stats.loss(reason, told, f"{told} channel(s) after a broken subscription")

    def _wake(self, name: bytes) -> None:
        for waiter in self.waiters.pop(name, ()):
            if not waiter.done():
                waiter.set_result(None)

    def _on_message(self, name: bytes, data: bytes) -> None:
        try:
            message = fastjson.loads(data)
        except fastjson.JSONDecodeError:
            logger.error("Channel layer message on %r is not JSON; dropped", name)
            return
        if name == self.direct:
            self.deliver(message.pop(TARGET_FIELD, ""), message)
        else:
            self.deliver_group(self.layer.group_of(name), message)

    # --- publishing -----------------------------------------------------------------------

    async def publish(self, name: bytes, data: bytes) -> None:
        done = self.loop.create_future()
        self.outbox.append((name, data, done))
        self.outbox_ready.set()
        await done

    def publish_nowait(self, name: bytes, data: bytes) -> None:
        self.outbox.append((name, data, None))
        self.outbox_ready.set()

    async def _publish_forever(self) -> None:
        while True:
            await self.outbox_ready.wait()
            self.outbox_ready.clear()
            while self.outbox:
                count = min(len(self.outbox), PUBLISH_BATCH)
                batch = [self.outbox.popleft() for _ in range(count)]
                error = await self._publish_batch(batch)
                for _, _, done in batch:
                    if done is not None and not done.done():
                        if error is None:
                            done.set_result(None)
                        else:
                            done.set_exception(LayerUnavailable(str(error)))

    async def _publish_batch(self, batch: list) -> Exception | None:
        """Publish ``batch``, on a new connection a second time if the first try fails."""
        commands = [("PUBLISH", name, data) for name, data, _ in batch]
        error: Exception | None = None
        for _attempt in range(2):
            try:
                if self.publisher is None:
                    self.publisher = self.layer.make_connection("pub")
                    await self.publisher.connect()
                publisher = self.publisher
                await publisher.send_packed_command(
                    publisher.pack_commands(commands), check_health=False
                )
                for _ in commands:
                    await publisher.read_response(timeout=PUBLISH_TIMEOUT)
                return None
            except REDIS_ERRORS as failure:
                raise_if_cancelling()
                error = failure
                stats.add("publisher_reconnects")
                publisher, self.publisher = self.publisher, None
                if publisher is not None:
                    await _disconnect(publisher)
        groups = ", ".join(sorted({self.layer.group_of(name) for name, _, _ in batch})[:3])
        stats.loss("publish", len(batch), f"to {groups}: {error}")
        return error

    async def aclose(self) -> None:
        for task in self.tasks:
            await cancel_and_wait(task)
        if self.publisher is not None:
            await _disconnect(self.publisher)
        if self.subscriber is not None:
            self.subscriber.close()


async def _disconnect(connection: Connection) -> None:
    with contextlib.suppress(REDIS_ERRORS):
        await connection.disconnect()


class RedisHubChannelLayer(HubChannelLayer):
    """Channels' layer API over loop hubs and Redis pub/sub.

    CONFIG: ``url`` (the Redis server), ``prefix`` (of every Redis channel name), ``capacity``
    (messages a mailbox holds before its client is told to resume instead).
    """

    hub_class = RedisHub

    def __init__(self, url: str, prefix: str = "helpdesk", **kwargs):
        super().__init__(prefix=prefix, **kwargs)
        self.url = url
        self._redis_prefix = f"{prefix}:".encode()
        # Connections are made one by one, never from a shared pool: each hub owns its two.
        # RESP2: pub/sub messages are then plain replies; RESP3 (redis-py's default) would send
        # them as push frames, which redis-py's reader only hands out through callbacks.
        self._connection_pool = redis.asyncio.ConnectionPool.from_url(
            url, socket_connect_timeout=5, socket_keepalive=True, protocol=2
        )
        self._sync_client: redis.Redis | None = None

    def make_connection(self, role: str) -> Connection:
        """A new connection, named in Redis' CLIENT LIST after its ``role`` (sub or pub)."""
        pool = self._connection_pool
        return pool.connection_class(
            **{**pool.connection_kwargs, "client_name": f"helpdesk-layer-{role}"}
        )

    def redis_name(self, group: str) -> bytes:
        return self._redis_prefix + group.encode()

    def group_of(self, name: bytes) -> str:
        return name[len(self._redis_prefix) :].decode()

    async def new_channel(self, prefix: str = "specific.") -> str:
        hub = self.hub()
        channel = hub.new_channel(prefix)
        await hub.reachable()  # at once, but for the first channel of a loop
        return channel

    async def group_add(self, group: str, channel: str) -> None:
        self.require_valid_group_name(group)
        hub = self._local_hub(channel)
        hub.add(group, channel)
        try:
            await hub.subscribed(group)
        except (LayerUnavailable, asyncio.CancelledError):
            if hub.discard(group, channel):
                hub.unsubscribe_later(group)
            raise

    async def group_discard(self, group: str, channel: str) -> None:
        hub = self._local_hub(channel)
        if hub.discard(group, channel):
            hub.unsubscribe_later(group)

    def _groups_left(self, hub: LoopHub, groups: list[str]) -> None:
        for group in groups:
            hub.unsubscribe_later(group)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        await self.hub().publish(self.redis_name(group), fastjson.dumps(message))

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        hub = self.hub()
        if hub.owns(channel):
            hub.deliver(channel, message)
            return
        target = self.redis_name(f"hub.{channel_token(channel)}")
        await hub.publish(target, fastjson.dumps({**message, TARGET_FIELD: channel}))

    def publish_nowait(self, group: str, message: dict[str, Any]) -> None:
        """Send ``message`` to ``group`` from code with no running loop (or any loop).

        On a loop, it joins that hub's outbox. Elsewhere (a worker thread, a management
        command) it is one PUBLISH on a small shared pool of plain connections.
        """
        data = fastjson.dumps(message)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._publish_sync(self.redis_name(group), data)
            return
        self.hub().publish_nowait(self.redis_name(group), data)

    def _publish_sync(self, name: bytes, data: bytes) -> None:
        if self._sync_client is None:
            self._sync_client = redis.Redis(
                connection_pool=redis.BlockingConnectionPool.from_url(
                    self.url, max_connections=16, timeout=5, socket_timeout=5
                )
            )
        error = None
        for _attempt in range(2):
            try:
                self._sync_client.publish(name, data)
                return
            except redis.RedisError as failure:
                error = failure
        stats.loss("publish", 1, f"to {self.group_of(name)}: {error}")
        raise LayerUnavailable(str(error))

    async def check(self) -> None:
        """Raise unless the running loop's hub is subscribed in Redis and a PUBLISH goes
        through its publishing connection: a round trip on the connections the hub keeps."""
        hub = self.hub()
        await hub.reachable()
        await hub.publish(self.redis_name("health"), b"{}")

    async def flush(self) -> None:
        hub = self.hub()
        for group in list(hub.groups):
            hub.unsubscribe_later(group)
        await super().flush()
