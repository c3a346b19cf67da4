"""Data lifecycle: resolved conversations older than the tenant's retention are deleted or
anonymised by a periodic sweep; everything about one contact is exported on request. Both are
audited (helpdesk/tenants/audit.py)."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from helpdesk.conversations.attachments import (
    attachment_descriptor,
    attachments_orphans_delete,
)
from helpdesk.conversations.contacts import contact_get
from helpdesk.conversations.models import (
    Attachment,
    Contact,
    Conversation,
    Message,
    RetentionPolicy,
)
from helpdesk.conversations.serializers import message_payload
from helpdesk.core.errors import InvalidInput
from helpdesk.core.loop import run_every
from helpdesk.tenants.audit import audit
from helpdesk.tenants.models import AuditEntry, Tenant

logger = logging.getLogger(__name__)

BATCH = 500
SWEEP_LOCK = "retention-sweep"


def retention_apply(*, tenant: Tenant, now: datetime | None = None) -> int:
    """Apply ``tenant``'s retention policy; how many conversations it deleted or anonymised."""
    policy = RetentionPolicy.objects.filter(tenant=tenant).first()
    if policy is None:
        return 0
    now = now or timezone.now()
    cutoff = now - timedelta(days=policy.resolved_for_days)
    expired = Conversation.objects.filter(
        tenant=tenant, status=Conversation.Status.RESOLVED, resolved_at__lt=cutoff
    )
    if policy.action == RetentionPolicy.Action.ANONYMISE:
        # Already anonymised conversations have no text or files left to remove.
        expired = expired.filter(
            Q(messages__text__gt="") | Q(messages__attachments__isnull=False)
        ).distinct()
    done = 0
    while ids := list(expired.values_list("pk", flat=True)[:BATCH]):
        with transaction.atomic():
            contact_ids = set(
                Conversation.objects.filter(pk__in=ids).values_list("contact_id", flat=True)
            )
            if policy.action == RetentionPolicy.Action.DELETE:
                Conversation.objects.filter(tenant=tenant, pk__in=ids).delete()
                # A contact whose every conversation went goes too: nothing else is theirs.
                Contact.objects.filter(tenant=tenant, pk__in=contact_ids).exclude(
                    conversations__isnull=False
                ).delete()
            else:
                Message.objects.filter(tenant=tenant, conversation_id__in=ids).update(
                    text="", metadata={}
                )
                # Files are content too: they go (their storage files after the commit).
                Attachment.objects.filter(tenant=tenant, message__conversation_id__in=ids).delete()
                # Their details go once no newer conversation of theirs is still kept.
                Contact.objects.filter(tenant=tenant, pk__in=contact_ids).exclude(
                    conversations__in=Conversation.objects.filter(tenant=tenant)
                    .exclude(pk__in=expired.values("pk"))
                    .exclude(pk__in=ids)
                ).update(name="", email="", external_id="", metadata={})
        done += len(ids)
    RetentionPolicy.objects.filter(pk=policy.pk).update(last_applied_at=now)
    if done:
        audit(
            tenant=tenant,
            action=AuditEntry.Action.RETENTION_APPLIED,
            subject=f"{done} conversations resolved before {cutoff.date().isoformat()}",
            actor_label="retention job",
            action_taken=policy.action,
            conversations=done,
        )
    return done


def retention_policy_set(
    *, tenant: Tenant, resolved_for_days: int | None, action: str
) -> RetentionPolicy | None:
    """``tenant`` keeps resolved conversations ``resolved_for_days`` (None: forever), then
    ``action``s them; the sweep applies it."""
    if resolved_for_days is None:
        RetentionPolicy.objects.filter(tenant=tenant).delete()
        return None
    policy = RetentionPolicy.objects.filter(tenant=tenant).first() or RetentionPolicy(tenant=tenant)
    policy.resolved_for_days, policy.action = resolved_for_days, action
    try:
        policy.full_clean(exclude=["tenant"])
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise InvalidInput(messages[0], field=field) from None
    policy.save()
    return policy


def retention_sweep(now: datetime | None = None) -> int:
    """Every tenant's retention policy, applied; the conversations it touched."""
    total = 0
    for policy in RetentionPolicy.objects.select_related("tenant"):
        try:
            total += retention_apply(tenant=policy.tenant, now=now)
        except Exception:
            logger.exception("Applying the retention of tenant %s failed", policy.tenant_id)
    return total


def contact_export(*, tenant: Tenant, contact_id, actor=None, actor_label: str = "") -> dict:
    """Everything kept about one contact (an access request): their details, conversations and
    messages, private notes included. Audited."""
    contact = contact_get(tenant=tenant, contact_id=contact_id)
    conversations = []
    for conversation in contact.conversations.order_by("created_at", "pk"):
        messages = conversation.messages.order_by("seq")
        conversations.append(
            {
                "id": conversation.pk,
                "inbox": conversation.inbox_id,
                "status": conversation.status,
                "created_at": conversation.created_at.isoformat(),
                "resolved_at": conversation.resolved_at.isoformat()
                if conversation.resolved_at
                else None,
                "messages": [message_payload(m) for m in messages],
                # What was sent, described (the files themselves are in storage).
                "attachments": [
                    {**attachment_descriptor(a), "message": a.message.seq}
                    for a in Attachment.objects.filter(
                        tenant=tenant, message__conversation=conversation
                    )
                    .select_related("message")
                    .order_by("message__seq", "pk")
                ],
            }
        )
    audit(
        tenant=tenant,
        action=AuditEntry.Action.CONTACT_EXPORTED,
        subject=str(contact),
        actor=actor,
        actor_label=actor_label,
        contact_id=contact.pk,
    )
    return {
        "contact": {
            "id": contact.pk,
            "visitor_id": str(contact.visitor_id),
            "name": contact.name,
            "email": contact.email,
            "external_id": contact.external_id,
            "language": contact.language,
            "metadata": contact.metadata,
            "created_at": contact.created_at.isoformat(),
            "last_seen_at": contact.last_seen_at.isoformat() if contact.last_seen_at else None,
        },
        "conversations": conversations,
        "exported_at": timezone.now().isoformat(),
    }


def start_retention_sweeper() -> None:
    """Apply every tenant's retention every RETENTION_SWEEP_SECONDS on this process's job loop;
    of all the processes, the one that takes the cache's lock first does it."""
    every = settings.RETENTION_SWEEP_SECONDS
    run_every("retention sweep", every, lambda: _sweep_once(every))


def _sweep_once(every: float) -> None:
    if cache.add(SWEEP_LOCK, 1, timeout=max(1, int(every) - 1)):
        retention_sweep()
        # Uploads never sent within a day go with the same sweep.
        attachments_orphans_delete()
