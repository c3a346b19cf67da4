"""Jobs that follow a stored message. They take ids, load what they need, and are safe to run
twice (a Celery redelivery, or a duplicate enqueue): every effect is idempotent."""

from celery import shared_task

from helpdesk.conversations.followers import customer_message_follow
from helpdesk.conversations.models import Message
from helpdesk.core.asyncdb import db_call
from helpdesk.core.loop import run_on_job_loop


# The name outlives any rename of the function: jobs already queued carry it.
@shared_task(name="helpdesk.customer_message_received", acks_late=True)
def customer_message_received(message_id: int) -> str:
    """Hand a customer message to the apps that follow customer messages (followers.py)."""
    # Everything, loading included, happens on the job loop: this worker thread only waits, and
    # must not hold a pooled database connection while it does — with as many worker threads
    # as pool connections, the loop's own queries would find the pool empty.
    return run_on_job_loop(_process(message_id))


async def _process(message_id: int) -> str:
    message = await db_call(
        Message.objects.select_related("tenant")
        .filter(pk=message_id, sender_type=Message.SenderType.CONTACT)
        .first
    )()
    if message is None:
        return "gone"
    return "; ".join(await customer_message_follow(message))


@shared_task(name="helpdesk.queue_reminder", acks_late=True)
def queue_reminder(tenant_id: int, conversation_id: int, queued_at: str) -> str:
    from django.utils.dateparse import parse_datetime

    from helpdesk.conversations.assignment import queue_remind

    reminded = queue_remind(
        tenant_id=tenant_id, conversation_id=conversation_id, queued_at=parse_datetime(queued_at)
    )
    return "reminded" if reminded else "no longer waiting"
