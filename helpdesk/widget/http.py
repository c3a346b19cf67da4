"""HTTP plumbing for the widget's cross-origin endpoints: CORS, JSON frames, error statuses.

These endpoints carry no cookies (the visitor token travels in a header), so a preflight may be
answered for any origin: the request that follows is checked against the inbox's own origins,
and its answer only carries CORS headers when that check passed.
"""

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from django.core.exceptions import DisallowedHost
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from helpdesk.core.errors import (
    OriginNotAllowed,
    ServiceError,
    http_status_for_code,
)
from helpdesk.core.http import answers_errors_with
from helpdesk.core.ratelimit import client_address
from helpdesk.realtime.frames import error_frame

ALLOWED_HEADERS = "Content-Type, Authorization, X-Inbox-Key"


def frames_response(frames: list[dict[str, Any]]) -> JsonResponse:
    """``{"events": frames}``: 200, or the status of the first error among them (with its
    Retry-After when it is a rate limit)."""
    errors = [frame["data"] for frame in frames if frame["type"] == "error"]
    status = http_status_for_code(errors[0]["code"]) if errors else 200
    response = JsonResponse({"events": frames}, status=status, encoder=DjangoJSONEncoder)
    if errors and "retry_after" in errors[0]:
        response["Retry-After"] = str(errors[0]["retry_after"])
    return response


def cross_origin(methods: str) -> Callable:
    """Answer preflights, and add CORS headers to answers for origins the view let through."""

    def decorate(view: Callable[..., Awaitable[HttpResponse]]) -> Callable:
        @answers_errors_with(_refused)
        @csrf_exempt
        @wraps(view)
        async def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            origin = request.headers.get("Origin")
            if request.method == "OPTIONS":
                response = HttpResponse(status=204)
                if origin:
                    response["Access-Control-Allow-Origin"] = origin
                    response["Access-Control-Allow-Methods"] = f"{methods}, OPTIONS"
                    response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
                    response["Access-Control-Max-Age"] = "600"
                    response["Vary"] = "Origin"
                return response
            if request.method not in methods.split(", "):
                return HttpResponse(status=405, headers={"Allow": f"{methods}, OPTIONS"})
            return _allow_checked_origin(request, await view(request, *args, **kwargs))

        return wrapper

    return decorate


def _allow_checked_origin(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    origin = request.headers.get("Origin")
    if origin and getattr(response, "origin_checked", False):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Expose-Headers"] = "Retry-After"
        response["Vary"] = "Origin"
    return response


def _refused(request: HttpRequest, error: ServiceError) -> HttpResponse:
    """A request refused before the view ran (``helpdesk.core.middleware``): refused before any
    inbox was looked at, so the answer says nothing about one and any page may read it."""
    return _allow_checked_origin(request, error_response(error))


def error_response(error: ServiceError) -> JsonResponse:
    response = frames_response([error_frame(error)])
    # An origin that failed the inbox's check gets no CORS headers: the browser hides the answer.
    response.origin_checked = not isinstance(error, OriginNotAllowed)
    return response


def request_ip(request: HttpRequest) -> str:
    return client_address(request.META.get("HTTP_X_FORWARDED_FOR"), request.META.get("REMOTE_ADDR"))


def request_origin(request: HttpRequest) -> str | None:
    """The page's origin. Browsers leave ``Origin`` out of same-origin GETs (the widget on the
    helpdesk's own demo page, say): such a request comes from this site itself."""
    origin = request.headers.get("Origin")
    if origin:
        return origin
    try:
        return f"{request.scheme}://{request.get_host()}"
    except DisallowedHost:
        return None
