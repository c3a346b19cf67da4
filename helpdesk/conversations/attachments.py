"""Files in conversations: uploaded first (``attachment_upload``), then sent with a message
(``message_post(..., attachments=ids)`` claims them with ``attachments_claim``), served only
through short-lived signed URLs (helpdesk/conversations/attachment_views.py), deleted from
storage with their row (a conversation, a contact, retention, or the sweep of uploads never
sent).

The type of a file is what its content says (helpdesk/core/filetypes.py), never its name.
Images are decoded (a corrupt image or a decompression bomb is refused) and get a thumbnail
re-encoded without their metadata.
"""

import io
import logging
import os
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from helpdesk.conversations.models import Attachment, Contact, Message
from helpdesk.core import filetypes
from helpdesk.core.errors import (
    AttachmentInvalid,
    AttachmentNotFound,
    AttachmentRefused,
    AttachmentsDisabled,
    AttachmentTypeNotAllowed,
    InvalidInput,
    NotFound,
    Revoked,
    TooManyAttachments,
)
from helpdesk.core.ratelimit import rate_limit_hit
from helpdesk.core.upload_limit import too_large
from helpdesk.tenants.access import active_membership
from helpdesk.tenants.models import Inbox, Tenant

logger = logging.getLogger(__name__)

MB = 1024 * 1024
NAME_MAX_CHARS = 200
THUMBNAIL_MAX_PIXELS = 480
# Whatever an inbox says, a message carries at most this many files (the frames' limit too).
PER_MESSAGE_MAX = 10

# What multipart framing adds around a file: headers, boundaries, the file's name.
MULTIPART_SLACK = 64 * 1024

FILE_SALT = "helpdesk.attachments.file"
THUMBNAIL_SALT = "helpdesk.attachments.thumbnail"


def upload_max_bytes() -> int:
    """No upload body is larger than this, whoever sends it (checked before it is parsed:
    helpdesk/core/upload_limit.py)."""
    most = max(settings.ATTACHMENT_UPLOAD_MAX_MB, settings.ATTACHMENT_AGENT_MAX_MB)
    return most * MB + MULTIPART_SLACK


# --- what plugins see ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachmentInfo:
    """An uploaded file before it is stored, as the checks registered with
    ``check_attachments_with`` see it."""

    name: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    uploaded_by_contact: bool
    _read: Callable[[], bytes] = field(repr=False, compare=False)

    def read(self) -> bytes:
        """The file's bytes."""
        return self._read()


_attachment_checks: dict[str, Callable[..., str | None]] = {}


def check_attachments_with(name: str, check: Callable[..., str | None]) -> None:
    """Have ``check(tenant=…, attachment=AttachmentInfo)`` look at every upload before it is
    stored; a string it returns refuses the file with that reason (the apps above this one,
    e.g. the plugins, register here at start)."""
    _attachment_checks[name] = check


def _run_checks(tenant: Tenant, info: AttachmentInfo) -> None:
    for check in _attachment_checks.values():
        reason = check(tenant=tenant, attachment=info)
        if reason:
            raise AttachmentRefused(str(reason)[:300])


# --- upload -------------------------------------------------------------------------------------


def upload_limit(inbox: Inbox | None) -> int:
    """The largest file, in bytes, a customer of ``inbox`` may upload (None: an agent)."""
    most = settings.ATTACHMENT_AGENT_MAX_MB if inbox is None else inbox.attachment_max_mb
    return most * MB


def attachment_upload_precheck(*, inbox: Inbox | None, declared_bytes: int) -> None:
    """What refuses an upload before its body is read: files switched off in the customer's
    ``inbox``, or a body larger than the file it may carry (attachment_upload checks again)."""
    if inbox is not None and not inbox.attachments_enabled:
        raise AttachmentsDisabled()
    limit = upload_limit(inbox)
    if declared_bytes > limit + MULTIPART_SLACK:
        raise too_large(limit)


