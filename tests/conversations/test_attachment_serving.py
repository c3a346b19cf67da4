"""GET /files/<signed>: the signed link is the permission; nothing served runs in our origin."""

import pytest
from django.core import signing
from django.test import Client

from helpdesk.conversations.attachments import (
    FILE_SALT,
    attachment_upload,
    attachment_upload_payload,
    attachment_url,
)
from helpdesk.conversations.models import Attachment
from tests.support import files

pytestmark = pytest.mark.django_db


def upload(inbox, contact, name, content):
    return attachment_upload(
        tenant=inbox.tenant, inbox=inbox, uploaded_file=files.upload(name, content), contact=contact
    )


def get(url):
    response = Client().get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def assert_hardened(response):
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Cache-Control"].startswith("private")


def test_an_image_is_served_inline_with_its_bytes(inbox, contact):
    attachment = upload(inbox, contact, "shot.png", files.png_bytes())
    response, body = get(attachment_upload_payload(attachment)["url"])

    assert response.status_code == 200
    assert body == files.png_bytes()
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    assert response["Content-Length"] == str(len(body))
    assert_hardened(response)


def test_a_thumbnail_is_served_inline(inbox, contact):
    attachment = upload(inbox, contact, "shot.png", files.png_bytes(1000, 800))
    response, body = get(attachment_upload_payload(attachment)["thumbnail_url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert body[:4] == b"RIFF"
    assert_hardened(response)


@pytest.mark.parametrize(("name", "content"), [("page.html", files.HTML), ("logo.svg", files.SVG)])
def test_html_and_svg_are_downloads_never_pages(inbox, contact, name, content):
    attachment = upload(inbox, contact, name, content)
    assert attachment.content_type == "text/plain"

    response, body = get(attachment_upload_payload(attachment)["url"])

    assert response.status_code == 200
    assert body == content
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert_hardened(response)


def test_a_pdf_is_a_download_with_a_utf8_name(inbox, contact):
    attachment = upload(inbox, contact, "Rechnung März.pdf", files.PDF)
    response, _ = get(attachment_upload_payload(attachment)["url"])
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''Rechnung%20M%C3%A4rz.pdf" in response["Content-Disposition"]


def test_an_expired_link_is_403(inbox, contact, settings):
    attachment = upload(inbox, contact, "a.txt", b"hi")
    url = attachment_upload_payload(attachment)["url"]
    settings.ATTACHMENT_URL_MAX_AGE = -1
    response, _ = get(url)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "link_expired"
    assert_hardened(response)


def test_a_forged_or_altered_link_is_404(inbox, contact, other_tenant):
    attachment = upload(inbox, contact, "a.txt", b"hi")
    url = attachment_upload_payload(attachment)["url"]
    forged = signing.TimestampSigner(salt=FILE_SALT, key="not-our-secret").sign_object(
        {"t": attachment.tenant_id, "a": attachment.pk}
    )
    for bad in (url[:-2] + "xx", f"/files/{forged}", "/files/nothing"):
        response, _ = get(bad)
        assert response.status_code == 404, bad
        assert response.json()["error"]["code"] == "not_found"
    # A valid signature for another tenant's id finds nothing.
    response, _ = get(attachment_url(other_tenant.pk, attachment.pk))
    assert response.status_code == 404


def test_a_thumbnail_link_is_not_a_file_link(inbox, contact):
    text = upload(inbox, contact, "a.txt", b"hi")
    response, _ = get(attachment_url(text.tenant_id, text.pk, thumbnail=True))
    assert response.status_code == 404


def test_a_deleted_file_is_404(inbox, contact):
    attachment = upload(inbox, contact, "a.txt", b"hi")
    url = attachment_upload_payload(attachment)["url"]
    Attachment.objects.filter(pk=attachment.pk).delete()
    response, _ = get(url)
    assert response.status_code == 404


def test_only_get_is_allowed(inbox, contact):
    attachment = upload(inbox, contact, "a.txt", b"hi")
    response = Client().post(attachment_upload_payload(attachment)["url"])
    assert response.status_code == 405
