"""Channel layers built on one idea: an event loop keeps its own mailboxes and group members.

A consumer's channel is a mailbox in its event loop's hub; joining a group records the mailbox
there. A group message is handed, once per hub, to that hub's members. ``HubChannelLayer``
connects the hubs of one process directly (the embedded mode); ``RedisHubChannelLayer``
(helpdesk/realtime/redis_layer.py) connects hubs anywhere through Redis pub/sub, one
subscription per group per hub, however many of its sockets joined.

Nothing is dropped silently. A mailbox that is full when a message arrives (its client reads
slower than events come) loses what it holds, and in its place gets one ``helpdesk.gap``
message; so does every mailbox whose hub may have missed messages (its Redis subscription
broke). The consumer passes the gap on to its client, which resumes from the last seq it has
(docs/protocol.md). Every loss is counted in ``stats`` and logged at WARNING.
"""

import asyncio
import collections
import contextlib
import itertools
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from channels.layers import BaseChannelLayer

from helpdesk.core.aio import LoopLocal

logger = logging.getLogger(__name__)

# The layer message a consumer gets in place of messages it lost.
GAP_TYPE = "helpdesk.gap"
# The layer's own field on a message sent to one channel in another process.
TARGET_FIELD = "__to__"
# Loss warnings: at most one line per reason in this many seconds, with the count meanwhile.
WARNING_INTERVAL = 10.0


class LayerUnavailable(Exception):
    """The layer could not carry a message or a subscription (its broker is unreachable)."""


def gap_message(reason: str) -> dict[str, Any]:
    return {"type": GAP_TYPE, "reason": reason}


class LayerStats:
    """Process-wide counters of what the layers lost, and warnings about it."""

    def __init__(self):
        self._lock = threading.Lock()
        self.counts: collections.Counter[str] = collections.Counter()
        self._last_warning: dict[str, float] = {}
        self._unreported: collections.Counter[str] = collections.Counter()

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self.counts[name] += amount

    def loss(self, reason: str, amount: int, detail: str) -> None:
        """Count ``amount`` messages lost for ``reason``; warn, at most every few seconds."""
        now = time.monotonic()
        with self._lock:
            self.counts[f"lost_{reason}"] += amount
            self._unreported[reason] += amount
            if now - self._last_warning.get(reason, -WARNING_INTERVAL) < WARNING_INTERVAL:
                return
            self._last_warning[reason] = now
            unreported, self._unreported[reason] = self._unreported[reason], 0
        logger.warning(
            "Channel layer lost %d message(s) (%s) in the last %.0f s, e.g. %s; "
            "their clients were told to resume.",
            unreported,
            reason,
            WARNING_INTERVAL,
            detail,
        )

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.counts)


stats = LayerStats()


class Mailbox:
    """One channel's messages waiting for its consumer, and the groups it is in."""

    __slots__ = ("groups", "notify", "queue", "waiter")

    def __init__(self):
        # Made when needed and dropped when emptied: most sockets are idle, and an empty list
        # still costs a few dozen bytes, a deque hundreds.
        self.queue: list | None = None
        self.waiter: asyncio.Future | None = None
        self.groups: set[str] = set()
        # A consumer that attached itself is told of new messages instead of waiting for them.
        self.notify: Callable[[], None] | None = None


