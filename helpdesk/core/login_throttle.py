"""Password guessing is throttled on every sign-in form (the console's and the admin's).

django-axes counts failed sign-ins per username and per client address in the database (so
every web process shares the counts, in both modes) and refuses any sign-in, right password or
not, while either count is at the limit. What is ours: which address counts, what a successful
sign-in forgives, and the page that tells a locked-out person how long to wait.
"""

import ipaddress
import math

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off, get_credentials, get_failure_limit
from axes.models import AccessAttempt
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import ngettext

from helpdesk.core.errors import RateLimited
from helpdesk.core.ratelimit import client_address

# Set on the request by the form that refused a locked-out sign-in; the view answers 429.
_RETRY_AFTER_ATTR = "_helpdesk_login_retry_after"


def request_client_ip(request: HttpRequest) -> str | None:
    """The address failures count against: the same rule as every other per-IP limit
    (X-Forwarded-For only when USE_X_FORWARDED_FOR says our own proxy sets it). None when it is
    not an IP address (no peer, a unix socket), since axes stores it in an IP column."""
    address = client_address(
        request.META.get("HTTP_X_FORWARDED_FOR"), request.META.get("REMOTE_ADDR")
    )
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


class LoginThrottleHandler(AxesDatabaseHandler):
    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        """A successful sign-in forgives that account's own failures from where it signed in.

        Axes would delete every failure matching any lockout parameter, which includes every
        failure from the address: anyone with one valid account could then guess at other
        accounts, sign in to their own and guess again, for ever.
        """
        count, _ = AccessAttempt.objects.filter(
            username=get_client_username(request, credentials),
            ip_address=request.axes_ip_address,
        ).delete()
        return count

    def lockout_seconds_left(self, request: HttpRequest, credentials: dict) -> int:
        """Seconds until sign-ins of this username from this address are let through again.

        Failures older than the cool-off stop counting, oldest first; a lock ends when the
        newest failures that still reach the limit on their own have aged out.
        """
        limit = get_failure_limit(request, credentials)
        cool_off = get_cool_off(request)
        now = timezone.now()
        ends = None
        for attempts in self.get_user_attempts(request, credentials):
            counted = 0
            rows = attempts.order_by("-attempt_time").values_list(
                "attempt_time", "failures_since_start"
            )
            for attempt_time, failures in rows:
                counted += failures
                if counted >= limit:
                    unlocks = attempt_time + cool_off
                    ends = unlocks if ends is None else max(ends, unlocks)
                    break
        if ends is None:  # locked by something other than counted failures
            return math.ceil(cool_off.total_seconds())
        return max(1, math.ceil((ends - now).total_seconds()))


class LoginThrottleMixin:
    """For AuthenticationForm subclasses: a locked-out sign-in is told so, and for how long.

    The same answer whether the username exists or not, and whether the password was right:
    the lock counts usernames as typed and is checked before any password.
    """

    def get_invalid_login_error(self):
        request = self.request
        if not getattr(request, "axes_locked_out", False):
            return super().get_invalid_login_error()
        credentials = get_credentials(self.cleaned_data.get("username"))
        handler = AxesProxyHandler.get_implementation()
        seconds = handler.lockout_seconds_left(request, credentials)
        setattr(request, _RETRY_AFTER_ATTR, seconds)
        minutes = math.ceil(seconds / 60)
        return ValidationError(
            ngettext(
                "Too many failed sign-in attempts. Try again in %(minutes)d minute.",
                "Too many failed sign-in attempts. Try again in %(minutes)d minutes.",
                minutes,
            ),
            code=RateLimited.code,
            params={"minutes": minutes},
        )


def throttled(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """The sign-in page as answered to a locked-out sign-in: 429 with Retry-After."""
    seconds = getattr(request, _RETRY_AFTER_ATTR, None)
    if seconds is not None:
        response.status_code = RateLimited.http_status
        response["Retry-After"] = str(seconds)
    return response
