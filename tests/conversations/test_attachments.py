"""Attachments in the services: limits, types by content, images, sending, payloads, deletion."""

import io
from datetime import timedelta

import pytest
from django.core.files.storage import storages
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from helpdesk.conversations.attachments import (
    attachment_upload,
    attachments_orphans_delete,
    sanitize_name,
)
from helpdesk.conversations.contacts import contact_delete
from helpdesk.conversations.models import Attachment, Conversation, Message, RetentionPolicy
from helpdesk.conversations.retention import contact_export, retention_apply
from helpdesk.conversations.serializers import message_payload
from helpdesk.conversations.services import (
    Sender,
    agent_message_send,
    customer_message_send,
    message_post,
)
from helpdesk.conversations.transcripts import conversation_transcript, transcript_as_text
from helpdesk.core import filetypes
from helpdesk.core.errors import (
    AttachmentInvalid,
    AttachmentNotFound,
    AttachmentsDisabled,
    AttachmentTooLarge,
    AttachmentTypeNotAllowed,
    RateLimited,
    Revoked,
    TextEmpty,
    TooManyAttachments,
)
from tests.factories import (
    ContactFactory,
    ConversationFactory,
    InboxFactory,
    MembershipFactory,
    UserFactory,
)
from tests.support import files

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def stored(name: str) -> bool:
    return bool(name) and storages["attachments"].exists(name)


def customer_upload(inbox, contact, name, content):
    return attachment_upload(
        tenant=inbox.tenant, inbox=inbox, uploaded_file=files.upload(name, content), contact=contact
    )


def agent_upload(tenant, user, name, content):
    return attachment_upload(
        tenant=tenant, inbox=None, uploaded_file=files.upload(name, content), user=user
    )


def send(conversation, text="", ids=(), client_id=None):
    return customer_message_send(
        tenant=conversation.tenant,
        inbox=conversation.inbox,
        contact=conversation.contact,
        conversation_id=conversation.pk,
        text=text,
        client_id=client_id,
        client_ip="198.51.100.1",
        attachments=list(ids),
    )


# --- detection -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (files.png_bytes(), "image/png"),
        (files.jpeg_with_exif(), "image/jpeg"),
        (files.gif_bytes(), "image/gif"),
        (files.PDF, "application/pdf"),
        (files.HTML, "text/plain"),
        (files.SVG, "text/plain"),
        ("Grüße, 你好\n".encode(), "text/plain"),
        (files.zip_bytes("a.txt"), "application/zip"),
        (files.zip_bytes("[Content_Types].xml", "word/document.xml"), filetypes.DOCX),
        (files.zip_bytes("[Content_Types].xml", "xl/workbook.xml"), filetypes.XLSX),
        (b"\x00\x01\x02binary", None),
        (b"\xff\xfe\xfa not utf-8 at all \xc3\x28", None),
        (b"", None),
    ],
)
def test_detect_reads_the_content(content, expected):
    assert filetypes.detect(content) == expected


def test_detect_accepts_text_cut_inside_a_character():
    assert filetypes.detect("abc 你好".encode()[:-1]) == "text/plain"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\shot.png", "shot.png"),
        ("a\x00b\x1bc\u202e.txt", "abc.txt"),
        ("", "file"),
        ("..", "file"),
    ],
)
def test_names_are_sanitised(raw, clean):
    assert sanitize_name(raw) == clean


def test_long_names_keep_their_extension():
    name = sanitize_name("x" * 500 + ".pdf")
    assert len(name) == 200
    assert name.endswith(".pdf")


# --- customer uploads -----------------------------------------------------------------------------


def test_an_image_is_stored_with_its_size_and_a_clean_thumbnail(inbox, contact):
    attachment = customer_upload(inbox, contact, "photo.jpg", files.jpeg_with_exif(1600, 1200))

    assert (attachment.content_type, attachment.width, attachment.height) == (
        "image/jpeg",
        1600,
        1200,
    )
    assert attachment.contact == contact
    assert attachment.message is None
    assert stored(attachment.file.name)
    assert stored(attachment.thumbnail.name)
    assert "photo" not in attachment.file.name  # never the customer's name on disk
    with attachment.thumbnail.open("rb") as handle:
        thumbnail = Image.open(io.BytesIO(handle.read()))
        assert thumbnail.format == "WEBP"
        assert max(thumbnail.size) == 480
        assert not thumbnail.getexif()
        assert b"SecretCamera" not in thumbnail.tobytes()
    with attachment.file.open("rb") as handle:
        assert handle.read() == files.jpeg_with_exif(1600, 1200)


