"""Recording events for a tenant's webhooks and delivering them: signed, retried, in order.

* **At least once.** A delivery is retried until the receiver answers 2xx or the retries
  (WEBHOOK_RETRY_SECONDS) run out; the receiver deduplicates on the event id
  (``X-Helpdesk-Delivery``, also ``id`` in the body), which stays the same on every attempt.
* **In order per conversation.** Whatever delivery a job was started for, it sends the *oldest*
  undelivered delivery of the same webhook and conversation first, then the next, and stops at
  the first failure: the failed one is retried later and carries the rest with it. One job at a
  time works on a webhook + conversation (a lock in the cache); another waits and tries again.
  A delivery that is given up ("dead") stops blocking the ones after it.
* **Disabled after repeated failures.** Every failed attempt adds one to the webhook's
  failures in a row, every success resets it; at WEBHOOK_DISABLE_AFTER_FAILURES the webhook is
  disabled with the reason. Its undelivered deliveries wait; re-enabling it sends them.

Every connection goes through the address guard (helpdesk/core/netguard.py), the same policy
the plugins' safe HTTP client applies: only public addresses, plus the internal hosts an
operator listed in WEBHOOK_ALLOWED_INTERNAL_HOSTS. Redirects are not followed.
"""

import asyncio
import hashlib
import hmac
import json
import logging
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from helpdesk.conversations.announcements import ConversationChange
from helpdesk.core import jobs
from helpdesk.core.netguard import PRIVATE_ADDRESS, AddressPolicy, AddressRefused, GuardedTransport
from helpdesk.core.prometheus import WEBHOOK_DELIVERIES, WEBHOOK_DURATION
from helpdesk.tenants.models import Tenant
from helpdesk.webhooks.events import EVENT_FOR_CHANGE
from helpdesk.webhooks.models import Webhook, WebhookDelivery
from helpdesk.webhooks.payloads import event_data
from helpdesk.webhooks.registry import active_pairs, webhooks_changed

logger = logging.getLogger(__name__)

USER_AGENT = "HelpdeskWebhooks/1.0"
SIGNATURE_VERSION = "v1"
EVENT_NAMESPACE = uuid.UUID("5d0f9a7e-6a59-4a4f-9a43-2f1b0c7e8d11")


# --- Recording -----------------------------------------------------------------------------------


def event_id_for(change: ConversationChange, event: str) -> uuid.UUID:
    """The same id for the same change, so a job that runs twice records it once."""
    key = "|".join(
        str(part)
        for part in (
            change.tenant_id,
            event,
            change.conversation_id,
            change.message_id,
            change.contact_id,
            change.to_user_id,
            change.status,
            change.at.isoformat(),
        )
    )
    return uuid.uuid5(EVENT_NAMESPACE, key)


def event_record(change: ConversationChange) -> list[int]:
    """Store one delivery per active webhook of the tenant that listens to the change's event
    and start sending them; returns the new deliveries' ids."""
    event = EVENT_FOR_CHANGE.get(change.change)
    if event is None or (change.tenant_id, event) not in active_pairs():
        return []  # active_pairs(): wants() may have said yes from async code, unsure
    webhooks = [
        webhook
        for webhook in Webhook.objects.filter(
            tenant_id=change.tenant_id, is_active=True, tenant__is_active=True
        )
        if event in (webhook.events or ())
    ]
    if not webhooks:
        return []
    data = event_data(event, change)
    if data is None:
        return []
    event_id = event_id_for(change, event)
    created = []
    with transaction.atomic():
        for webhook in webhooks:
            delivery, new = WebhookDelivery.objects.get_or_create(
                webhook=webhook,
                event_id=event_id,
                defaults={
                    "tenant_id": change.tenant_id,
                    "event": event,
                    "conversation_id": change.conversation_id,
                    "payload": data,
                    "occurred_at": change.at,
                    "next_attempt_at": timezone.now(),
                },
            )
            if new:
                created.append(delivery.pk)
                from helpdesk.webhooks.tasks import webhook_deliver

                jobs.enqueue(webhook_deliver, delivery.pk)
    return created


# --- Signing -------------------------------------------------------------------------------------


def envelope(delivery: WebhookDelivery, tenant_slug: str) -> dict[str, Any]:
    return {
        "id": str(delivery.event_id),
        "type": delivery.event,
        "created_at": delivery.occurred_at.isoformat(),
        "tenant": tenant_slug,
        "data": delivery.payload,
    }


