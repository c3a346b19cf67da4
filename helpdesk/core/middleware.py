"""Refuses, in one place, HTTP input that PostgreSQL cannot store or compare.

A NUL (U+0000) or a lone surrogate fails inside the database driver on any query that carries
it, as a value to store and as one to compare with (a search, a filter, a session key): a 500.
This middleware runs before every view and before the session is looked up, and answers such a
request 400 ``invalid_characters`` whichever part carries the characters: the path, the query
string, a header, the session cookie, a form field's name or value, or any string or key of a
JSON body, escaped (``\\u0000``, ``\\ud800``) or not.

WebSocket and Socket.IO traffic never passes through Django's middleware; their frames are
checked by the frame schemas (``helpdesk/realtime/schemas.py``) with the same
``helpdesk.core.validation`` functions. Form fields whose value is JSON text (the admin's
metadata) are checked by their form field, once decoded (``validate_storable``): the text itself
holds no NUL, and a literal "\\u0000" typed into a text field must stay allowed.
"""

import json
import re
import uuid

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.loader import render_to_string

from helpdesk.core import logging as log_context
from helpdesk.core.errors import InvalidCharacters
from helpdesk.core.http import error_json, request_error_responder
from helpdesk.core.validation import check_storable, storable_problem

# A JSON escape that may decode to NUL or to half of a surrogate pair. Only a body holding one is
# parsed here: browsers' JSON.stringify writes other characters as UTF-8 and escapes only lone
# surrogates, so ordinary widget traffic is scanned, never parsed twice.
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|d[89a-f])", re.IGNORECASE)
_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"


class InvalidCharactersMiddleware:
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
        return _refusal(request) or self.get_response(request)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        if _parses_multipart(request):
            # Parsing may write uploaded files to disk: not on the event loop.
            refused = await sync_to_async(_refusal, thread_sensitive=False)(request)
        else:
            refused = _refusal(request)
        return refused or await self.get_response(request)


def _refusal(request: HttpRequest) -> HttpResponse | None:
    where = _unstorable_part(request)
    if where is None:
        return None
    return _answer(request, InvalidCharacters(), where)


def _unstorable_part(request: HttpRequest) -> str | None:
    """Which part of ``request`` holds text PostgreSQL cannot store: ``"path"``, ``"query"``,
    ``"header"``, ``"cookie"``, ``"body"``, or None."""
    if storable_problem(request.path_info):
        return "path"
    # Percent-decoding (UTF-8, bad bytes replaced) makes no surrogates, and a NUL only from
    # "%00" or a raw NUL: the raw string tells whether the decoded one needs a look.
    query = request.META.get("QUERY_STRING", "")
    if ("%00" in query or "\x00" in query) and _form_unstorable(request.GET):
        return "query"
    # Header values arrive as Latin-1: a NUL is the only character to look for.
    if any("\x00" in value for key, value in request.META.items() if key.startswith("HTTP_")):
        return "header"
    # The cookie syntax's octal escapes ("\000") decode to a NUL inside the cookie parser. The
    # session cookie is the one that reaches a query; the others are never looked up.
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if session_key and storable_problem(session_key):
        return "cookie"
    if _body_unstorable(request):
        return "body"
    return None


def _parses_multipart(request: HttpRequest) -> bool:
    return request.method == "POST" and request.content_type == _MULTIPART


def _body_unstorable(request: HttpRequest) -> bool:
    if _parses_multipart(request):
        # Django parses it once and keeps the result for the view. File contents are not text;
        # uploaded file names lose their non-printable characters in Django's parser.
        return _form_unstorable(request.POST) or any(
            storable_problem(name) for name in request.FILES
        )
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    # Without a length Django reads no body, for any view.
    if length <= 0 or request.content_type == _MULTIPART:
        return False
    try:
        body = request.body
    except RequestDataTooBig:
        return False  # the view gets the same error when it reads the body
    if request.method == "POST" and request.content_type == _FORM:
        return (b"%00" in body or b"\x00" in body) and _form_unstorable(request.POST)
    # Any other body is taken for JSON, whatever its content type says: the widget's endpoints
    # read JSON from text/plain too. JSON cannot hold a raw NUL (a control character), and no
    # endpoint takes binary bodies; uploads come as multipart.
    if b"\x00" in body:
        return True
    if not _SUSPECT_ESCAPE.search(body):
        return False
    try:
        # The standard library keeps NUL and lone surrogates as they were escaped (orjson,
        # which the views use, refuses lone surrogates as malformed).
        data = json.loads(body)
    except (ValueError, RecursionError):
        return False  # not JSON: the view refuses it as such
    try:
        check_storable(data)
    except InvalidCharacters:
        return True
    return False


def _form_unstorable(data) -> bool:
    return any(
        storable_problem(key) or any(storable_problem(value) for value in values)
        for key, values in data.lists()
    )


def _answer(request: HttpRequest, error: InvalidCharacters, where: str) -> HttpResponse:
    # A view whose clients read errors in their own shape answers for itself (the widget's
    # answers also need CORS headers to be readable at all). Not for a bad header: it would echo
    # the Origin back, and browsers never send a NUL in a header anyway.
    responder = request_error_responder(request) if where != "header" else None
    if responder is not None:
        return responder(request, error)
    wants_json = request.content_type == "application/json" or (
        request.get_preferred_type(["text/html", "application/json"]) == "application/json"
    )
    if wants_json:
        return error_json(error)
    # Rendered without the request: its session cookie may be the bad part.
    page = render_to_string(
        "core/invalid_characters.html", {"code": error.code, "message": error.message}
    )
    return HttpResponseBadRequest(page)


# A client's own request id is kept when it looks like one (a load balancer's, a UUID); anything
# else is replaced, so a log line never carries what a client typed.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


class RequestIdMiddleware:
    """Gives every request an id for its log lines (helpdesk/core/logging.py): the
    ``X-Request-ID`` it came with, or a new one; echoed in the response's ``X-Request-ID``."""

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
        rid, token = _bind_request_id(request)
        try:
            response = self.get_response(request)
        finally:
            log_context.request_id.reset(token)
        response["X-Request-ID"] = rid
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        rid, token = _bind_request_id(request)
        try:
            response = await self.get_response(request)
        finally:
            log_context.request_id.reset(token)
        response["X-Request-ID"] = rid
        return response


def _bind_request_id(request: HttpRequest):
    given = request.headers.get("X-Request-ID", "")
    rid = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    request.request_id = rid
    return rid, log_context.request_id.set(rid)
