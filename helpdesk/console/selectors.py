"""Reads only the console needs."""

from helpdesk.tenants.models import Membership, Tenant


def console_agents(*, tenant: Tenant) -> list[dict]:
    """The tenant's active members as ``{"id", "name"}``, to show assignees by name."""
    memberships = (
        Membership.objects.filter(tenant=tenant, is_active=True, user__is_active=True)
        .select_related("user")
        .order_by("user__username")
    )
    return [{"id": m.user_id, "name": display_name(m.user)} for m in memberships]


def display_name(user) -> str:
    return user.get_full_name() or user.get_username()
