"""The console's HTTP API: JSON with the session cookie.

Writes to conversations go through the WebSocket (``docs/protocol.md``); the GET endpoints load
what a console shows when it opens a tab or a conversation and fill gaps after a reconnect. The
few POSTs start agent-assist work whose results stream back over the socket; they need the CSRF
token in an ``X-CSRFToken`` header. Every answer is JSON, errors included:
``{"error": {"code", "message"}}`` with the service layer's stable code.
"""

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache

from helpdesk.ai.assist.chunks import knowledge_chunks_cited
from helpdesk.ai.assist.suggestion import suggest_reply
from helpdesk.ai.assist.summary import conversation_assist_state, summarize
from helpdesk.ai.models import ConversationSummary
from helpdesk.console.access import console_membership
from helpdesk.console.selectors import (
    CANNED_PAGE_MAX,
    agent_directory,
    canned_responses_search,
    display_name,
)
from helpdesk.conversations.selectors import (
    CONSOLE_PAGE_MAX,
    MESSAGES_PAGE_MAX,
    contact_conversations,
    contact_product_cards,
    conversation_cursor,
    conversation_get,
    conversations_for_console,
    conversations_last_messages,
    cursor_from_token,
    cursor_token,
    messages_after,
)
from helpdesk.conversations.serializers import conversation_payload, message_payload
from helpdesk.core.errors import (
    AuthenticationFailed,
    InvalidInput,
    PermissionDenied,
    ServiceError,
)
from helpdesk.core.http import answers_errors_with, error_json
from helpdesk.core.validation import MAX_ID
from helpdesk.tenants.models import Membership
from helpdesk.widget.prechat import prechat_details

CONVERSATIONS_PAGE_DEFAULT = 50
MESSAGES_PAGE_DEFAULT = 100
CANNED_PAGE_DEFAULT = 50
PAST_CONVERSATIONS_SHOWN = 20
PRODUCT_CARDS_SHOWN = 20


# Most specific first. A code not listed here is an input problem of some kind: 400.
def error_response(error: ServiceError) -> JsonResponse:
    # DRF's convention for session auth: without a WWW-Authenticate scheme to offer, a missing
    # login is a 403 with its own code rather than a 401.
    return error_json(error, status=403 if isinstance(error, AuthenticationFailed) else None)


def _refused(request: HttpRequest, error: ServiceError) -> JsonResponse:
    return error_response(error)


