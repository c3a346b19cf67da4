"""Who may use the console: users with an active membership of an active tenant.

The tenant a console request acts for is always the membership's; nothing in the URL, the
query string or the session chooses it.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from helpdesk.tenants.access import active_membership
from helpdesk.tenants.models import Membership

_CACHE_ATTR = "_helpdesk_console_membership"
CONSOLE_ROLES = frozenset({Membership.Role.ADMIN, Membership.Role.AGENT})


def console_membership(request: HttpRequest) -> Membership | None:
    """The membership the request's user works under in the console, cached on the request."""
    if not hasattr(request, _CACHE_ATTR):
        membership = active_membership(request.user)
        if membership is not None and membership.role not in CONSOLE_ROLES:
            membership = None
        setattr(request, _CACHE_ATTR, membership)
    return getattr(request, _CACHE_ATTR)


def console_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For HTML pages: anonymous users go to the console login, outsiders get a 403 page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("console:login"))
        membership = console_membership(request)
        if membership is None:
            return render(request, "console/no_access.html", status=403)
        return view(request, membership, *args, **kwargs)

    return wrapper