class LoopHub:
    """One event loop's mailboxes and group memberships. Used only from its own loop."""

    def __init__(self, layer: "HubChannelLayer", loop: asyncio.AbstractEventLoop):
        self.layer = layer
        self.loop = loop
        self.token = uuid.uuid4().hex[:16]
        self.mailboxes: dict[str, Mailbox] = {}
        self.groups: dict[str, set[str]] = {}
        self._numbers = itertools.count()

    def new_channel(self, prefix: str) -> str:
        name = f"{self.layer.prefix}.{prefix}{self.token}!{next(self._numbers)}"
        self.mailboxes[name] = Mailbox()
        return name

    def owns(self, channel: str) -> bool:
        return channel_token(channel) == self.token

    async def receive(self, channel: str) -> dict[str, Any]:
        box = self.mailboxes.get(channel)
        if box is None:
            box = self.mailboxes[channel] = Mailbox()
        if box.queue:
            return box.queue.pop(0)
        waiter = box.waiter = self.loop.create_future()
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                # Delivered just as the receive was cancelled: keep it for the next receive.
                box.queue = box.queue or []
                box.queue.insert(0, waiter.result())
            # Channels cancels a consumer's receive when the consumer ends. A channel that
            # still has groups is a reader that gave up waiting (a long-poll, a test), not gone.
            if not box.groups:
                self.mailboxes.pop(channel, None)
            raise
        finally:
            if box.waiter is waiter:
                box.waiter = None

    def attach(self, channel: str, notify: Callable[[], None]) -> None:
        box = self.mailboxes.get(channel)
        if box is None:
            box = self.mailboxes[channel] = Mailbox()
        box.notify = notify

    def take_all(self, channel: str) -> list[dict[str, Any]]:
        box = self.mailboxes.get(channel)
        if box is None or not box.queue:
            return []
        messages, box.queue = box.queue, None
        return messages

    def detach(self, channel: str) -> list[str]:
        """Forget ``channel``; the groups that this left with no member here."""
        box = self.mailboxes.pop(channel, None)
        if box is None:
            return []
        return [group for group in list(box.groups) if self.discard(group, channel)]

    def deliver(self, channel: str, message: dict[str, Any]) -> None:
        box = self.mailboxes.get(channel)
        if box is None:
            return
        waiter = box.waiter
        if waiter is not None and not waiter.done():
            box.waiter = None
            waiter.set_result(message)
            return
        self._enqueue(channel, box, message)
        if box.notify is not None:
            box.notify()

    def _enqueue(self, channel: str, box: Mailbox, message: dict[str, Any]) -> None:
        queue = box.queue
        if queue is None:
            queue = box.queue = []
        if len(queue) < self.layer.capacity:
            queue.append(message)
            return
        # Full: the client is behind anyway and will resume from its last seq, so everything
        # queued goes, and one gap takes its place, before the message that did not fit.
        lost = sum(1 for queued in queue if queued.get("type") != GAP_TYPE)
        queue[:] = [gap_message("overflow"), message]
        stats.loss("overflow", lost, f"channel {channel} was full ({self.layer.capacity})")

    def deliver_group(self, group: str, message: dict[str, Any]) -> None:
        for channel in self.groups.get(group, ()):
            self.deliver(channel, message)

    def gap_all(self, reason: str) -> int:
        """Tell every mailbox in a group that it may have missed messages; how many were told."""
        told = 0
        for channel, box in list(self.mailboxes.items()):
            if box.groups:
                self.deliver(channel, gap_message(reason))
                told += 1
        return told

    def add(self, group: str, channel: str) -> bool:
        """Put ``channel`` in ``group``; True if the group is new to this hub."""
        box = self.mailboxes.get(channel)
        if box is None:
            box = self.mailboxes[channel] = Mailbox()
        box.groups.add(group)
        members = self.groups.get(group)
        if members is None:
            self.groups[group] = {channel}
            return True
        members.add(channel)
        return False

    def discard(self, group: str, channel: str) -> bool:
        """Take ``channel`` out of ``group``; True if that left the group with no member here."""
        box = self.mailboxes.get(channel)
        if box is not None:
            box.groups.discard(group)
            if not box.groups and box.waiter is None and box.notify is None and not box.queue:
                del self.mailboxes[channel]
        members = self.groups.get(group)
        if members is None or channel not in members:
            return False
        members.discard(channel)
        if members:
            return False
        del self.groups[group]
        return True

    def call(self, function, *args) -> None:
        """Run ``function(*args)`` on this hub's loop, from any thread or loop."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            function(*args)
            return
        # A closed loop raises RuntimeError: nobody is left there to deliver to.
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(function, *args)

    async def aclose(self) -> None:
        """Release what the hub holds outside the process (nothing here; Redis hubs do)."""


def channel_token(channel: str) -> str:
    """The token of the hub that made ``channel`` (names are ``prefix.kind<token>!n``)."""
    head = channel.rpartition("!")[0]
    return head[-16:]


class HubChannelLayer(BaseChannelLayer):
    """The embedded mode's layer: the hubs of one process, delivering to each other directly.

    The server's loop runs the consumers and the job loop (helpdesk/core/loop.py) streams the
    bot's replies, so a message may be sent from another loop or thread than its receiver's;
    it is always handed over on the receiver's own loop.
    """

    extensions = ["groups", "flush"]
    hub_class = LoopHub

    def __init__(self, expiry=60, capacity=500, channel_capacity=None, prefix="helpdesk", **kw):
        super().__init__(expiry=expiry, capacity=capacity, channel_capacity=channel_capacity)
        self.prefix = prefix
        self._hubs = LoopLocal(self._make_hub, self._close_hub)
        self._hubs_by_token: dict[str, LoopHub] = {}

    # --- hubs -----------------------------------------------------------------------------

    def hub(self) -> LoopHub:
        """The running loop's hub, made on first use and closed when the loop closes."""
        return self._hubs.get()

    def hubs(self) -> list[LoopHub]:
        return self._hubs.values()

    def _make_hub(self, loop: asyncio.AbstractEventLoop) -> LoopHub:
        hub = self.hub_class(self, loop)
        self._hubs_by_token[hub.token] = hub
        return hub

    async def _close_hub(self, hub: LoopHub) -> None:
        self._hubs_by_token.pop(hub.token, None)
        await hub.aclose()

    def _local_hub(self, channel: str) -> LoopHub:
        hub = self.hub()
        if not hub.owns(channel):
            raise RuntimeError(f"{channel} belongs to another event loop than the running one")
        return hub

    # --- the channel layer API ------------------------------------------------------------

    async def new_channel(self, prefix: str = "specific.") -> str:
        return self.hub().new_channel(prefix)

    async def receive(self, channel: str) -> dict[str, Any]:
        return await self._local_hub(channel).receive(channel)

    # A consumer that runs its own loop (helpdesk/realtime/consumers.py) is called back when
    # its mailbox has messages, and takes them all, instead of keeping a task waiting in
    # receive() for the life of every socket.

    def attach(self, channel: str, notify: Callable[[], None]) -> None:
        """Call ``notify()`` (on this loop) whenever a message arrives for ``channel``."""
        self._local_hub(channel).attach(channel, notify)

    def take_all(self, channel: str) -> list[dict[str, Any]]:
        """Every message waiting for an attached ``channel``, oldest first."""
        return self._local_hub(channel).take_all(channel)

    def detach(self, channel: str) -> None:
        """Forget an attached ``channel``: its messages and its groups."""
        hub = self._local_hub(channel)
        self._groups_left(hub, hub.detach(channel))

    def _groups_left(self, hub: LoopHub, groups: list[str]) -> None:
        """Hook: ``groups`` lost their last member in ``hub``."""

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        hub = self._hubs_by_token.get(channel_token(channel))
        if hub is not None:
            hub.call(hub.deliver, channel, message)

    async def group_add(self, group: str, channel: str) -> None:
        self.require_valid_group_name(group)
        self._local_hub(channel).add(group, channel)

    async def group_discard(self, group: str, channel: str) -> None:
        self._local_hub(channel).discard(group, channel)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        self.publish_nowait(group, message)

    def publish_nowait(self, group: str, message: dict[str, Any]) -> None:
        """Send ``message`` to ``group`` from any thread, without waiting for it to go out."""
        for hub in self.hubs():
            hub.call(hub.deliver_group, group, message)

    async def flush(self) -> None:
        for hub in self.hubs():
            hub.mailboxes.clear()
            hub.groups.clear()

    async def check(self) -> None:
        """Raise unless the layer can carry messages (for readiness, helpdesk/core/health.py).
        In one process it always can."""