def attachment_upload(
    *,
    tenant: Tenant,
    inbox: Inbox | None,
    uploaded_file: File,
    contact: Contact | None = None,
    user: AbstractBaseUser | None = None,
) -> Attachment:
    """Store a file a customer (``contact``, in ``inbox``) or an agent (``user``) will send.

    Customers: the inbox must allow files, of its types, up to its size; rate-limited per
    contact. Agents: any known type up to ATTACHMENT_AGENT_MAX_MB. Unsent uploads are swept
    after ATTACHMENT_ORPHAN_HOURS.
    """
    if (contact is None) == (user is None):
        raise ValueError("an upload has one uploader: a contact or a user")
    if contact is not None:
        if inbox is None or inbox.tenant_id != tenant.pk or contact.tenant_id != tenant.pk:
            raise NotFound(gettext("Inbox not found."))
        if not inbox.attachments_enabled:
            raise AttachmentsDisabled()
        rate_limit_hit(
            "attachments", f"t{tenant.pk}:c{contact.pk}", settings.RATE_CUSTOMER_ATTACHMENTS
        )
        max_bytes = upload_limit(inbox)
        allowed = set(filetypes.parse_types(inbox.attachment_types))
    else:
        membership = active_membership(user)
        if membership is None or membership.tenant_id != tenant.pk:
            raise Revoked()
        rate_limit_hit("attachments", f"t{tenant.pk}:u{user.pk}", settings.RATE_AGENT_ATTACHMENTS)
        max_bytes = upload_limit(None)
        allowed = set(filetypes.KNOWN_TYPES)

    size = uploaded_file.size
    if size is None or size > max_bytes:
        raise too_large(max_bytes)
    if size == 0:
        raise AttachmentInvalid(gettext("The file is empty."))
    uploaded_file.seek(0)
    head = uploaded_file.read(filetypes.HEAD_BYTES)
    content_type = filetypes.detect(head)
    if content_type is None or content_type not in allowed:
        raise AttachmentTypeNotAllowed(
            gettext("Files of this type cannot be sent here. Allowed: %(types)s.")
            % {"types": ", ".join(str(filetypes.KNOWN_TYPES[t]) for t in sorted(allowed))}
        )
    name = sanitize_name(getattr(uploaded_file, "name", "") or "")

    width = height = None
    thumbnail: bytes | None = None
    if content_type in filetypes.INLINE_IMAGE_TYPES:
        width, height, thumbnail = _image_check(uploaded_file)

    def read() -> bytes:
        uploaded_file.seek(0)
        return uploaded_file.read()

    _run_checks(
        tenant,
        AttachmentInfo(
            name=name,
            content_type=content_type,
            size=size,
            width=width,
            height=height,
            uploaded_by_contact=contact is not None,
            _read=read,
        ),
    )

    attachment = Attachment(
        tenant=tenant,
        contact=contact,
        uploaded_by=user,
        name=name,
        content_type=content_type,
        size=size,
        width=width,
        height=height,
    )
    uploaded_file.seek(0)
    attachment.file.save(name, uploaded_file, save=False)
    try:
        if thumbnail is not None:
            attachment.thumbnail.save("thumbnail.webp", ContentFile(thumbnail), save=False)
        attachment.save()
    except BaseException:
        _delete_files([attachment.file.name, attachment.thumbnail.name])
        raise
    return attachment


