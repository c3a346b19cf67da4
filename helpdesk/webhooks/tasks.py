"""The webhooks' jobs. They take ids and are safe to run twice."""

from celery import shared_task

from helpdesk.webhooks.delivery import deliver


# The name outlives any rename of the function: jobs already queued carry it.
@shared_task(name="helpdesk.webhooks.deliver", acks_late=True)
def webhook_deliver(delivery_id: int) -> str:
    """Send a delivery, after the older undelivered ones of its conversation."""
    return deliver(delivery_id)
