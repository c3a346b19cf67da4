"""``/files/<signed>``: an attachment, for whoever holds a link from a message payload.

The link is the permission (django.core.signing, ATTACHMENT_URL_MAX_AGE): payloads reach only
the conversation's participants and its tenant's agents. What is served can never run in this
origin: ``nosniff`` always, a sandboxing CSP, and ``Content-Disposition: attachment`` for
everything but the safe image types (an uploaded HTML or SVG file is a download).
"""

from django.core import signing
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext

from helpdesk.conversations.attachments import attachment_from_token
from helpdesk.core.errors import LinkExpired, NotFound, ServiceError
from helpdesk.core.filetypes import INLINE_IMAGE_TYPES
from helpdesk.core.http import answers_errors_with, error_json


def _refused(request: HttpRequest, error: ServiceError) -> HttpResponse:
    return _hardened(error_json(error))


@answers_errors_with(_refused)
def attachment_file(request: HttpRequest, signed: str) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        response = HttpResponse(status=405)
        response["Allow"] = "GET, HEAD"
        return response
    try:
        attachment, thumbnail = attachment_from_token(signed)
    except signing.SignatureExpired:
        return _refused(request, LinkExpired())
    except ServiceError as error:
        return _refused(request, error)
    field = attachment.thumbnail if thumbnail else attachment.file
    try:
        handle = field.storage.open(field.name, "rb")
    except (FileNotFoundError, OSError):
        return _refused(request, NotFound(gettext("File not found.")))
    content_type = "image/webp" if thumbnail else attachment.content_type
    if content_type == "text/plain":
        content_type = "text/plain; charset=utf-8"
    response = FileResponse(handle, content_type=content_type)
    if not thumbnail:
        response["Content-Length"] = str(attachment.size)
    inline = thumbnail or attachment.content_type in INLINE_IMAGE_TYPES
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=not inline, filename=attachment.name
    )
    response["Cache-Control"] = "private, max-age=300"
    return _hardened(response)


def _hardened(response: HttpResponse) -> HttpResponse:
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    if "Cache-Control" not in response:
        response["Cache-Control"] = "private, no-store"
    # Images are shown by the widget on the tenant's own site.
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
