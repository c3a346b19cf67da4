"""HTTP responses shared by the admin, the console and the widget."""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.views import csrf

from helpdesk.core.errors import CsrfFailed, RetryLater, ServiceError

ErrorResponder = Callable[[HttpRequest, ServiceError], HttpResponse]

_RESPONDER_ATTRIBUTE = "service_error_responder"


def answers_errors_with(responder: ErrorResponder) -> Callable:
    """Marks a view whose clients read errors in a shape of their own: a request refused before
    the view runs (``helpdesk.core.middleware``) is answered with ``responder(request, error)``
    instead of the generic page or JSON."""

    def mark(view: Callable) -> Callable:
        setattr(view, _RESPONDER_ATTRIBUTE, responder)
        return view

    return mark


def error_responder(view: Callable) -> ErrorResponder | None:
    return getattr(view, _RESPONDER_ATTRIBUTE, None)


def request_error_responder(request: HttpRequest) -> ErrorResponder | None:
    """The responder of the view ``request`` goes (or went) to, resolving it when the request
    was refused before URL resolution."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        try:
            match = resolve(request.path_info, urlconf=getattr(request, "urlconf", None))
        except Resolver404:
            return None
    return error_responder(match.func)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a refused POST is answered in its view's own error shape (the
    console's JSON), else with Django's page."""
    responder = request_error_responder(request)
    if responder is None:
        return csrf.csrf_failure(request, reason)
    return responder(request, CsrfFailed())


def error_json(error: ServiceError, *, status: int | None = None) -> JsonResponse:
    """The JSON answer to ``error`` for API clients: ``{"error": {code, message[, field]}}``,
    with Retry-After when the client may try again later."""
    body: dict[str, Any] = {"code": error.code, "message": str(error.message)}
    if "field" in error.details:
        body["field"] = error.details["field"]
    response = JsonResponse({"error": body}, status=status or error.http_status)
    if isinstance(error, RetryLater):
        response["Retry-After"] = str(error.retry_after)
    return response


def attachment(body: str, content_type: str, filename: str) -> HttpResponse:
    """``body`` as a UTF-8 download named ``filename`` (a name made of ids and dates only:
    nothing to quote or escape)."""
    response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
