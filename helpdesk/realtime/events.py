"""Server→client events and the one way to send them: after the transaction commits.

Group names always carry the tenant. A conversation has two groups: the public one, which the
customer's connections and agents join, and the staff one, which only agents join. Private
notes are only ever sent to the staff group, so no transport can leak one to a customer.
"""

import asyncio
import logging
import os
from typing import Any

from asgiref.sync import SyncToAsync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from helpdesk.core import fastjson
from helpdesk.core.aio import is_long_lived

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
    event = _checked(event)
    transaction.on_commit(lambda: publish(group, event), robust=True)


def publish_committed(group: str, event: dict[str, Any]) -> None:
    """Send ``event`` to ``group`` now: for code that committed its write itself, outside a
    Django transaction (helpdesk/conversations/fast_path.py)."""
    publish(group, _checked(event))


def _checked(event: dict[str, Any]) -> dict[str, Any]:
    if settings.EVENTS_CHECK_JSON:
        # Fail where the event is made, not in a consumer far away.
        return fastjson.loads(fastjson.dumps(event))
    return event


def layer_message(event: dict[str, Any], *, exclude: str | None = None) -> dict[str, Any]:
    """The channel-layer message carrying ``event``; the connection on ``exclude`` skips it."""
    message = {"type": LAYER_MESSAGE_TYPE, "event": event}
    if exclude:
        message["exclude"] = exclude
    return message


def delivered_to(message: dict[str, Any], channel: str | None) -> bool:
    return message.get("exclude") != channel


def event_text(message: dict[str, Any]) -> str:
    """The JSON text of a layer message's event, encoded once however many sockets send it.

    The layer hands one message object to all the local members of a group.
    """
    text = message.get("text")
    if text is None:
        text = message["text"] = fastjson.dumps_text(message["event"])
    return text


async def send_now(group: str, event: dict[str, Any], *, exclude: str | None = None) -> None:
    """Send ``event`` to ``group`` from async code, at once: for what is not stored (typing,
    deltas, presence). What is stored is announced with publish_on_commit."""
    await get_channel_layer().group_send(group, layer_message(event, exclude=exclude))


def publish(group: str, event: dict[str, Any]) -> None:
    """Send ``event`` to ``group`` now, from synchronous code, without waiting for it to go out.

    From a worker thread of a long-lived event loop (a consumer's database call), the send is
    handed to that loop, where it joins the loop's outgoing messages in order: waiting for it,
    as async_to_sync would, parks the thread until the busy loop gets round to it, and every
    other database call queues behind. Anywhere else the layer sends it directly.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    message = layer_message(event)
    loop = _calling_event_loop()
    if loop is None:
        layer.publish_nowait(group, message)
    else:
        loop.call_soon_threadsafe(layer.publish_nowait, group, message)


def _calling_event_loop() -> asyncio.AbstractEventLoop | None:
    """The long-lived event loop whose sync_to_async() call is running this thread, if any."""
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    if loop is None or getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) != os.getpid():
        return None
    return loop if loop.is_running() and is_long_lived(loop) else None
