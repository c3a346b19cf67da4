"""Bot replies whose worker died mid-stream.

A streaming reply holds a lease: its message's ``updated_at``, renewed by the worker streaming
it every third of ``BOT_REPLY_LEASE_SECONDS`` (helpdesk/ai/relay.py), together with the text
shown so far. A worker killed mid-reply renews nothing, and its job is not redelivered for an
hour: the Redis broker hands an unacknowledged job to another worker only after its
``visibility_timeout``, and lowering that below the longest reply would run long replies twice.
So every web process sweeps: a reply whose lease ran out is closed as it stood, the customer
gets the bot's fallback text, and the conversation goes to the human queue, with the events a
failure in the pipeline itself sends. When the job is redelivered at last, it finds the
conversation no longer with the bot and does nothing.

The sweep runs in the web processes because they are what is always up: with every worker
dead or restarting, customers still get an answer.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from helpdesk.ai.fallback import fallback_post
from helpdesk.ai.relay import bot_typing
from helpdesk.conversations.models import Message
from helpdesk.conversations.services import message_stream_finish
from helpdesk.core.loop import run_every
from helpdesk.realtime.events import conversation_group, publish_on_commit

logger = logging.getLogger(__name__)

# Closed orphans per sweep at most; the next sweep takes the rest.
SWEEP_BATCH = 100


def reply_lease_renewal_interval() -> float:
    """Seconds between a live reply's renewals: three chances before its lease runs out."""
    return settings.BOT_REPLY_LEASE_SECONDS / 3


def reply_lease_renew(*, tenant_id: int, message_id: int, text: str) -> bool:
    """Extend the lease of a streaming bot message and store the text shown so far (so a reply
    closed after its worker died keeps what the customer saw). False once it is not streaming."""
    return bool(
        Message.objects.filter(
            tenant_id=tenant_id,
            pk=message_id,
            sender_type=Message.SenderType.BOT,
            state=Message.State.STREAMING,
        ).update(text=text[: settings.MESSAGE_MAX_CHARS * 4], updated_at=timezone.now())
    )


def orphaned_replies_close() -> int:
    """Close every streaming bot reply whose lease ran out; how many this call closed."""
    cutoff = timezone.now() - timedelta(seconds=settings.BOT_REPLY_LEASE_SECONDS)
    expired = Message.objects.filter(state=Message.State.STREAMING, updated_at__lt=cutoff)
    ids = list(expired.order_by("updated_at").values_list("pk", flat=True)[:SWEEP_BATCH])
    return sum(_orphan_close(message_id, cutoff) for message_id in ids)


def _orphan_close(message_id: int, cutoff) -> bool:
    with transaction.atomic():
        # Checked again under the lock: its worker may have renewed or finished it since the
        # search. skip_locked: another web process closing it now is as good as closing it.
        message = (
            Message.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("tenant")
            .filter(pk=message_id, state=Message.State.STREAMING, updated_at__lt=cutoff)
            .first()
        )
        if message is None:
            return False
        tenant = message.tenant
        logger.warning(
            "Closing bot reply %s in conversation %s: no lease renewal since %s",
            message.pk,
            message.conversation_id,
            message.updated_at.isoformat(),
        )
        # The dead worker turned the bot's typing on and will never turn it off.
        publish_on_commit(
            conversation_group(tenant.pk, message.conversation_id),
            bot_typing(message.conversation_id, False),
        )
        message_stream_finish(
            tenant=tenant,
            message_id=message.pk,
            text=message.text,
            state=Message.State.INTERRUPTED,
            metadata={"interrupted": "worker_lost"},
        )
        # The same client_id the pipeline gives a fallback after a started reply, so the two
        # can never both be posted.
        fallback_post(
            tenant=tenant,
            conversation_id=message.conversation_id,
            client_id=f"{message.client_id}:fallback",
            reason="its worker stopped mid-reply",
        )
    return True


def start_orphan_sweeper() -> None:
    """Sweep for orphaned replies every ``BOT_REPLY_SWEEP_SECONDS`` on this process's job loop,
    from now on; once per process, and never when the setting is 0."""
    run_every("orphaned replies sweep", settings.BOT_REPLY_SWEEP_SECONDS, orphaned_replies_close)
