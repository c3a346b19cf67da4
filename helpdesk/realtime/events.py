"""Server→client events and the one way to send them: after the transaction commits.

Group names always carry the tenant. A conversation has two groups: the public one, which the
customer's connections and agents join, and the staff one, which only agents join. Private
notes are only ever sent to the staff group, so no transport can leak one to a customer.
"""

import asyncio
import collections
import json
import logging
import os
import threading
import weakref
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

logger = logging.getLogger(__name__)

# The channel-layer message type every consumer handles (``helpdesk_event``).
LAYER_MESSAGE_TYPE = "helpdesk.event"


def conversation_group(tenant_id: int, conversation_id: int) -> str:
    return f"t{tenant_id}.c{conversation_id}"


def conversation_staff_group(tenant_id: int, conversation_id: int) -> str:
    return f"t{tenant_id}.c{conversation_id}.staff"


def agents_group(tenant_id: int) -> str:
    return f"t{tenant_id}.agents"


def agent_user_group(tenant_id: int, user_id: int) -> str:
    """One agent's connections, for notices meant for them alone (e.g. access revoked)."""
    return f"t{tenant_id}.u{user_id}"


def envelope(
    event_type: str, *, conversation_id: int | None, data: dict[str, Any], seq: int | None = None
) -> dict[str, Any]:
    event: dict[str, Any] = {"type": event_type, "conversation": conversation_id, "data": data}
    if seq is not None:
        event["seq"] = seq
    return event


def publish_on_commit(group: str, event: dict[str, Any]) -> None:
    """Send ``event`` to ``group`` once the surrounding transaction commits.

    Rolled-back writes are never announced, and a client that hears of a message can always
    fetch it. Delivery is best-effort: clients catch up from their last ``seq``.
    """
    if settings.EVENTS_CHECK_JSON:
        # Fail where the event is made, not in a consumer far away.
        event = json.loads(json.dumps(event, cls=DjangoJSONEncoder))
    transaction.on_commit(lambda: publish(group, event), robust=True)


def layer_message(event: dict[str, Any], *, exclude: str | None = None) -> dict[str, Any]:
    """The channel-layer message carrying ``event``; the connection on ``exclude`` skips it."""
    message = {"type": LAYER_MESSAGE_TYPE, "event": event}
    if exclude:
        message["exclude"] = exclude
    return message


def delivered_to(message: dict[str, Any], channel: str | None) -> bool:
    return message.get("exclude") != channel


async def send_now(group: str, event: dict[str, Any], *, exclude: str | None = None) -> None:
    """Send ``event`` to ``group`` from async code, at once: for what is not stored (typing,
    deltas, presence). What is stored is announced with publish_on_commit."""
    await get_channel_layer().group_send(group, layer_message(event, exclude=exclude))


def publish(group: str, event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    message = layer_message(event)
    loop = _calling_event_loop()
    if loop is None:
        async_to_sync(layer.group_send)(group, message)
        return
    # Called from a worker thread of a running event loop (a consumer's database call): hand
    # the send to that loop and return. Waiting for it, as async_to_sync would, parks the
    # thread until the busy loop gets round to it, and every other database call queues
    # behind.
    loop.call_soon_threadsafe(_publisher_for(loop, layer).submit, group, message)


# Loops that run for the life of the process (the server's, the AI loop): only there may a
# publish be left to run after the caller returns. A loop that async_to_sync() made for one call
# is closed when the call ends, and would drop whatever was still queued on it.
_long_lived_loops: "weakref.WeakSet[asyncio.AbstractEventLoop]" = weakref.WeakSet()


def mark_long_lived(loop: asyncio.AbstractEventLoop) -> None:
    _long_lived_loops.add(loop)


def _calling_event_loop() -> asyncio.AbstractEventLoop | None:
    """The long-lived event loop whose sync_to_async() call is running this thread, if any."""
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    if loop is None or getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) != os.getpid():
        return None
    return loop if loop.is_running() and loop in _long_lived_loops else None


class _Publisher:
    """Sends a loop's events: in order within each conversation of a group, the rest side by side.

    Clients need order only within a conversation (they dedupe and resume by its seq). One queue
    per group would put every conversation.updated of a tenant's agents group in single file,
    each send several Redis round trips: at 5,000 sockets and 100 messages a second, agents saw
    messages 0.6 s late.
    """

    def __init__(self, layer):
        self.layer = layer
        self.pending: dict[tuple[str, Any], collections.deque] = {}

    def submit(self, group: str, message: dict[str, Any]) -> None:
        key = (group, message["event"].get("conversation"))
        queue = self.pending.get(key)
        if queue is not None:
            queue.append(message)
            return
        self.pending[key] = collections.deque([message])
        asyncio.get_running_loop().create_task(self._drain(key))

    async def _drain(self, key: tuple[str, Any]) -> None:
        group = key[0]
        queue = self.pending[key]
        try:
            while queue:
                message = queue.popleft()
                try:
                    await self.layer.group_send(group, message)
                except Exception:
                    # A lost notice is recovered by the clients' resume.
                    logger.exception("Publishing to %s failed", group)
        finally:
            del self.pending[key]


_publishers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Publisher]" = (
    weakref.WeakKeyDictionary()
)
_publishers_lock = threading.Lock()


def _publisher_for(loop: asyncio.AbstractEventLoop, layer) -> _Publisher:
    with _publishers_lock:
        publisher = _publishers.get(loop)
        if publisher is None:
            publisher = _publishers[loop] = _Publisher(layer)
        return publisher
