"""Writes for tenants and memberships."""

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext

from helpdesk.core.errors import InvalidInput
from helpdesk.realtime.events import agent_user_group, agents_group, envelope, publish_on_commit
from helpdesk.tenants.access import display_name
from helpdesk.tenants.models import Membership, Tenant


def membership_create(
    *,
    tenant: Tenant,
    username: str,
    password: str,
    email: str = "",
    role: Membership.Role = Membership.Role.AGENT,
    max_concurrent_chats: int = 5,
) -> Membership:
    """Create a user and make them a member of ``tenant`` in one step."""
    user_model = get_user_model()
    if user_model.objects.filter(username__iexact=username).exists():
        raise InvalidInput(gettext("That username is taken."), field="username")
    with transaction.atomic():
        user = user_model.objects.create_user(username=username, email=email, password=password)
        return membership_add(
            tenant=tenant, user=user, role=role, max_concurrent_chats=max_concurrent_chats
        )


def membership_add(
    *,
    tenant: Tenant,
    user: AbstractBaseUser,
    role: Membership.Role = Membership.Role.AGENT,
    max_concurrent_chats: int = 5,
) -> Membership:
    """Make an existing user a member. A user belongs to one tenant at most."""
    if Membership.objects.filter(user=user).exists():
        raise InvalidInput(gettext("This user already belongs to a tenant."), field="user")
    with transaction.atomic():
        membership = Membership.objects.create(
            tenant=tenant, user=user, role=role, max_concurrent_chats=max_concurrent_chats
        )
        membership_sync_staff(membership)
    return membership


def membership_sync_staff(membership: Membership) -> None:
    """Tenant admins need Django's staff flag to log into /admin/; agents must not have it.

    Superusers keep theirs whatever their membership says.
    """
    user = membership.user
    should_be_staff = membership.role == Membership.Role.ADMIN and membership.is_active
    if user.is_superuser or user.is_staff == should_be_staff:
        return
    user.is_staff = should_be_staff
    user.save(update_fields=["is_staff"])


def membership_changed(membership: Membership, changed: Iterable[str] = ()) -> None:
    """Apply what follows from an edited membership (the admin's form; ``changed`` names the
    fields it changed): the staff flag; closing a disabled member's console connections; and,
    as when agents flip their own switch, their availability announced and the queue served
    if they can now take more."""
    from helpdesk.conversations.assignment import assign_waiting

    membership_sync_staff(membership)
    if not membership.is_active:
        agent_connections_revoke(tenant_id=membership.tenant_id, user_id=membership.user_id)
        return
    changed = set(changed)
    if "availability" in changed:
        _announce_availability(membership)
    if changed & {"availability", "max_concurrent_chats", "is_active"}:
        assign_waiting(tenant=membership.tenant)


def membership_delete(membership: Membership) -> None:
    with transaction.atomic():
        membership.delete()
        agent_connections_revoke(tenant_id=membership.tenant_id, user_id=membership.user_id)


def tenant_changed(tenant: Tenant) -> None:
    """A disabled tenant's agents lose their open console connections at once."""
    if tenant.is_active:
        return
    for user_id in Membership.objects.filter(tenant=tenant).values_list("user_id", flat=True):
        agent_connections_revoke(tenant_id=tenant.pk, user_id=user_id)


def user_changed(user: AbstractBaseUser) -> None:
    """A disabled user account loses its open console connections at once."""
    if user.is_active:
        return
    membership = Membership.objects.filter(user=user).first()
    if membership is not None:
        agent_connections_revoke(tenant_id=membership.tenant_id, user_id=user.pk)


def agent_connections_revoke(*, tenant_id: int, user_id: int) -> None:
    """Close the user's open console connections once the current transaction commits."""
    publish_on_commit(
        agent_user_group(tenant_id, user_id), envelope("revoked", conversation_id=None, data={})
    )


def membership_set_availability(
    *, tenant: Tenant, user: AbstractBaseUser, availability: str
) -> Membership:
    """The agent's online / busy / offline switch. Going online may hand them waiting
    conversations; anything else stops new ones at once."""
    from helpdesk.conversations.assignment import assign_waiting

    if availability not in Membership.Availability.values:
        raise InvalidInput(
            gettext("availability must be online, busy or offline."), field="availability"
        )
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(
            tenant=tenant, user=user, is_active=True
        )
        membership.availability = availability
        membership.save(update_fields=["availability"])
        _announce_availability(membership)
        if availability == Membership.Availability.ONLINE:
            assign_waiting(tenant=tenant)
    return membership


def _announce_availability(membership: Membership) -> None:
    user = membership.user
    publish_on_commit(
        agents_group(membership.tenant_id),
        envelope(
            "presence",
            conversation_id=None,
            data={
                "who": "agent",
                "id": user.pk,
                "name": display_name(user),
                "availability": membership.availability,
            },
        ),
    )