def test_a_file_over_the_inbox_limit_is_refused(inbox, contact):
    inbox.attachment_max_mb = 1
    inbox.save()
    with pytest.raises(AttachmentTooLarge) as refused:
        customer_upload(inbox, contact, "big.txt", b"a" * (MB + 1))
    assert refused.value.code == "attachment_too_large"
    assert customer_upload(inbox, contact, "ok.txt", b"a" * MB).size == MB
    assert Attachment.objects.count() == 1


def test_a_png_named_pdf_is_a_png(inbox, contact):
    inbox.attachment_types = "application/pdf"
    inbox.save()
    with pytest.raises(AttachmentTypeNotAllowed):
        customer_upload(inbox, contact, "invoice.pdf", files.png_bytes())
    inbox.attachment_types = "image/png"
    inbox.save()
    attachment = customer_upload(inbox, contact, "invoice.pdf", files.png_bytes())
    assert (attachment.name, attachment.content_type) == ("invoice.pdf", "image/png")


def test_text_named_png_is_text_and_refused_where_only_images_go(inbox, contact):
    inbox.attachment_types = "image/png\nimage/jpeg"
    inbox.save()
    with pytest.raises(AttachmentTypeNotAllowed) as refused:
        customer_upload(inbox, contact, "shot.png", b"just some words\n")
    assert refused.value.http_status == 415
    assert not Attachment.objects.exists()


def test_unknown_binary_is_refused_even_for_agents(tenant, agent):
    with pytest.raises(AttachmentTypeNotAllowed):
        agent_upload(tenant, agent, "tool.exe", b"MZ\x90\x00\x03\x00\x00\x00" + bytes(200))


@pytest.mark.parametrize("content", [files.bomb_png(), files.corrupt_png()])
def test_a_decompression_bomb_or_a_corrupt_image_is_refused(inbox, contact, content):
    with pytest.raises(AttachmentInvalid):
        customer_upload(inbox, contact, "img.png", content)
    assert not Attachment.objects.exists()


def test_an_empty_file_is_refused(inbox, contact):
    with pytest.raises(AttachmentInvalid):
        customer_upload(inbox, contact, "empty.txt", b"")


def test_an_inbox_without_attachments_refuses_uploads(inbox, contact):
    inbox.attachments_enabled = False
    inbox.save()
    with pytest.raises(AttachmentsDisabled):
        customer_upload(inbox, contact, "a.txt", b"hello")


def test_customer_uploads_are_rate_limited(inbox, contact, settings):
    settings.RATE_CUSTOMER_ATTACHMENTS = (2, 60)
    customer_upload(inbox, contact, "1.txt", b"one")
    customer_upload(inbox, contact, "2.txt", b"two")
    with pytest.raises(RateLimited):
        customer_upload(inbox, contact, "3.txt", b"three")


def test_another_tenants_inbox_is_not_found(inbox, other_tenant):
    from helpdesk.core.errors import NotFound

    stranger = ContactFactory(tenant=other_tenant)
    with pytest.raises(NotFound):
        customer_upload(inbox, stranger, "a.txt", b"hi")


# --- agent uploads --------------------------------------------------------------------------------


def test_agents_may_send_any_known_type_up_to_their_limit(tenant, inbox, agent, settings):
    inbox.attachment_types = "image/png"
    inbox.save()
    archive = agent_upload(tenant, agent, "logs.zip", files.zip_bytes("a.log"))
    assert (archive.content_type, archive.uploaded_by, archive.contact) == (
        "application/zip",
        agent,
        None,
    )
    settings.ATTACHMENT_AGENT_MAX_MB = 1
    with pytest.raises(AttachmentTooLarge):
        agent_upload(tenant, agent, "big.txt", b"a" * (MB + 1))


def test_a_user_of_another_tenant_cannot_upload(tenant, other_tenant):
    outsider = MembershipFactory(tenant=other_tenant).user
    with pytest.raises(Revoked):
        agent_upload(tenant, outsider, "a.txt", b"hi")
    with pytest.raises(Revoked):
        agent_upload(tenant, UserFactory(), "a.txt", b"hi")