def sanitize_name(name: str) -> str:
    """A file name to show: no folders, no control characters, at most NAME_MAX_CHARS, the
    extension kept when it is cut."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip().strip(".").strip() or gettext("file")
    if len(name) > NAME_MAX_CHARS:
        stem, ext = os.path.splitext(name)
        ext = ext[:20]
        name = stem[: NAME_MAX_CHARS - len(ext)] + ext
    return name


def _image_check(uploaded_file: File) -> tuple[int, int, bytes]:
    """Width, height and a thumbnail (WebP, no metadata) of an image; AttachmentInvalid when
    it cannot be decoded or has more than ATTACHMENT_MAX_IMAGE_PIXELS pixels."""
    import warnings

    from PIL import Image, ImageOps

    limit = settings.ATTACHMENT_MAX_IMAGE_PIXELS
    too_big = AttachmentInvalid(
        gettext("The image has too many pixels (at most %(limit)d).") % {"limit": limit}
    )
    corrupt = AttachmentInvalid(gettext("The image is damaged and cannot be shown."))
    uploaded_file.seek(0)
    data = uploaded_file.read()
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        previous = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = limit
        try:
            try:
                with Image.open(io.BytesIO(data)) as probe:
                    width, height = probe.size
                    if width * height > limit:
                        raise too_big
                    probe.verify()
                with Image.open(io.BytesIO(data)) as image:
                    image.seek(0)
                    image.load()
                    frame = ImageOps.exif_transpose(image)
                    frame.thumbnail((THUMBNAIL_MAX_PIXELS, THUMBNAIL_MAX_PIXELS))
                    out = io.BytesIO()
                    transparent = frame.mode in ("RGBA", "LA", "P") or "transparency" in frame.info
                    # A new image from the pixels alone: no EXIF, no ICC, no comments.
                    frame.convert("RGBA" if transparent else "RGB").save(
                        out, format="WEBP", quality=80
                    )
            except (Image.DecompressionBombError, Image.DecompressionBombWarning):
                raise too_big from None
            except AttachmentInvalid:
                raise
            except Exception:
                raise corrupt from None
        finally:
            Image.MAX_IMAGE_PIXELS = previous
    return width, height, out.getvalue()


# --- sending ------------------------------------------------------------------------------------


def clean_attachment_ids(ids: Any) -> list[int]:
    """The distinct ids of ``ids`` in order; InvalidInput for anything but a list of ids."""
    if ids is None:
        return []
    if not isinstance(ids, list | tuple):
        raise InvalidInput(gettext("attachments must be a list of ids."), field="attachments")
    cleaned: list[int] = []
    for value in ids:
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise AttachmentNotFound(field="attachments")
        if value not in cleaned:
            cleaned.append(value)
    return cleaned


def attachments_claim(
    *,
    tenant: Tenant,
    inbox: Inbox,
    ids: Sequence[int],
    contact: Contact | None,
    user: AbstractBaseUser | None,
) -> list[Attachment]:
    """Lock the unsent uploads ``ids`` of this sender (the customer ``contact`` or the agent
    ``user``) for the message being stored: AttachmentNotFound when one is not theirs, unknown
    or already sent. Call inside the message's transaction, then ``attachments_attach``."""
    per_message = min(inbox.attachments_per_message, PER_MESSAGE_MAX)
    if len(ids) > per_message:
        raise TooManyAttachments(
            gettext("At most %(limit)d files can be sent in one message.") % {"limit": per_message},
            field="attachments",
            limit=per_message,
        )
    if contact is None and user is None:
        raise AttachmentNotFound(field="attachments")
    owner = {"contact": contact} if contact is not None else {"uploaded_by": user}
    rows = {
        attachment.pk: attachment
        for attachment in Attachment.objects.select_for_update()
        .filter(tenant=tenant, pk__in=ids, message__isnull=True, **owner)
        .order_by("pk")
    }
    if len(rows) != len(ids):
        raise AttachmentNotFound(field="attachments")
    return [rows[pk] for pk in ids]


def attachments_attach(message: Message, attachments: Iterable[Attachment]) -> None:
    Attachment.objects.filter(pk__in=[a.pk for a in attachments]).update(message=message)


def attachment_descriptor(attachment: Attachment) -> dict[str, Any]:
    """What a message keeps about one of its files (in ``metadata["attachments"]``), so its
    payload needs no query."""
    return {
        "id": attachment.pk,
        "name": attachment.name,
        "type": attachment.content_type,
        "size": attachment.size,
        "width": attachment.width,
        "height": attachment.height,
        "thumbnail": bool(attachment.thumbnail),
    }


def message_attachments(message: Message) -> list[dict[str, Any]]:
    """The descriptors of a message's files ([] for most)."""
    return attachments_in(message.metadata)


