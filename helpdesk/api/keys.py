"""API keys: made (shown once), found from the Authorization header, revoked."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from django.utils.translation import gettext

from helpdesk.api.models import ApiKey
from helpdesk.core.errors import InvalidInput, PermissionDenied
from helpdesk.core.ratelimit import rate_limit_hit
from helpdesk.tenants.access import active_membership
from helpdesk.tenants.models import Membership, Tenant

KEY_PREFIX = "hdk_"
# A write per request would be a write per API call; a minute is precise enough to tell.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_key_create(
    *, tenant: Tenant, user: AbstractBaseUser, name: str, scope: str
) -> tuple[ApiKey, str]:
    """A new key acting as ``user`` (an active admin of ``tenant``), and the key itself, which
    is not stored and cannot be shown again."""
    api_key_owner_check(tenant=tenant, user=user)
    if scope not in ApiKey.Scope.values:
        raise InvalidInput(gettext("Choose one of the scopes offered."), field="scope")
    name = (name or "").strip()[:100]
    if not name:
        raise InvalidInput(gettext("Give the key a name."), field="name")
    prefix = secrets.token_hex(4)
    raw = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        tenant=tenant, user=user, name=name, scope=scope, prefix=prefix, key_hash=_digest(raw)
    )
    return key, raw


def api_key_owner_check(*, tenant: Tenant, user: AbstractBaseUser) -> None:
    """A key acts as its maker, who must be an active admin of its tenant."""
    membership = active_membership(user)
    if (
        membership is None
        or membership.tenant_id != tenant.pk
        or membership.role != Membership.Role.ADMIN
    ):
        raise PermissionDenied(gettext("Only an admin of the tenant can make its API keys."))


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The live key ``raw`` is, of a user who is still an active member of an active tenant;
    None for anything else. Counts the call against the key's rate limit (RateLimited)."""
    if not isinstance(raw, str) or not raw.startswith(KEY_PREFIX) or len(raw) > 100:
        return None
    prefix, _, secret = raw[len(KEY_PREFIX) :].partition("_")
    if not prefix or not secret:
        return None
    key = (
        ApiKey.objects.select_related("tenant", "user")
        .filter(prefix=prefix, revoked_at__isnull=True, tenant__is_active=True)
        .first()
    )
    if key is None or not hmac.compare_digest(key.key_hash, _digest(raw)):
        return None
    membership = active_membership(key.user)
    if membership is None or membership.tenant_id != key.tenant_id:
        return None
    rate_limit_hit("api", f"k{key.pk}", settings.RATE_API_KEY)
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def api_key_revoke(key: ApiKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