# --- sending --------------------------------------------------------------------------------------


def test_a_customer_sends_files_without_text(conversation):
    image = customer_upload(conversation.inbox, conversation.contact, "a.png", files.png_bytes())
    doc = customer_upload(conversation.inbox, conversation.contact, "b.pdf", files.PDF)

    result = send(conversation, "", [image.pk, doc.pk], client_id="c-1")

    message = result.message
    assert message.text == ""
    assert [d["id"] for d in message.metadata["attachments"]] == [image.pk, doc.pk]
    assert set(Attachment.objects.values_list("message_id", flat=True)) == {message.pk}
    payload = message_payload(message)
    assert "attachments" not in payload["metadata"]
    first, second = payload["attachments"]
    assert first["name"] == "a.png"
    assert first["type"] == "image/png"
    assert (first["width"], first["height"]) == (64, 48)
    assert first["url"].startswith("/files/")
    assert first["thumbnail_url"].startswith("/files/")
    assert second["type"] == "application/pdf"
    assert second["thumbnail_url"] is None
    assert second["size"] == len(files.PDF)


def test_a_resend_returns_the_stored_message_unchanged(conversation):
    upload = customer_upload(conversation.inbox, conversation.contact, "a.txt", b"hi")
    first = send(conversation, "look", [upload.pk], client_id="c-1")
    again = send(conversation, "look", [upload.pk], client_id="c-1")
    assert again.created is False
    assert again.message.pk == first.message.pk
    assert again.message.metadata == first.message.metadata
    assert Message.objects.filter(conversation=conversation).count() == 1


def test_text_and_files_cannot_both_be_missing(conversation):
    with pytest.raises(TextEmpty):
        send(conversation, "  ", [])


def test_another_tenants_upload_cannot_be_sent(conversation, other_tenant):
    other_inbox = InboxFactory(tenant=other_tenant)
    stranger = ContactFactory(tenant=other_tenant)
    theirs = customer_upload(other_inbox, stranger, "secret.txt", b"theirs")
    with pytest.raises(AttachmentNotFound) as refused:
        send(conversation, "mine now", [theirs.pk])
    assert refused.value.code == "attachment_not_found"
    theirs.refresh_from_db()
    assert theirs.message is None


def test_another_contacts_upload_cannot_be_sent(conversation, tenant, inbox):
    other = ContactFactory(tenant=tenant)
    theirs = customer_upload(inbox, other, "secret.txt", b"theirs")
    with pytest.raises(AttachmentNotFound):
        send(conversation, "mine now", [theirs.pk])
    assert not Message.objects.filter(conversation=conversation).exists()


def test_an_agents_upload_cannot_be_sent_by_a_customer_and_vice_versa(conversation, tenant, agent):
    agents = agent_upload(tenant, agent, "a.txt", b"agent")
    with pytest.raises(AttachmentNotFound):
        send(conversation, "x", [agents.pk])
    customers = customer_upload(conversation.inbox, conversation.contact, "c.txt", b"customer")
    with pytest.raises(AttachmentNotFound):
        agent_message_send(
            tenant=tenant,
            user=agent,
            conversation_id=conversation.pk,
            text="x",
            client_id=None,
            attachments=[customers.pk],
        )


def test_a_sent_file_cannot_be_sent_again(conversation):
    upload = customer_upload(conversation.inbox, conversation.contact, "a.txt", b"hi")
    send(conversation, "", [upload.pk], client_id="c-1")
    with pytest.raises(AttachmentNotFound):
        send(conversation, "", [upload.pk], client_id="c-2")


@pytest.mark.parametrize("bad", [[0], [-1], ["1"], [True], [99_999_999]])
def test_bad_ids_are_not_found(conversation, bad):
    with pytest.raises(AttachmentNotFound):
        send(conversation, "x", bad)


def test_the_bot_sends_no_uploads(conversation, tenant, agent):
    upload = agent_upload(tenant, agent, "a.txt", b"agent")
    with pytest.raises(AttachmentNotFound):
        message_post(
            tenant=tenant,
            conversation_id=conversation.pk,
            sender=Sender.bot(),
            text="hi",
            attachments=[upload.pk],
        )


