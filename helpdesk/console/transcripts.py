"""Transcript downloads for the console: the full record of a conversation as JSON or text.

The tenant is the agent's membership's, as for every console request; another tenant's
conversation answers 404 exactly like one that does not exist.
"""

import json

from django.http import HttpRequest, HttpResponse

from helpdesk.console.api import console_api
from helpdesk.conversations.transcripts import (
    conversation_transcript,
    transcript_as_text,
    transcript_filename,
)
from helpdesk.core.http import attachment
from helpdesk.tenants.models import Membership


@console_api
def transcript_json(
    request: HttpRequest, membership: Membership, conversation_id: str
) -> HttpResponse:
    """``GET …/transcript.json``: the transcript as a JSON attachment."""
    transcript = conversation_transcript(tenant=membership.tenant, conversation_id=conversation_id)
    body = json.dumps(transcript, ensure_ascii=False, indent=2)
    return attachment(body, "application/json", transcript_filename(transcript, "json"))


@console_api
def transcript_text(
    request: HttpRequest, membership: Membership, conversation_id: str
) -> HttpResponse:
    """``GET …/transcript.txt``: the transcript as a plain-text attachment."""
    transcript = conversation_transcript(tenant=membership.tenant, conversation_id=conversation_id)
    return attachment(
        transcript_as_text(transcript), "text/plain", transcript_filename(transcript, "txt")
    )