def attachments_in(metadata: object) -> list[dict[str, Any]]:
    """The file descriptors a message's stored ``metadata`` holds ([] for most)."""
    found = metadata.get("attachments") if isinstance(metadata, dict) else None
    return [file for file in found if isinstance(file, dict)] if isinstance(found, list) else []


# --- signed URLs --------------------------------------------------------------------------------


def attachment_payload(tenant_id: int, descriptor: dict[str, Any]) -> dict[str, Any]:
    """A descriptor as clients get it: with a signed URL, and one for its thumbnail."""
    return {
        "id": descriptor["id"],
        "name": descriptor["name"],
        "type": descriptor["type"],
        "size": descriptor["size"],
        "width": descriptor.get("width"),
        "height": descriptor.get("height"),
        "url": attachment_url(tenant_id, descriptor["id"]),
        "thumbnail_url": attachment_url(tenant_id, descriptor["id"], thumbnail=True)
        if descriptor.get("thumbnail")
        else None,
    }


def attachment_upload_payload(attachment: Attachment) -> dict[str, Any]:
    return attachment_payload(attachment.tenant_id, attachment_descriptor(attachment))


def attachment_url(tenant_id: int, attachment_id: int, *, thumbnail: bool = False) -> str:
    """A path (/files/…) that serves the file for ATTACHMENT_URL_MAX_AGE seconds, no cookie
    needed: whoever was given the message may open its files."""
    salt = THUMBNAIL_SALT if thumbnail else FILE_SALT
    token = signing.TimestampSigner(salt=salt).sign_object(
        {"t": tenant_id, "a": attachment_id}, compress=False
    )
    return reverse("attachment_file", kwargs={"signed": token})


def attachment_from_token(signed: str) -> tuple[Attachment, bool]:
    """The attachment a signed URL names and whether it asks for the thumbnail. Raises
    signing.SignatureExpired for an old link, NotFound for a forged one or a deleted file."""
    for salt, thumbnail in ((FILE_SALT, False), (THUMBNAIL_SALT, True)):
        try:
            data = signing.TimestampSigner(salt=salt).unsign_object(
                signed, max_age=settings.ATTACHMENT_URL_MAX_AGE
            )
        except signing.SignatureExpired:
            raise
        except signing.BadSignature:
            continue
        if not isinstance(data, dict):
            break
        tenant_id, attachment_id = data.get("t"), data.get("a")
        if not isinstance(tenant_id, int) or not isinstance(attachment_id, int):
            break
        attachment = Attachment.objects.filter(tenant_id=tenant_id, pk=attachment_id).first()
        if attachment is None or (thumbnail and not attachment.thumbnail):
            break
        return attachment, thumbnail
    raise NotFound(gettext("File not found."))


# --- deletion -----------------------------------------------------------------------------------


@receiver(post_delete, sender=Attachment, dispatch_uid="attachment_files_delete")
def _files_delete(sender, instance: Attachment, **kwargs) -> None:
    """A deleted row takes its files with it, once the deletion is committed (a rolled back
    deletion keeps them)."""
    names = [instance.file.name, instance.thumbnail.name]
    transaction.on_commit(lambda: _delete_files(names), robust=True)


def _delete_files(names: list[str]) -> None:
    from helpdesk.core.storage import attachment_storage

    storage = attachment_storage()
    for name in names:
        if not name:
            continue
        try:
            storage.delete(name)
        except Exception:
            logger.exception("Could not delete the attachment file %s", name)


def attachments_orphans_delete(*, now: datetime | None = None) -> int:
    """Delete uploads never sent with a message within ATTACHMENT_ORPHAN_HOURS; how many."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.ATTACHMENT_ORPHAN_HOURS)
    deleted = 0
    while ids := list(
        Attachment.objects.filter(message__isnull=True, created_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:500]
    ):
        with transaction.atomic():
            deleted += Attachment.objects.filter(pk__in=ids, message__isnull=True).delete()[0]
    return deleted