def test_more_files_than_the_inbox_allows_are_refused(conversation):
    conversation.inbox.attachments_per_message = 2
    conversation.inbox.save()
    ids = [
        customer_upload(conversation.inbox, conversation.contact, f"{n}.txt", b"x").pk
        for n in range(3)
    ]
    with pytest.raises(TooManyAttachments) as refused:
        send(conversation, "", ids)
    assert refused.value.code == "too_many_attachments"
    send(conversation, "", ids[:2])


def test_an_agent_uploads_and_sends(conversation, tenant, agent):
    upload = agent_upload(tenant, agent, "guide.pdf", files.PDF)
    result = agent_message_send(
        tenant=tenant,
        user=agent,
        conversation_id=conversation.pk,
        text="Here is the guide",
        client_id="a-1",
        attachments=[upload.pk],
    )
    payload = message_payload(result.message)
    assert payload["text"] == "Here is the guide"
    assert [a["name"] for a in payload["attachments"]] == ["guide.pdf"]
    upload.refresh_from_db()
    assert upload.message == result.message


def test_another_agents_upload_cannot_be_sent(conversation, tenant, agent):
    colleague = MembershipFactory(tenant=tenant).user
    theirs = agent_upload(tenant, colleague, "a.txt", b"theirs")
    with pytest.raises(AttachmentNotFound):
        agent_message_send(
            tenant=tenant,
            user=agent,
            conversation_id=conversation.pk,
            text="x",
            client_id=None,
            attachments=[theirs.pk],
        )


# --- deletion -------------------------------------------------------------------------------------


def sent_files(conversation):
    image = customer_upload(conversation.inbox, conversation.contact, "a.png", files.png_bytes())
    text = customer_upload(conversation.inbox, conversation.contact, "b.txt", b"words")
    send(conversation, "files", [image.pk, text.pk])
    names = [image.file.name, image.thumbnail.name, text.file.name]
    assert all(stored(name) for name in names)
    return names


def test_deleting_a_conversation_deletes_its_files(
    conversation, django_capture_on_commit_callbacks
):
    names = sent_files(conversation)
    with django_capture_on_commit_callbacks(execute=True):
        Conversation.objects.filter(pk=conversation.pk).delete()
    assert not Attachment.objects.exists()
    assert not any(stored(name) for name in names)


def test_a_rolled_back_deletion_keeps_the_files(conversation):
    from django.db import transaction

    names = sent_files(conversation)

    def delete_then_fail():
        with transaction.atomic():
            Conversation.objects.filter(pk=conversation.pk).delete()
            raise RuntimeError

    with pytest.raises(RuntimeError):
        delete_then_fail()
    assert all(stored(name) for name in names)


def test_deleting_a_contact_deletes_their_files(
    conversation, tenant, django_capture_on_commit_callbacks
):
    names = sent_files(conversation)
    unsent = customer_upload(conversation.inbox, conversation.contact, "c.txt", b"later")
    with django_capture_on_commit_callbacks(execute=True):
        contact_delete(tenant=tenant, contact_id=conversation.contact_id, actor_label="test")
    assert not Attachment.objects.exists()
    assert not any(stored(name) for name in [*names, unsent.file.name])


@pytest.mark.parametrize("action", ["delete", "anonymise"])
def test_retention_removes_files(conversation, tenant, action, django_capture_on_commit_callbacks):
    names = sent_files(conversation)
    Conversation.objects.filter(pk=conversation.pk).update(
        status=Conversation.Status.RESOLVED, resolved_at=timezone.now() - timedelta(days=40)
    )
    RetentionPolicy.objects.create(tenant=tenant, resolved_for_days=30, action=action)
    with django_capture_on_commit_callbacks(execute=True):
        assert retention_apply(tenant=tenant) == 1
    assert not Attachment.objects.exists()
    assert not any(stored(name) for name in names)
    if action == "anonymise":
        message = Message.objects.get(conversation=conversation)
        assert message_payload(message)["attachments"] == []