def console_api(view: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
    """GET only, a console member only, service errors translated to JSON errors."""
    return _console_endpoint(view, methods=("GET", "HEAD"))


def console_action(view: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
    """POST only, with the CSRF token, a console member only, errors as JSON errors."""
    return _console_endpoint(view, methods=("POST",))


def _console_endpoint(
    view: Callable[..., JsonResponse], *, methods: tuple[str, ...]
) -> Callable[..., JsonResponse]:
    @never_cache
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> JsonResponse:
        if request.method not in methods:
            response = JsonResponse(
                {
                    "error": {
                        "code": "method_not_allowed",
                        "message": gettext("Use %(method)s.") % {"method": methods[0]},
                    }
                },
                status=405,
            )
            response["Allow"] = ", ".join(methods)
            return response
        if not request.user.is_authenticated:
            return error_response(AuthenticationFailed(gettext("Sign in to the console first.")))
        membership = console_membership(request)
        if membership is None:
            return error_response(
                PermissionDenied(gettext("This account has no access to the agent console."))
            )
        try:
            return view(request, membership, *args, **kwargs)
        except ServiceError as error:
            return error_response(error)

    # A POST without the CSRF token is refused by Django's middleware before the view runs,
    # answered by _refused through CSRF_FAILURE_VIEW (helpdesk.core.http.csrf_failure).
    return answers_errors_with(_refused)(wrapper)


@console_api
def conversations_list(request: HttpRequest, membership: Membership) -> JsonResponse:
    """``?view=bot|queued|mine|all`` (default all), ``limit``, ``before`` (a ``next`` cursor)."""
    limit = int_param(
        request, "limit", default=CONVERSATIONS_PAGE_DEFAULT, low=1, high=CONSOLE_PAGE_MAX
    )
    before = cursor_from_token(request.GET.get("before"), field="before")
    conversations = conversations_for_console(
        tenant=membership.tenant,
        user=membership.user,
        view=request.GET.get("view", "all"),
        limit=limit,
        before=before,
    )
    last_messages = conversations_last_messages(
        tenant=membership.tenant, conversations=conversations
    )
    next_cursor = (
        cursor_token(conversation_cursor(conversations[-1]))
        if len(conversations) == limit
        else None
    )
    return JsonResponse(
        {
            "conversations": [
                conversation_payload(c, last_message=last_messages.get(c.pk)) for c in conversations
            ],
            "next": next_cursor,
        }
    )


@console_api
def conversation_detail(
    request: HttpRequest, membership: Membership, conversation_id: str
) -> JsonResponse:
    """The conversation with its contact, inbox, assignee and read marks."""
    tenant = membership.tenant
    conversation = conversation_get(tenant=tenant, conversation_id=conversation_id)
    last = conversations_last_messages(tenant=tenant, conversations=[conversation])
    contact = conversation.contact
    assignee = conversation.assignee
    return JsonResponse(
        {
            "conversation": conversation_payload(
                conversation, last_message=last.get(conversation.pk)
            ),
            "contact": _contact(contact),
            # The pre-chat form's answers, labelled ([{key, label, value}], form order).
            "details": prechat_details(conversation),
            "inbox": {"id": conversation.inbox_id, "name": conversation.inbox.name},
            "assignee": ({"id": assignee.pk, "name": display_name(assignee)} if assignee else None),
            "read": {
                "contact": conversation.contact_last_read_seq,
                "agent": conversation.agent_last_read_seq,
            },
        }
    )


@console_api
def conversation_messages(
    request: HttpRequest, membership: Membership, conversation_id: str
) -> JsonResponse:
    """``?after=N`` (default 0) and ``limit``: messages with seq > N in order, notes included."""
    after = int_param(request, "after", default=0, low=0, high=MAX_ID)
    limit = int_param(
        request, "limit", default=MESSAGES_PAGE_DEFAULT, low=1, high=MESSAGES_PAGE_MAX
    )
    messages = messages_after(
        tenant=membership.tenant,
        conversation_id=conversation_id,
        after_seq=after,
        include_private=True,
        limit=limit,
    )
    return JsonResponse(
        {
            "messages": [message_payload(m) for m in messages],
            # A full page may have more behind it; the client asks again after the last seq.
            "has_more": len(messages) == limit,
        }
    )


@console_api
def conversation_contact(
    request: HttpRequest, membership: Membership, conversation_id: str
) -> JsonResponse:
    """The side panel: the conversation's contact, the product cards from their messages and
    their other conversations (newest first). Five queries, whatever the history holds."""
    tenant = membership.tenant
    conversation = conversation_get(tenant=tenant, conversation_id=conversation_id)
    contact = conversation.contact
    others = contact_conversations(
        tenant=tenant,
        contact_id=contact.pk,
        exclude_id=conversation.pk,
        limit=PAST_CONVERSATIONS_SHOWN + 1,
    )
    shown = others[:PAST_CONVERSATIONS_SHOWN]
    last_messages = conversations_last_messages(tenant=tenant, conversations=shown)
    return JsonResponse(
        {
            "conversation": conversation.pk,
            "contact": _contact(contact),
            "cards": contact_product_cards(
                tenant=tenant, contact_id=contact.pk, limit=PRODUCT_CARDS_SHOWN
            ),
            "conversations": [
                conversation_payload(c, last_message=last_messages.get(c.pk)) for c in shown
            ],
            "more_conversations": len(others) > PAST_CONVERSATIONS_SHOWN,
        }
    )


@console_api
def canned_responses(request: HttpRequest, membership: Membership) -> JsonResponse:
    """``?q=`` (what follows the slash; empty for all) and ``limit``: active canned responses,
    shortcut prefix matches first."""
    limit = int_param(request, "limit", default=CANNED_PAGE_DEFAULT, low=1, high=CANNED_PAGE_MAX)
    responses = canned_responses_search(
        tenant=membership.tenant, query=request.GET.get("q", ""), limit=limit + 1
    )
    shown = responses[:limit]
    return JsonResponse(
        {
            "responses": [
                {"id": r.pk, "shortcut": r.shortcut, "title": r.title, "text": r.text}
                for r in shown
            ],
            "has_more": len(responses) > limit,
        }
    )


@console_api
def agents(request: HttpRequest, membership: Membership) -> JsonResponse:
    """The tenant's agents with availability, connection and load, for transfers."""
    return JsonResponse({"agents": agent_directory(tenant=membership.tenant)})


@console_action
def assist_suggest(
    request: HttpRequest, membership: Membership, conversation_id: str
) -> JsonResponse:
    """``POST``: draft a reply for this agent. 202 with the ``request_id`` that the draft's
    ``assist.delta`` / ``assist.done`` / ``assist.error`` events carry."""
    request_id = suggest_reply(
        tenant=membership.tenant, conversation_id=conversation_id, user=membership.user
    )
    return JsonResponse({"request_id": request_id}, status=202)


@console_action
def assist_summary(
    request: HttpRequest, membership: Membership, conversation_id: str
) -> JsonResponse:
    """``POST``: summarise the conversation for this agent. 202 with the ``request_id`` that the
    ``assist.summary.delta`` / ``assist.summary`` / ``assist.error`` events carry."""
    request_id = summarize(
        tenant=membership.tenant,
        conversation_id=conversation_id,
        trigger=ConversationSummary.Trigger.REQUESTED,
        user=membership.user,
    )
    return JsonResponse({"request_id": request_id}, status=202)


@console_api
def conversation_summary(
    request: HttpRequest, membership: Membership, conversation_id: str
) -> JsonResponse:
    """The conversation's newest summary (``null`` when it has none), and whether assist is
    available for it (``{"available", "reason"}``): what the console's assist buttons show."""
    return JsonResponse(
        conversation_assist_state(tenant=membership.tenant, conversation_id=conversation_id)
    )


@console_api
def knowledge_chunks(request: HttpRequest, membership: Membership) -> JsonResponse:
    """``?ids=1,2``: the tenant's knowledge chunks with those ids (the passages a bot reply
    cited), with their source's title; ids of chunks that are not there are left out."""
    ids = _ids_param(request, "ids")
    return JsonResponse({"chunks": knowledge_chunks_cited(tenant=membership.tenant, chunk_ids=ids)})


def _contact(contact) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "name": str(contact),
        # What the customer said their name is ("" when they have not): {{name}} in a canned
        # response uses it, rather than the "Visitor 7d1c" shown for anonymous contacts.
        "given_name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        # Set when the tenant's site vouched for them (HelpdeskWidget.identify) or its API did.
        "external_id": contact.external_id,
        "visitor_id": str(contact.visitor_id),
        "metadata": contact.metadata if isinstance(contact.metadata, dict) else {},
        "created_at": _iso(contact.created_at),
        "last_seen_at": _iso(contact.last_seen_at),
        # The language the helpdesk writes to them in, named in the agent's: "简体中文", "English".
        "language": contact.language,
        "language_name": contact.get_language_display() if contact.language else "",
    }


def int_param(request: HttpRequest, name: str, *, default: int, low: int, high: int) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    # isdecimal() also accepts non-ASCII digits; int() would too, but ids are ASCII.
    if not (raw.isascii() and raw.isdecimal()) or len(raw) > 20 or not low <= int(raw) <= high:
        raise InvalidInput(
            gettext("%(name)s must be an integer from %(low)d to %(high)d.")
            % {"name": name, "low": low, "high": high},
            field=name,
        )
    return int(raw)


def _ids_param(request: HttpRequest, name: str) -> list[int]:
    parts = [part.strip() for part in request.GET.get(name, "").split(",") if part.strip()]
    for part in parts:
        if (
            not (part.isascii() and part.isdecimal())
            or len(part) > 20
            or not 1 <= int(part) <= MAX_ID
        ):
            raise InvalidInput(
                gettext("%(name)s must list ids, separated by commas.") % {"name": name},
                field=name,
            )
    return [int(part) for part in parts]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
