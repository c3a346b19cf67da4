"""The file types a tenant may allow in attachments, told apart by content, not by name.

A file's type is what its first bytes say (``filetype``), or plain text when it has no
signature and decodes as UTF-8; its name's extension is never trusted. Only the types listed
here can be allowed: each has a stable MIME name the admin lists and a way to be recognised.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# MIME type → what the admin and the widget call it.
KNOWN_TYPES: dict[str, str] = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WebP",
    "application/pdf": "PDF",
    "text/plain": _("Text"),
    "application/zip": "ZIP",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word (.docx)",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel (.xlsx)",
    "audio/mpeg": "MP3",
    "video/mp4": "MP4",
}

# Shown in our pages as images; every other type is served as a download, whatever it claims.
# SVG is not here on purpose: it is a document that can carry script.
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})

DEFAULT_ALLOWED_TYPES = "\n".join(
    ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"]
)


def parse_types(value: str) -> list[str]:
    """The MIME types of an "allowed types" setting: one per line or comma-separated."""
    return [part.strip().lower() for part in value.replace(",", "\n").splitlines() if part.strip()]


def validate_types(value: str) -> None:
    unknown = [mime for mime in parse_types(value) if mime not in KNOWN_TYPES]
    if unknown:
        raise ValidationError(
            _("Unknown file types: %(unknown)s. Known: %(known)s."),
            params={"unknown": ", ".join(unknown), "known": ", ".join(KNOWN_TYPES)},
            code="unknown_file_type",
        )


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# How much of a file ``detect`` wants to see: zip containers name their entries in the local
# headers, and Office files name word/ or xl/ parts within the first few kilobytes.
HEAD_BYTES = 64 * 1024

# What ``filetype`` reports for the types above (it knows many more, none of which is allowed).
_SIGNATURES = {
    "image/png": "image/png",
    "image/jpeg": "image/jpeg",
    "image/gif": "image/gif",
    "image/webp": "image/webp",
    "application/pdf": "application/pdf",
    "application/zip": "application/zip",
    DOCX: DOCX,
    XLSX: XLSX,
    "audio/mpeg": "audio/mpeg",
    "video/mp4": "video/mp4",
}
# Text keeps its tabs and line ends; other C0 controls mean a binary file without a signature.
_TEXT_CONTROLS = set(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D} | {0x7F}


def detect(head: bytes) -> str | None:
    """The MIME type of a file that starts with ``head`` (HEAD_BYTES of it, or all of it), one
    of KNOWN_TYPES, or None for anything else. The content decides, never the file's name."""
    import filetype

    if not head:
        return None
    kind = filetype.guess(head)
    if kind is not None:
        mime = _SIGNATURES.get(kind.mime)
        if mime == "application/zip":
            return _office_type(head)
        return mime
    return "text/plain" if _is_text(head) else None


def _office_type(head: bytes) -> str:
    # Local file headers carry entry names in clear: an Office file's parts live in word/ or xl/.
    if b"word/" in head:
        return DOCX
    if b"xl/" in head:
        return XLSX
    return "application/zip"


def _is_text(head: bytes) -> bool:
    if any(byte in _TEXT_CONTROLS for byte in head):
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A character cut at the end of the head is still text.
        if error.start < len(head) - 3:
            return False
        try:
            head[: error.start].decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True
