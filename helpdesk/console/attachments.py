"""``POST /console/api/attachments``: an agent uploads a file to send with a reply or a note.

Session cookie and ``X-CSRFToken`` like the console's other POSTs; multipart field ``file``,
optional ``conversation`` (checked to be the tenant's). 201 ``{"attachment": {...}}``.
"""

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext

from helpdesk.console.api import console_action
from helpdesk.conversations.attachments import (
    attachment_upload,
    attachment_upload_payload,
    attachment_upload_precheck,
    upload_max_bytes,
)
from helpdesk.conversations.selectors import conversation_get
from helpdesk.core.errors import InvalidInput
from helpdesk.core.upload_limit import body_limit, declared_length
from helpdesk.tenants.models import Membership


@body_limit(upload_max_bytes)
@console_action
def attachment_upload_console(request: HttpRequest, membership: Membership) -> JsonResponse:
    attachment_upload_precheck(inbox=None, declared_bytes=declared_length(request))
    conversation_id = request.POST.get("conversation")
    if conversation_id:
        conversation_get(tenant=membership.tenant, conversation_id=conversation_id)
    uploaded = request.FILES.get("file")
    if uploaded is None:
        raise InvalidInput(gettext('Send the file as the form field "file".'), field="file")
    attachment = attachment_upload(
        tenant=membership.tenant, inbox=None, uploaded_file=uploaded, user=membership.user
    )
    return JsonResponse({"attachment": attachment_upload_payload(attachment)}, status=201)