def test_anonymising_removes_files_of_a_message_without_text(
    conversation, tenant, django_capture_on_commit_callbacks
):
    upload = customer_upload(conversation.inbox, conversation.contact, "a.txt", b"x")
    send(conversation, "", [upload.pk])
    Conversation.objects.filter(pk=conversation.pk).update(
        status=Conversation.Status.RESOLVED, resolved_at=timezone.now() - timedelta(days=40)
    )
    RetentionPolicy.objects.create(tenant=tenant, resolved_for_days=30, action="anonymise")
    with django_capture_on_commit_callbacks(execute=True):
        assert retention_apply(tenant=tenant) == 1
    assert not stored(upload.file.name)


def test_uploads_never_sent_are_swept_after_a_day(
    conversation, tenant, agent, django_capture_on_commit_callbacks
):
    old = customer_upload(conversation.inbox, conversation.contact, "old.txt", b"old")
    old_agent = agent_upload(tenant, agent, "old2.txt", b"old")
    fresh = customer_upload(conversation.inbox, conversation.contact, "new.txt", b"new")
    sent = customer_upload(conversation.inbox, conversation.contact, "sent.txt", b"sent")
    send(conversation, "", [sent.pk])
    Attachment.objects.filter(pk__in=[old.pk, old_agent.pk, sent.pk]).update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert attachments_orphans_delete() == 2
    assert set(Attachment.objects.values_list("pk", flat=True)) == {fresh.pk, sent.pk}
    assert not stored(old.file.name)
    assert not stored(old_agent.file.name)
    assert stored(fresh.file.name)
    assert stored(sent.file.name)


def test_apply_retention_also_sweeps_unsent_uploads(
    conversation, django_capture_on_commit_callbacks
):
    old = customer_upload(conversation.inbox, conversation.contact, "old.txt", b"old")
    Attachment.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("apply_retention", stdout=out)
    assert "1 unsent uploads deleted" in out.getvalue()
    assert not stored(old.file.name)


# --- records --------------------------------------------------------------------------------------


def test_transcripts_and_exports_list_the_files(conversation, tenant):
    sent_files(conversation)

    transcript = conversation_transcript(tenant=tenant, conversation_id=conversation.pk)
    (entry,) = transcript["messages"]
    assert entry["attachments"] == [
        {"name": "a.png", "type": "image/png", "size": len(files.png_bytes())},
        {"name": "b.txt", "type": "text/plain", "size": 5},
    ]
    text = transcript_as_text(transcript)
    assert "[file] a.png (image/png," in text
    assert "[file] b.txt (text/plain, 5" in text

    export = contact_export(tenant=tenant, contact_id=conversation.contact_id, actor_label="t")
    (exported,) = export["conversations"]
    assert [(a["name"], a["type"], a["message"]) for a in exported["attachments"]] == [
        ("a.png", "image/png", 1),
        ("b.txt", "text/plain", 1),
    ]
    assert [a["name"] for a in exported["messages"][0]["attachments"]] == ["a.png", "b.txt"]


def test_the_bot_is_told_a_file_was_sent(conversation):
    from helpdesk.ai.context import recent_turns

    upload = customer_upload(
        conversation.inbox, conversation.contact, "error.png", files.png_bytes()
    )
    send(conversation, "", [upload.pk])
    other = customer_upload(conversation.inbox, conversation.contact, "log.txt", b"trace")
    send(conversation, "and the log", [other.pk])

    turns = recent_turns(conversation, turns=3, up_to_seq=10)
    assert [turn.text for turn in turns] == [
        "[The customer sent 1 file(s): error.png (image/png)]",
        "and the log\n[The customer sent 1 file(s): log.txt (text/plain)]",
    ]


def test_uploads_by_a_visitor_of_another_conversation_in_the_same_tenant_stay_theirs(
    tenant, inbox, contact
):
    mine = ConversationFactory(tenant=tenant, inbox=inbox, contact=contact)
    upload = customer_upload(inbox, contact, "a.txt", b"x")
    send(mine, "", [upload.pk])
    assert Attachment.objects.get(pk=upload.pk).message.conversation == mine


def test_the_periodic_retention_sweep_also_sweeps_unsent_uploads(
    conversation, django_capture_on_commit_callbacks
):
    from helpdesk.conversations.retention import _sweep_once

    old = customer_upload(conversation.inbox, conversation.contact, "old.txt", b"old")
    Attachment.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    with django_capture_on_commit_callbacks(execute=True):
        _sweep_once(60)
    assert not Attachment.objects.filter(pk=old.pk).exists()
    assert not stored(old.file.name)
