"""Refuse an upload that says it is too large before Django parses it.

A view marked with ``body_limit(max_bytes)`` gets no request whose ``Content-Length`` is over
``max_bytes()``: ``BodyLimitMiddleware`` (first in MIDDLEWARE, before anything reads
``request.POST``/``FILES``) answers 413 with ``attachment_too_large`` in the view's own error
shape. The ASGI server still receives the body (spooled to disk past
FILE_UPLOAD_MAX_MEMORY_SIZE); it is never parsed nor stored. The views check the exact limit
again, and the service checks the file's real size.
"""

from collections.abc import Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext

from helpdesk.core.errors import AttachmentTooLarge
from helpdesk.core.http import error_json, request_error_responder

_ATTRIBUTE = "body_max_bytes"
# Bodies smaller than this are never looked at (no URL resolution for ordinary requests).
_SMALL = 256 * 1024


def body_limit(max_bytes: Callable[[], int]) -> Callable:
    def mark(view: Callable) -> Callable:
        setattr(view, _ATTRIBUTE, max_bytes)
        return view

    return mark


def declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def too_large(limit: int) -> AttachmentTooLarge:
    return AttachmentTooLarge(
        gettext("The file is larger than %(limit)s MB.") % {"limit": limit // (1024 * 1024)},
        limit=limit,
    )


class BodyLimitMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if self.is_async:
            return self._acall(request)
        return self._refusal(request) or self.get_response(request)

    async def _acall(self, request: HttpRequest):
        return self._refusal(request) or await self.get_response(request)

    def _refusal(self, request: HttpRequest) -> HttpResponse | None:
        length = declared_length(request)
        if length <= _SMALL:
            return None
        try:
            match = resolve(request.path_info, urlconf=getattr(request, "urlconf", None))
        except Resolver404:
            return None
        max_bytes = getattr(match.func, _ATTRIBUTE, None)
        if max_bytes is None or length <= max_bytes():
            return None
        error = too_large(max_bytes())
        responder = request_error_responder(request)
        return responder(request, error) if responder else error_json(error)