def body_of(delivery: WebhookDelivery, tenant_slug: str) -> bytes:
    return json.dumps(
        envelope(delivery, tenant_slug), ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``v1=`` and the hex HMAC-SHA256 of ``"{timestamp}.{body}"`` under the webhook's secret."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={mac.hexdigest()}"


def signed_headers(delivery: WebhookDelivery, secret: str, body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Helpdesk-Event": delivery.event,
        "X-Helpdesk-Delivery": str(delivery.event_id),
        "X-Helpdesk-Timestamp": timestamp,
        "X-Helpdesk-Signature": signature(secret, timestamp, body),
    }


# --- Sending -------------------------------------------------------------------------------------


def address_policy() -> AddressPolicy:
    return AddressPolicy.from_entries(tuple(settings.WEBHOOK_ALLOWED_INTERNAL_HOSTS))


async def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    async with (
        asyncio.timeout(timeout),
        httpx.AsyncClient(
            transport=GuardedTransport(address_policy()),
            # An environment proxy would resolve the host itself, past the guard.
            trust_env=False,
            follow_redirects=False,
            timeout=timeout,
        ) as client,
        # The status is all we need: the answer's body is never read.
        client.stream("POST", url, content=body, headers=headers) as response,
    ):
        return response.status_code


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    """POST once; (status code or None, error text or "")."""
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    try:
        status = asyncio.run(_post(url, body, headers, timeout))
    except AddressRefused as refused:
        return None, f"{PRIVATE_ADDRESS}: {refused}"
    except (TimeoutError, httpx.TimeoutException):
        return None, f"timeout: no answer within {timeout:g} s"
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    except Exception as exc:  # an unexpected failure of one attempt is still a failure
        logger.exception("Webhook delivery to %s failed", url)
        return None, f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= status < 300:
        return status, ""
    return status, f"HTTP {status}"


def _lock_key(delivery: WebhookDelivery) -> str:
    scope = (
        f"c{delivery.conversation_id}"
        if delivery.conversation_id is not None
        else f"d{delivery.pk}"
    )
    return f"t{delivery.tenant_id}.webhook{delivery.webhook_id}.{scope}.lock"


def _head(delivery: WebhookDelivery) -> WebhookDelivery | None:
    """The delivery to send first: the oldest undelivered one of the same webhook and
    conversation (the delivery itself when it has no conversation)."""
    if delivery.conversation_id is None:
        return (
            WebhookDelivery.objects.filter(pk=delivery.pk, status__in=WebhookDelivery.UNDELIVERED)
            .select_related("webhook", "tenant")
            .first()
        )
    return (
        WebhookDelivery.objects.filter(
            webhook_id=delivery.webhook_id,
            conversation_id=delivery.conversation_id,
            status__in=WebhookDelivery.UNDELIVERED,
        )
        .select_related("webhook", "tenant")
        .order_by("occurred_at", "id")
        .first()
    )


def deliver(delivery_id: int) -> str:
    """Send ``delivery_id``'s conversation's undelivered deliveries to its webhook, oldest
    first, while they succeed. Safe to run twice."""
    delivery = WebhookDelivery.objects.filter(pk=delivery_id).first()
    if delivery is None:
        return "gone"
    lock = _lock_key(delivery)
    lock_seconds = settings.WEBHOOK_TIMEOUT_SECONDS * 3 + 30
    if not cache.add(lock, 1, timeout=lock_seconds):
        # Another job is sending this conversation's deliveries; look again shortly.
        from helpdesk.webhooks.tasks import webhook_deliver

        jobs.enqueue_later(webhook_deliver, 2.0, delivery_id)
        return "busy"
    sent = 0
    try:
        while True:
            cache.touch(lock, lock_seconds)  # still ours while we work through the backlog
            head = _head(delivery)
            if head is None:
                return f"sent {sent}"
            if not head.webhook.is_active:
                return f"sent {sent}; webhook disabled"
            now = timezone.now()
            if head.status == WebhookDelivery.Status.FAILED and head.next_attempt_at > now:
                if head.pk == delivery_id:
                    # This job came early (clocks of two machines): come back on time.
                    from helpdesk.webhooks.tasks import webhook_deliver

                    wait = (head.next_attempt_at - now).total_seconds()
                    jobs.enqueue_later(webhook_deliver, wait, head.pk)
                return f"sent {sent}; waiting for the retry of {head.pk}"
            if not _attempt(head):
                return f"sent {sent}; {head.pk} failed"
            sent += 1
            if delivery.conversation_id is None:
                return f"sent {sent}"
    finally:
        cache.delete(lock)


def _attempt(delivery: WebhookDelivery) -> bool:
    """One attempt; True when the conversation's next delivery may go (this one was delivered or
    given up), False when it will be retried."""
    webhook = delivery.webhook
    body = body_of(delivery, delivery.tenant.slug)
    started = time.monotonic()
    status, error = post(webhook.url, body, signed_headers(delivery, webhook.secret, body))
    now = timezone.now()
    delivery.attempts += 1
    elapsed = time.monotonic() - started
    WEBHOOK_DURATION.observe(elapsed)
    delivery.response_ms = int(elapsed * 1000)
    delivery.last_status_code = status
    delivery.last_error = error[:500]
    if not error:
        delivery.status = WebhookDelivery.Status.DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        delivery.save()
        Webhook.objects.filter(pk=webhook.pk).update(consecutive_failures=0)
        WEBHOOK_DELIVERIES.labels("success").inc()
        return True
    retries = settings.WEBHOOK_RETRY_SECONDS
    if delivery.attempts > len(retries):
        delivery.status = WebhookDelivery.Status.DEAD
        delivery.next_attempt_at = None
    else:
        delay = float(retries[delivery.attempts - 1])
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.next_attempt_at = now + timedelta(seconds=delay)
    delivery.save()
    refused = error.startswith(PRIVATE_ADDRESS)
    given_up = delivery.status == WebhookDelivery.Status.DEAD
    WEBHOOK_DELIVERIES.labels("refused" if refused else "gave_up" if given_up else "retry").inc()
    _failure_count(webhook, error)
    if delivery.status == WebhookDelivery.Status.FAILED:
        from helpdesk.webhooks.tasks import webhook_deliver

        jobs.enqueue_later(webhook_deliver, delay, delivery.pk)
        return False
    return True


def _failure_count(webhook: Webhook, error: str) -> None:
    Webhook.objects.filter(pk=webhook.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    failures = Webhook.objects.values_list("consecutive_failures", flat=True).get(pk=webhook.pk)
    limit = settings.WEBHOOK_DISABLE_AFTER_FAILURES
    if failures >= limit:
        reason = gettext("%(count)s deliveries in a row failed; the last: %(error)s") % {
            "count": failures,
            "error": error,
        }
        disabled = Webhook.objects.filter(pk=webhook.pk, is_active=True).update(
            is_active=False, disabled_at=timezone.now(), disabled_reason=reason[:300]
        )
        if disabled:
            webhooks_changed()
            logger.warning("Webhook %s of tenant %s disabled: %s", webhook.pk, webhook.tenant_id,
                           reason)  # fmt: skip


# --- Admin actions -------------------------------------------------------------------------------


def deliveries_resend(*, tenant: Tenant, delivery_ids: list[int]) -> int:
    """Send these deliveries again (same event id), whatever became of them; returns how many."""
    from helpdesk.webhooks.tasks import webhook_deliver

    ids = list(
        WebhookDelivery.objects.filter(tenant=tenant, pk__in=delivery_ids).values_list(
            "pk", flat=True
        )
    )
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk__in=ids).update(
            status=WebhookDelivery.Status.PENDING,
            attempts=0,
            next_attempt_at=timezone.now(),
            last_error="",
            delivered_at=None,
        )
        for pk in ids:
            jobs.enqueue(webhook_deliver, pk)
    return len(ids)


def webhooks_enable(*, tenant: Tenant, webhook_ids: list[int]) -> int:
    """Enable these webhooks again and send what waited for them; returns how many."""
    from helpdesk.webhooks.tasks import webhook_deliver

    with transaction.atomic():
        webhooks = list(Webhook.objects.filter(tenant=tenant, pk__in=webhook_ids))
        Webhook.objects.filter(pk__in=[w.pk for w in webhooks]).update(
            is_active=True, disabled_at=None, disabled_reason="", consecutive_failures=0
        )
        waiting = WebhookDelivery.objects.filter(
            webhook__in=webhooks, status__in=WebhookDelivery.UNDELIVERED
        )
        waiting.update(next_attempt_at=timezone.now())
        # One job per conversation is enough: it sends that conversation's deliveries in order.
        seen: set = set()
        for pk, webhook_id, conversation_id in waiting.order_by("occurred_at", "id").values_list(
            "pk", "webhook_id", "conversation_id"
        ):
            key = pk if conversation_id is None else (webhook_id, conversation_id)
            if key in seen:
                continue
            seen.add(key)
            jobs.enqueue(webhook_deliver, pk)
        webhooks_changed()
    return len(webhooks)
