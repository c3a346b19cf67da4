"""``POST /widget/api/attachments``: a customer uploads a file to send with a message.

multipart/form-data with the field ``file``; ``Authorization: Bearer <visitor token>`` and
``X-Inbox-Key`` like long-polling; CORS like the other widget endpoints (the page's origin is
checked against the inbox's). 201 ``{"attachment": {...}}``; errors ``{"error": {code,
message}}`` (docs/widget.md).
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext

from helpdesk.conversations.attachments import (
    attachment_upload,
    attachment_upload_payload,
    attachment_upload_precheck,
    upload_max_bytes,
)
from helpdesk.core.asyncdb import db_call
from helpdesk.core.errors import (
    InvalidInput,
    OriginNotAllowed,
    ServiceError,
)
from helpdesk.core.http import answers_errors_with, error_json
from helpdesk.core.upload_limit import body_limit, declared_length
from helpdesk.widget.http import cross_origin, request_origin
from helpdesk.widget.services import visitor_authenticate


def _error(error: ServiceError) -> JsonResponse:
    response = error_json(error)
    # An origin that failed the inbox's check gets no CORS headers: the browser hides the answer.
    response.origin_checked = not isinstance(error, OriginNotAllowed)
    return response


def _refused(request: HttpRequest, error: ServiceError) -> HttpResponse:
    """Refused before the view ran (too large, a NUL in a header): nothing about an inbox is in
    the answer, so any page may read it."""
    response = error_json(error)
    origin = request.headers.get("Origin")
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    return response


@answers_errors_with(_refused)
@body_limit(upload_max_bytes)
@cross_origin("POST")
async def attachment_upload_widget(request: HttpRequest) -> HttpResponse:
    try:
        payload = await db_call(_upload)(request)
    except ServiceError as error:
        return _error(error)
    response = JsonResponse({"attachment": payload}, status=201)
    response.origin_checked = True
    return response


def _upload(request: HttpRequest) -> dict:
    authorization = request.headers.get("Authorization", "")
    visitor = visitor_authenticate(
        inbox_key=request.headers.get("X-Inbox-Key"),
        token=authorization[7:] if authorization.startswith("Bearer ") else None,
        origin=request_origin(request),
    )
    inbox = visitor.inbox
    attachment_upload_precheck(inbox=inbox, declared_bytes=declared_length(request))
    uploaded = request.FILES.get("file") if request.content_type == "multipart/form-data" else None
    if uploaded is None:
        raise InvalidInput(gettext('Send the file as the form field "file".'), field="file")
    attachment = attachment_upload(
        tenant=visitor.tenant, inbox=inbox, uploaded_file=uploaded, contact=visitor.contact
    )
    return attachment_upload_payload(attachment)
