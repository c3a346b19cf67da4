"""Who acts for which tenant. Derived from the user's membership, never from a global."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.http import HttpRequest

from helpdesk.tenants.models import Membership, Tenant

_CACHE_ATTR = "_helpdesk_admin_tenant"


def active_membership(user: AbstractBaseUser | AnonymousUser) -> Membership | None:
    """The user's membership if the user, the membership and its tenant are all active."""
    if not user.is_authenticated or not user.is_active:
        return None
    return (
        Membership.objects.select_related("tenant")
        .filter(user=user, is_active=True, tenant__is_active=True)
        .first()
    )


def active_members(tenant_id: int) -> QuerySet[Membership]:
    """The tenant's members who may act: the membership and its user both active."""
    return Membership.objects.filter(tenant_id=tenant_id, is_active=True, user__is_active=True)


def display_name(user: AbstractBaseUser) -> str:
    """How a member is named to customers and colleagues."""
    return user.get_full_name() or user.get_username()


def administered_tenant(user: AbstractBaseUser | AnonymousUser) -> Tenant | None:
    """The tenant a staff user administers through /admin/: an active admin membership."""
    if not user.is_staff:
        return None
    membership = active_membership(user)
    if membership is None or membership.role != Membership.Role.ADMIN:
        return None
    return membership.tenant


def admin_tenant(request: HttpRequest) -> Tenant | None:
    """The tenant the request's user administers through /admin/, cached on the request."""
    if not hasattr(request, _CACHE_ATTR):
        setattr(request, _CACHE_ATTR, administered_tenant(request.user))
    return getattr(request, _CACHE_ATTR)
