"""The on_attachment hook: a plugin sees an upload (name, type, size, bytes) and may refuse it."""

from typing import ClassVar

import pytest

from helpdesk.conversations.attachments import attachment_upload
from helpdesk.conversations.models import Attachment
from helpdesk.core.errors import AttachmentRefused
from helpdesk.plugins import metrics
from helpdesk.plugins.base import BasePlugin
from tests.support import files

pytestmark = pytest.mark.django_db


class VirusScanner(BasePlugin):
    """Refuses files that contain the EICAR-like marker; records what it saw."""

    id = "scanner"
    name = "Scanner"
    seen: ClassVar[list] = []

    def on_attachment(self, attachment):
        self.seen.append(
            (attachment.name, attachment.content_type, attachment.size, attachment.width)
        )
        if b"X5O!P%@AP" in attachment.read():
            return "This file looks infected."
        return None


class BrokenScanner(BasePlugin):
    id = "broken_scanner"
    name = "Broken"

    def on_attachment(self, attachment):
        raise RuntimeError("scanner crashed")


def upload(inbox, contact, name, content):
    return attachment_upload(
        tenant=inbox.tenant, inbox=inbox, uploaded_file=files.upload(name, content), contact=contact
    )


def test_a_plugin_sees_the_file_and_may_refuse_it(inbox, contact, install, configure):
    VirusScanner.seen.clear()
    install(VirusScanner)
    configure("scanner")

    kept = upload(inbox, contact, "shot.png", files.png_bytes())
    with pytest.raises(AttachmentRefused) as refused:
        upload(inbox, contact, "bad.txt", b"hello X5O!P%@AP world")

    assert refused.value.code == "attachment_refused"
    assert refused.value.message == "This file looks infected."
    assert VirusScanner.seen == [
        ("shot.png", "image/png", len(files.png_bytes()), 64),
        ("bad.txt", "text/plain", 21, None),
    ]
    assert list(Attachment.objects.values_list("pk", flat=True)) == [kept.pk]


def test_a_failing_plugin_lets_the_file_through(inbox, contact, install, configure):
    install(BrokenScanner)
    configure("broken_scanner")

    assert upload(inbox, contact, "a.txt", b"fine").pk
    assert metrics.failure_count("broken_scanner", "on_attachment", "error") == 1


def test_a_disabled_plugin_sees_nothing(inbox, contact, install, configure):
    VirusScanner.seen.clear()
    install(VirusScanner)
    configure("scanner", enabled=False)

    upload(inbox, contact, "bad.txt", b"X5O!P%@AP")
    assert VirusScanner.seen == []
