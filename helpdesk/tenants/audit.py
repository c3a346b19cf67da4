"""The audit log: who exported or deleted what about people, and when."""

from django.contrib.auth.models import AbstractBaseUser

from helpdesk.tenants.access import display_name
from helpdesk.tenants.models import AuditEntry, Tenant


def audit(
    *,
    tenant: Tenant | int,
    action: str,
    subject: str,
    actor: AbstractBaseUser | None = None,
    actor_label: str = "",
    **details,
) -> AuditEntry:
    """Record ``action`` on ``subject``; ``actor_label`` names an actor that is not a user (or
    how it acted: "API key CRM sync")."""
    label = actor_label or (display_name(actor) if actor is not None else "")
    return AuditEntry.objects.create(
        tenant_id=tenant if isinstance(tenant, int) else tenant.pk,
        actor=actor,
        actor_label=label[:200],
        action=action,
        subject=subject[:300],
        details=details,
    )
