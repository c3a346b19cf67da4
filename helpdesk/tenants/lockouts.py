"""Sign-in lockouts as the admin shows them (helpdesk/core/login_throttle.py counts them).

A failure is stored under the username as typed, with the address it came from. A tenant owns
the failures under its own users' names; failures under a name that is no user's (guesses, an
address trying many names) belong to no tenant, and only superusers see them.
"""

import math

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone

from helpdesk.tenants.models import Tenant


def login_failures(*, tenant: Tenant | None) -> QuerySet[AccessAttempt]:
    """Failed sign-ins that still count: every one when ``tenant`` is None (superusers),
    else those under the usernames of the tenant's users."""
    failures = AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - get_cool_off())
    if tenant is None:
        return failures
    user_model = get_user_model()
    usernames = user_model.objects.filter(membership__tenant=tenant).values(
        user_model.USERNAME_FIELD
    )
    return failures.filter(username__in=usernames)


def lockout_minutes_left(failure: AccessAttempt) -> int | None:
    """Whole minutes, rounded up, until ``failure`` stops locking its username and address out;
    None when it has not reached the limit on its own."""
    if failure.failures_since_start < settings.AXES_FAILURE_LIMIT:
        return None
    left = failure.attempt_time + get_cool_off() - timezone.now()
    return max(1, math.ceil(left.total_seconds() / 60))
