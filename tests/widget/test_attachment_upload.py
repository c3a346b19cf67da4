"""POST /widget/api/attachments: a customer's upload over HTTP, with CORS and limits."""

import pytest
from django.test import Client

from helpdesk.conversations.models import Attachment
from helpdesk.widget.options import widget_options
from helpdesk.widget.services import visitor_token_issue
from tests.realtime.conftest import ORIGIN
from tests.support import files

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/widget/api/attachments"
MB = 1024 * 1024


@pytest.fixture
def visitor(inbox):
    return visitor_token_issue(
        inbox_key=inbox.public_key, origin=ORIGIN, previous_token=None, client_ip="198.51.100.7"
    )


def post(inbox, token, upload=None, origin=ORIGIN, **extra):
    headers = {"X-Inbox-Key": inbox.public_key, "Authorization": f"Bearer {token}"}
    if origin:
        headers["Origin"] = origin
    data = {"file": upload} if upload is not None else {}
    return Client().post(URL, data=data, headers=headers, **extra)


def error_code(response):
    return response.json()["error"]["code"]


def test_an_upload_answers_201_with_the_attachment(inbox, visitor):
    response = post(inbox, visitor.token, files.upload("shot.png", files.png_bytes(), "image/png"))

    assert response.status_code == 201, response.json()
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    body = response.json()["attachment"]
    stored = Attachment.objects.get()
    assert body["id"] == stored.pk
    assert (body["name"], body["type"], body["width"], body["height"]) == (
        "shot.png",
        "image/png",
        64,
        48,
    )
    assert body["size"] == len(files.png_bytes())
    assert body["url"].startswith("/files/")
    assert body["thumbnail_url"].startswith("/files/")
    assert stored.contact == visitor.visitor.contact


def test_a_preflight_allows_the_headers(inbox):
    response = Client().options(URL, headers={"Origin": ORIGIN})
    assert response.status_code == 204
    assert "Authorization" in response["Access-Control-Allow-Headers"]


def test_a_foreign_origin_is_refused_without_cors(inbox, visitor):
    response = post(inbox, visitor.token, files.upload("a.txt", b"hi"), origin="https://evil.test")
    assert response.status_code == 403
    assert error_code(response) == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response
    assert not Attachment.objects.exists()


def test_a_bad_token_is_refused(inbox):
    response = post(inbox, "forged", files.upload("a.txt", b"hi"))
    assert response.status_code == 401
    assert error_code(response) == "token_invalid"


def test_without_a_file_the_answer_says_so(inbox, visitor):
    response = post(inbox, visitor.token)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "file"


def test_wrong_type_is_415(inbox, visitor):
    inbox.attachment_types = "image/png"
    inbox.save()
    response = post(inbox, visitor.token, files.upload("page.png", files.HTML, "image/png"))
    assert response.status_code == 415
    assert error_code(response) == "attachment_type_not_allowed"
    assert response["Access-Control-Allow-Origin"] == ORIGIN


def test_disabled_is_403(inbox, visitor):
    inbox.attachments_enabled = False
    inbox.save()
    response = post(inbox, visitor.token, files.upload("a.txt", b"hi"))
    assert response.status_code == 403
    assert error_code(response) == "attachments_disabled"


def test_over_the_inbox_limit_is_413_before_the_file_is_looked_at(inbox, visitor):
    inbox.attachment_max_mb = 1
    inbox.save()
    response = post(inbox, visitor.token, files.upload("big.txt", b"a" * (MB + 100 * 1024)))
    assert response.status_code == 413
    assert error_code(response) == "attachment_too_large"
    assert not Attachment.objects.exists()


def test_a_body_over_every_limit_is_refused_before_it_is_parsed(inbox, visitor, settings):
    settings.ATTACHMENT_UPLOAD_MAX_MB = 1
    settings.ATTACHMENT_AGENT_MAX_MB = 1
    # The declared length alone decides: the body is never read.
    response = post(
        inbox, visitor.token, files.upload("a.txt", b"small"), CONTENT_LENGTH=str(5 * MB)
    )
    assert response.status_code == 413
    assert error_code(response) == "attachment_too_large"
    assert response["Access-Control-Allow-Origin"] == ORIGIN


def test_the_widget_options_describe_the_limits(inbox):
    inbox.attachment_types = "image/png\napplication/pdf"
    inbox.attachment_max_mb = 3
    inbox.attachments_per_message = 4
    options = widget_options(inbox, language="en")["attachments"]
    assert options == {
        "enabled": True,
        "types": ["image/png", "application/pdf"],
        "max_bytes": 3 * MB,
        "per_message": 4,
    }
