"""Customer messages the bot still owes a reply whose job was lost with the broker.

A customer's message is stored, and acknowledged to the customer, before its job is handed to
the broker. While Redis is down that hand-over fails (the web process logs it and moves on: the
hot path stays one SQL statement per message), and a Redis restart without persistence drops
every job it held, as well as those a worker had taken but not yet acknowledged. Without this
sweep, such a customer would wait for a reply that never comes.

Every worker process sweeps every ``UNANSWERED_SWEEP_SECONDS``: the newest customer message of
each conversation with the bot that has had no bot message after it for
``UNANSWERED_GRACE_SECONDS`` gets its job enqueued again. The job is safe to run twice (the
pipeline answers each message once), so a sweep that overlaps a job still on its way costs a
job, no duplicate reply. A mark in the cache keeps a message from being enqueued again before
``RESWEEP_SECONDS``, so a backlog of jobs is not made longer by sweeps; a Redis that loses the
jobs loses the marks with them. A lock in the cache lets one worker sweep per interval however
many there are.

A reply that started and whose worker died is not this sweep's: the bot message it opened
stands after the customer's, and helpdesk/ai/reply_leases.py closes it.
"""

import logging
import threading
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from helpdesk.conversations.models import Conversation, Message
from helpdesk.conversations.tasks import customer_message_received
from helpdesk.tenants.models import Tenant

logger = logging.getLogger(__name__)

# A swept message is not enqueued again for this long, unless the cache forgets it first.
RESWEEP_SECONDS = 600
SWEEP_LOCK_KEY = "ai:unanswered-sweep"

_stop = threading.Event()
_thread: threading.Thread | None = None


def messages_unanswered(*, tenant: Tenant, since, until) -> list[Message]:
    """The tenant's customer messages written between ``since`` and ``until`` that the bot
    owes a reply: the newest customer text of a conversation with the bot, with no bot message
    after it."""
    later = Message.objects.filter(conversation=OuterRef("conversation"), seq__gt=OuterRef("seq"))
    return list(
        Message.objects.filter(
            tenant=tenant,
            # The conversations' index (tenant, status, last_message_at) narrows the search.
            conversation__tenant=tenant,
            conversation__status=Conversation.Status.BOT,
            conversation__last_message_at__gte=since,
            sender_type=Message.SenderType.CONTACT,
            kind=Message.Kind.TEXT,
            created_at__gte=since,
            created_at__lte=until,
        )
        .exclude(
            Exists(
                later.filter(
                    Q(sender_type=Message.SenderType.BOT)
                    | Q(sender_type=Message.SenderType.CONTACT, kind=Message.Kind.TEXT)
                )
            )
        )
        .only("pk", "tenant_id", "conversation_id")
        .order_by("created_at")
    )


def unanswered_sweep() -> int:
    """Enqueue the job of every message the bot owes a reply; the number enqueued."""
    now = timezone.now()
    since = now - timedelta(seconds=settings.UNANSWERED_MAX_AGE_SECONDS)
    until = now - timedelta(seconds=settings.UNANSWERED_GRACE_SECONDS)
    enqueued = 0
    for tenant in Tenant.objects.filter(is_active=True).only("pk"):
        for message in messages_unanswered(tenant=tenant, since=since, until=until):
            mark = f"t{tenant.pk}:m{message.pk}:swept"
            if not cache.add(mark, 1, timeout=RESWEEP_SECONDS):
                continue
            try:
                # Straight to the broker rather than jobs.enqueue(): only workers sweep, so
                # there is one, and a failure must end this sweep, not be logged per message.
                customer_message_received.apply_async(args=(message.pk,))
            except Exception:
                cache.delete(mark)
                raise
            enqueued += 1
    if enqueued:
        logger.warning("Enqueued again the lost jobs of %s unanswered message(s)", enqueued)
    return enqueued


def _sweep_once() -> None:
    token = uuid.uuid4().hex
    # Held for most of an interval: the next sweep, on whichever worker, finds it gone.
    if not cache.add(SWEEP_LOCK_KEY, token, timeout=settings.UNANSWERED_SWEEP_SECONDS * 0.8):
        return
    unanswered_sweep()


def _sweep_forever() -> None:
    while not _stop.wait(settings.UNANSWERED_SWEEP_SECONDS):
        try:
            _sweep_once()
        except Exception as error:
            # Redis or the database is down: the next interval tries again.
            logger.warning("Sweep for unanswered messages failed: %r", error)
        finally:
            connections.close_all()


def start_sweeping() -> None:
    """Sweep in a thread of this (worker) process until stop_sweeping()."""
    global _thread
    if settings.UNANSWERED_SWEEP_SECONDS <= 0 or _thread is not None:
        return
    _stop.clear()
    _thread = threading.Thread(target=_sweep_forever, name="helpdesk-unanswered-sweep", daemon=True)
    _thread.start()


def stop_sweeping() -> None:
    global _thread
    _stop.set()
    if _thread is not None:
        _thread.join(timeout=5)
        _thread = None
