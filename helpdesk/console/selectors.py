"""Reads only the console needs. Every query is filtered by the tenant passed in."""

from django.db.models import BooleanField, Case, Q, Value, When
from django.utils.translation import gettext

from helpdesk.console.models import SHORTCUT_MAX, CannedResponse
from helpdesk.conversations.assignment import agent_presence_key, members_with_load
from helpdesk.core.errors import InvalidInput
from helpdesk.realtime.presence import is_present
from helpdesk.tenants.access import active_members, display_name
from helpdesk.tenants.models import Tenant

CANNED_PAGE_MAX = 100


def console_agents(*, tenant: Tenant) -> list[dict]:
    """The tenant's active members as ``{"id", "name"}``, to show assignees by name."""
    memberships = active_members(tenant.pk).select_related("user").order_by("user__username")
    return [{"id": m.user_id, "name": display_name(m.user)} for m in memberships]


def agent_directory(*, tenant: Tenant) -> list[dict]:
    """The tenant's active agents and admins with what a transfer needs to know about them.

    ``availability`` is what the agent chose (online / busy / offline), ``online`` whether a
    console of theirs is connected right now, ``open`` how many conversations are assigned to
    them and ``capacity`` their ``max_concurrent_chats``. One query whatever the number of
    agents, plus a cache read per agent for presence.
    """
    memberships = members_with_load(tenant=tenant).order_by(
        "user__first_name", "user__last_name", "user__username"
    )
    return [
        {
            "id": m.user_id,
            "name": display_name(m.user),
            "role": m.role,
            "availability": m.availability,
            "online": is_present(agent_presence_key(tenant.pk, m.user_id)),
            "open": m.load,
            "capacity": m.max_concurrent_chats,
        }
        for m in memberships
    ]


def canned_responses_search(
    *, tenant: Tenant, query: str = "", limit: int = 50
) -> list[CannedResponse]:
    """The tenant's active canned responses matching ``query``, at most ``limit``.

    A response matches when its shortcut starts with the query or its title contains it;
    shortcut matches come first, then by shortcut. A leading slash is ignored, so what the
    agent typed can be passed as it is. ``limit`` may be one more than ``CANNED_PAGE_MAX``, to
    learn whether a full page has more behind it.
    """
    if not isinstance(query, str):
        raise InvalidInput(gettext("q must be text."), field="q")
    if (
        isinstance(limit, bool)
        or not isinstance(limit, int)
        or not 1 <= limit <= CANNED_PAGE_MAX + 1
    ):
        raise InvalidInput(
            gettext("limit must be between 1 and %(max)d.") % {"max": CANNED_PAGE_MAX + 1},
            field="limit",
        )
    query = query.strip().removeprefix("/").lower()
    if len(query) > SHORTCUT_MAX + 160:
        raise InvalidInput(gettext("q is too long."), field="q")
    responses = CannedResponse.objects.filter(tenant=tenant, is_active=True)
    if query:
        responses = responses.filter(
            Q(shortcut__startswith=query) | Q(title__icontains=query)
        ).annotate(
            prefix=Case(
                When(shortcut__startswith=query, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        responses = responses.order_by("-prefix", "shortcut")
    else:
        responses = responses.order_by("shortcut")
    return list(responses[:limit])
