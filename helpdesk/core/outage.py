"""A service the request needs is down (PostgreSQL, Redis, the broker): answer "try again
later", never a 500.

Each transport asks ``unavailable(exc)`` about an unexpected exception: HTTP answers 503 with
``Retry-After`` (JSON for API clients), a socket gets an ``unavailable`` error frame and closes
with 4503, which the widget takes as "reconnect and resume". Apps add the
exceptions of their own clients with ``count_as_outage`` (the channel layer's, say).
"""

import logging

import asyncpg
import kombu.exceptions
import redis.exceptions
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.deprecation import MiddlewareMixin

from helpdesk.core.errors import ServiceUnavailable
from helpdesk.core.http import error_json, request_error_responder

logger = logging.getLogger(__name__)

_outage_errors: tuple[type[BaseException], ...] = (
    # Refused, reset or timed out connections, whichever client saw them (asyncpg and our own
    # Redis subscriber raise the built-in ones).
    ConnectionError,
    TimeoutError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.BusyLoadingError,
    OperationalError,
    InterfaceError,
    kombu.exceptions.OperationalError,
    # The hot path's asyncpg connections (helpdesk/core/apg.py).
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.InterfaceError,
    # The server is shutting down, crashed, or still starting (SQLSTATE 57P01-57P03).
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
)


def count_as_outage(*error_classes: type[BaseException]) -> None:
    global _outage_errors
    _outage_errors = (*_outage_errors, *error_classes)


def unavailable(exc: BaseException) -> ServiceUnavailable | None:
    """The answer to ``exc`` if it means a service is unreachable, else None."""
    if not isinstance(exc, _outage_errors):
        return None
    logger.warning("A service is unavailable: %s: %s", type(exc).__name__, exc)
    return ServiceUnavailable(retry_after=settings.UNAVAILABLE_RETRY_AFTER_SECONDS)


class OutageMiddleware(MiddlewareMixin):
    """Turns a view's outage exception into a 503."""

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        error = unavailable(exception)
        if error is None:
            return None
        responder = request_error_responder(request)
        if responder is not None:
            response = responder(request, error)
        elif request.get_preferred_type(["application/json", "text/html"]) == "text/html":
            response = HttpResponse(
                render_to_string(
                    "core/unavailable.html",
                    {"code": error.code, "retry_after": error.retry_after},
                ),
                status=error.http_status,
            )
        else:
            return error_json(error)
        response["Retry-After"] = str(error.retry_after)
        return response
