"""HTTP responses shared by the admin, the console and the widget."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from helpdesk.core.errors import ServiceError

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


def attachment(body: str, content_type: str, filename: str) -> HttpResponse:
    """``body`` as a UTF-8 download named ``filename`` (a name made of ids and dates only:
    nothing to quote or escape)."""
    response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
