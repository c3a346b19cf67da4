"""The REST API's message payloads carry the files sent with them."""

import pytest
from django.test import Client

from helpdesk.conversations.attachments import attachment_upload
from helpdesk.conversations.services import customer_message_send
from tests.support import files

pytestmark = pytest.mark.django_db


def test_listed_messages_carry_their_files_with_working_links(api, conversation):
    upload = attachment_upload(
        tenant=conversation.tenant,
        inbox=conversation.inbox,
        uploaded_file=files.upload("shot.png", files.png_bytes()),
        contact=conversation.contact,
    )
    customer_message_send(
        tenant=conversation.tenant,
        inbox=conversation.inbox,
        contact=conversation.contact,
        conversation_id=conversation.pk,
        text="",
        client_id="c-1",
        client_ip="198.51.100.1",
        attachments=[upload.pk],
    )

    response = api.get(f"/conversations/{conversation.pk}/messages")

    assert response.status_code == 200
    (message,) = response.json()["messages"]
    (attached,) = message["attachments"]
    assert attached["id"] == upload.pk
    assert (attached["name"], attached["type"], attached["width"]) == ("shot.png", "image/png", 64)
    served = Client().get(attached["url"])
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == files.png_bytes()


def test_messages_without_files_have_an_empty_list(api, conversation):
    response = api.post(f"/conversations/{conversation.pk}/messages", {"text": "hi"})
    assert response.status_code == 201
    assert response.json()["attachments"] == []


def test_the_openapi_schema_describes_attachments():
    schema = Client().get("/api/v1/openapi.json").json()
    assert "attachments" in schema["components"]["schemas"]["MessageOut"]["properties"]
    assert "thumbnail_url" in schema["components"]["schemas"]["AttachmentOut"]["properties"]
