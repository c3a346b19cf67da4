"""Who acts for which tenant. Derived from the user's membership, never from a global."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
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


def admin_tenant(request: HttpRequest) -> Tenant | None:
    """The tenant a staff user administers through /admin/, cached on the request."""
    if not hasattr(request, _CACHE_ATTR):
        tenant = None
        if request.user.is_staff:
            membership = active_membership(request.user)
            if membership is not None and membership.role == Membership.Role.ADMIN:
                tenant = membership.tenant
        setattr(request, _CACHE_ATTR, tenant)
    return getattr(request, _CACHE_ATTR)
