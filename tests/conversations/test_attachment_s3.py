"""Attachments in an S3-compatible store: a real moto_server process on loopback, django-storages'
S3Storage configured as settings.py does it for ATTACHMENTS_S3_BUCKET, the whole life of a file:
upload through the service, serve through the view, delete with the conversation."""

import os
import subprocess
import sys
import time
from pathlib import Path

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError
from django.core.files.storage import storages
from django.test import Client

from helpdesk.conversations.attachments import attachment_upload, attachment_upload_payload
from helpdesk.conversations.models import Attachment, Conversation
from helpdesk.conversations.serializers import message_payload
from helpdesk.conversations.services import customer_message_send
from tests.conftest import free_port
from tests.support import files

pytestmark = pytest.mark.django_db

BUCKET = "helpdesk-attachments-test"
KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
MOTO_SERVER = Path(sys.executable).parent / "moto_server"


@pytest.fixture(scope="module")
def s3_endpoint():
    if not MOTO_SERVER.exists():
        pytest.skip("moto[server] is not installed")
    port = free_port()
    process = subprocess.Popen(
        [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("moto_server did not start")
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def s3(s3_endpoint, settings, monkeypatch):
    """A fresh bucket, and STORAGES["attachments"] pointing at it (as settings.py builds it)."""
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **KEYS)
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "access_key": "testing",
                "secret_key": "testing",
                "default_acl": "private",
                "querystring_auth": True,
                "file_overwrite": False,
                "addressing_style": "path",
            },
        },
    }
    # Changing STORAGES resets the storages' cache (Django's setting_changed receiver); the
    # model fields took their storage when the models loaded, so point them at it too.
    storage = storages["attachments"]
    assert type(storage).__name__ == "S3Storage"
    for name in ("file", "thumbnail"):
        monkeypatch.setattr(Attachment._meta.get_field(name), "storage", storage)
    yield client
    objects = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    for item in objects:
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def exists(client, key) -> bool:
    try:
        client.head_object(Bucket=BUCKET, Key=key)
    except ClientError:
        return False
    return True


def test_a_file_lives_and_dies_in_s3(s3, conversation, django_capture_on_commit_callbacks):
    image = attachment_upload(
        tenant=conversation.tenant,
        inbox=conversation.inbox,
        uploaded_file=files.upload("shot.png", files.png_bytes(900, 600)),
        contact=conversation.contact,
    )
    page = attachment_upload(
        tenant=conversation.tenant,
        inbox=conversation.inbox,
        uploaded_file=files.upload("page.html", files.HTML),
        contact=conversation.contact,
    )
    keys = [image.file.name, image.thumbnail.name, page.file.name]
    assert all(exists(s3, key) for key in keys)
    stored = s3.get_object(Bucket=BUCKET, Key=image.file.name)["Body"].read()
    assert stored == files.png_bytes(900, 600)

    result = customer_message_send(
        tenant=conversation.tenant,
        inbox=conversation.inbox,
        contact=conversation.contact,
        conversation_id=conversation.pk,
        text="",
        client_id="c-1",
        client_ip="198.51.100.1",
        attachments=[image.pk, page.pk],
    )
    shot, html = message_payload(result.message)["attachments"]

    served = Client().get(shot["url"])
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == files.png_bytes(900, 600)
    assert served["Content-Disposition"].startswith("inline")
    assert served["X-Content-Type-Options"] == "nosniff"
    thumbnail = Client().get(shot["thumbnail_url"])
    assert b"".join(thumbnail.streaming_content)[:4] == b"RIFF"
    download = Client().get(html["url"])
    assert b"".join(download.streaming_content) == files.HTML
    assert download["Content-Disposition"].startswith("attachment;")
    assert attachment_upload_payload(page)["url"].startswith("/files/")

    with django_capture_on_commit_callbacks(execute=True):
        Conversation.objects.filter(pk=conversation.pk).delete()
    assert not any(exists(s3, key) for key in keys)
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0
