"""Server→client events and the one way to send them: after the transaction commits.

Group names always carry the tenant. A conversation has two groups: the public one, which the
customer's connections and agents join, and the staff one, which only agents join. Private
notes are only ever sent to the staff group, so no transport can leak one to a customer.
"""

import json
import logging
from typing import Any

from asgiref.sync import async_to_sync
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


def publish(group: str, event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(group, {"type": LAYER_MESSAGE_TYPE, "event": event})
