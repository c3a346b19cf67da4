"""A file's or a fetched page's bytes as Markdown-ish text, the form ``split_text`` reads.

What the bytes are is told by the bytes: a PDF by its header, a known binary format (an archive,
an executable, an image) by its signature, HTML by its first tag; never by a file name or by
what a browser or a server claimed, which a tenant controls. Text is decoded from its BOM, its
declared charset or ``<meta charset>``, else UTF-8, else GB18030 (Chinese files saved by
Windows tools), else Latin-1, which decodes anything.

Every input is bounded before it can exhaust memory: the bytes (KNOWLEDGE_MAX_FILE_BYTES), a
PDF's pages (KNOWLEDGE_MAX_PDF_PAGES) and each of its streams once decompressed, and the text
produced (KNOWLEDGE_MAX_TEXT_CHARS), counted as it grows rather than once it is all there.
"""

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from html.parser import HTMLParser

from django.conf import settings
from django.utils.translation import gettext as _
from pypdf import PasswordType, PdfReader, apply_configuration
from pypdf.errors import LimitReachedError

from helpdesk.plugins.safe_http import sniff_charset

PDF = "application/pdf"
HTML = "text/html"
MARKDOWN = "text/markdown"
PLAIN = "text/plain"

# Progress is reported after each batch of this many PDF pages: often enough for a visible bar,
# rarely enough that a 500-page file writes its row 50 times, not 500.
PDF_PAGE_BATCH = 10
# A page's content stream is its drawing instructions: a dense page of text needs well under a
# megabyte. A stream that inflates past this is a decompression bomb, not a document.
PDF_STREAM_MAX_BYTES = 32 * 1024 * 1024
_PDF_LIMITS = {
    "zlib_maximum_output_length": PDF_STREAM_MAX_BYTES,
    "lzw_maximum_output_length": PDF_STREAM_MAX_BYTES,
    "run_length_maximum_output_length": PDF_STREAM_MAX_BYTES,
    "brotli_maximum_output_length": PDF_STREAM_MAX_BYTES,
    "jbig2_maximum_output_length": PDF_STREAM_MAX_BYTES,
    "array_based_stream_maximum_output_length": PDF_STREAM_MAX_BYTES,
    "stream_decoding_work_maximum_length": 4 * PDF_STREAM_MAX_BYTES,
}

Progress = Callable[[int, int], None]


class SourceError(Exception):
    """Why a source cannot be ingested: a stable ``code`` for programs and logs, and a
    ``message`` for the tenant admin."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{message} ({code})")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Document:
    text: str
    content_type: str  # what the bytes turned out to be: PDF, HTML, MARKDOWN or PLAIN
    title: str  # an HTML page's <title>, a PDF's title, a Markdown file's first heading, or ""
    page_count: int  # a PDF's pages; 0 for the others


def extract(
    data: bytes,
    *,
    declared_type: str = "",
    charset: str | None = None,
    max_chars: int | None = None,
    progress: Progress | None = None,
) -> Document:
    """``data`` as text. ``declared_type`` and ``charset`` (a server's Content-Type) only break
    ties the bytes leave open: text served as text/html is read as HTML.

    ``max_chars`` (default KNOWLEDGE_MAX_TEXT_CHARS) bounds the text; ``progress(done, total)``
    is called after each batch of PDF pages. Raises :class:`SourceError`.
    """
    if len(data) > settings.KNOWLEDGE_MAX_FILE_BYTES:
        raise too_large(settings.KNOWLEDGE_MAX_FILE_BYTES)
    limit = settings.KNOWLEDGE_MAX_TEXT_CHARS if max_chars is None else max_chars
    kind = sniff(data)
    if kind == PDF:
        document = _pdf(data, limit, progress)
    else:
        text = _decode(data, charset)
        if kind == HTML or declared_type == HTML:
            document = _html(text, limit)
        else:
            document = _markdown(text, limit)
    text = _UNSTORABLE.sub("", document.text).strip()
    if not text:
        raise SourceError(
            "no_text",
            _("This PDF has no text to read (a scanned document needs OCR first).")
            if kind == PDF
            else _("This document contains no text."),
        )
    title = _UNSTORABLE.sub("", document.title).strip()
    return Document(text, document.content_type, title, document.page_count)


def too_large(limit: int) -> SourceError:
    return SourceError(
        "too_large",
        _("The document is larger than the %(limit)s MB allowed.") % {"limit": megabytes(limit)},
    )


def megabytes(size: int) -> str:
    """``size`` in MB for a message: 20, 0.5."""
    return f"{size / (1024 * 1024):g}"


# --------------------------------------------------------------------------------------------
# What the bytes are
# --------------------------------------------------------------------------------------------

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_SIGNATURES = (
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!\x1a\x07", "rar"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "office"),
    (b"{\\rtf", "rtf"),
    (b"MZ", "executable"),
    (b"\x7fELF", "executable"),
    (b"\xcf\xfa\xed\xfe", "executable"),
    (b"\xca\xfe\xba\xbe", "executable"),
    (b"\x00asm", "executable"),
    (b"\x89PNG\r\n\x1a\n", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"GIF87a", "image"),
    (b"GIF89a", "image"),
    (b"BM", "image"),
    (b"II*\x00", "image"),
    (b"MM\x00*", "image"),
    (b"RIFF", "media"),
    (b"OggS", "media"),
    (b"ID3", "media"),
    (b"fLaC", "media"),
    (b"SQLite format 3\x00", "database"),
)
# The first tag of an HTML document (the WHATWG sniffing list, plus the tags pages open with).
# A Markdown file may begin with an HTML comment, so a comment alone does not make HTML.
_HTML_START = re.compile(
    rb"\s*(?:<\?xml[^>]{0,200}>\s*)?<(?:!doctype\s+html|html|head|body|meta|link|title|script|"
    rb"style|iframe|div|span|p|a|b|br|table|font|h[1-6]|ul|ol|section|article|main|header|nav)"
    rb"[\s/>]",
    re.IGNORECASE,
)
# Control characters other than whitespace: a few appear in real text, many mean binary data.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
# PostgreSQL stores neither NUL nor a lone surrogate (PDF text extraction can produce both).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def sniff(data: bytes) -> str:
    """PDF, HTML or PLAIN (Markdown is told apart once decoded), from the bytes alone.

    Raises ``SourceError("unsupported_type")`` for anything else: a format with a known
    signature, or bytes with NULs in them (no text file has those, bar UTF-16 with its BOM).
    """
    if data[:1024].lstrip()[:5] == b"%PDF-":
        return PDF
    for signature, name in _SIGNATURES:
        if data.startswith(signature):
            raise _unsupported(name)
    if not data.startswith(_UTF16_BOMS) and b"\x00" in data[:8192]:
        raise _unsupported("binary")
    if _HTML_START.match(data[:1024].removeprefix(b"\xef\xbb\xbf")):
        return HTML
    return PLAIN


def _unsupported(name: str) -> SourceError:
    looks_like = {
        "zip": _("a ZIP archive (Word, Excel and PowerPoint files are ZIP archives too)"),
        "gzip": _("a gzip-compressed file"),
        "bzip2": _("a compressed archive"),
        "xz": _("a compressed archive"),
        "7z": _("a compressed archive"),
        "rar": _("a compressed archive"),
        "office": _("an old Microsoft Office document"),
        "rtf": _("a Rich Text document"),
        "executable": _("a program"),
        "image": _("an image"),
        "media": _("an audio or video file"),
        "database": _("a database"),
        "binary": _("binary data"),
    }[name]
    return SourceError(
        "unsupported_type",
        _(
            "Only PDF, HTML, Markdown and plain-text documents can be used; this one looks like "
            "%(kind)s."
        )
        % {"kind": looks_like},
    )


def _decode(data: bytes, charset: str | None) -> str:
    """The first of the BOM's, the declared, the <meta> charset, UTF-8, GB18030 that decodes
    ``data`` without an error; else Latin-1."""
    for codec in dict.fromkeys([sniff_charset(data, charset), "utf-8", "gb18030"]):
        try:
            text = data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        break
    else:
        text = data.decode("latin-1")
    text = text.removeprefix("\ufeff")
    sample = text[:8192]
    if len(_CONTROL.findall(sample)) > len(sample) // 50:
        raise _unsupported("binary")
    return text


# --------------------------------------------------------------------------------------------
# Markdown and plain text
# --------------------------------------------------------------------------------------------

_MARKDOWN_HEADING = re.compile(r"^#{1,6}[ \t]+(\S.*?)[ \t#]*$", re.MULTILINE)


def _markdown(text: str, max_chars: int) -> Document:
    if len(text) > max_chars:
        raise _too_long(max_chars)
    heading = _MARKDOWN_HEADING.search(text)
    if heading is None:
        return Document(text, PLAIN, "", 0)
    return Document(text, MARKDOWN, heading.group(1)[:300], 0)


def _too_long(max_chars: int) -> SourceError:
    return SourceError(
        "too_long",
        _("The document has more than %(limit)s characters of text.") % {"limit": max_chars},
    )


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------

# Elements whose text is not the page's content: code, menus, footers, embedded documents.
_SKIPPED = frozenset(
    {"script", "style", "noscript", "template", "svg", "math", "nav", "footer", "iframe", "object"}
)
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "caption", "dd", "details", "div", "dl",
        "dt", "fieldset", "figcaption", "figure", "form", "header", "hr", "main", "ol", "p",
        "pre", "section", "summary", "table", "tr", "ul",
    }
)  # fmt: skip
_CELLS = frozenset({"td", "th"})
_SPACES = re.compile(r"\s+")


def _html(text: str, max_chars: int) -> Document:
    parser = _HtmlToMarkdown(max_chars)
    parser.feed(text)
    parser.close()
    return Document(parser.text(), HTML, parser.title(), 0)


class _HtmlToMarkdown(HTMLParser):
    """Headings become ``#`` lines, list items ``- `` lines, other blocks paragraphs."""

    def __init__(self, max_chars: int):
        super().__init__(convert_charrefs=True)
        self.max_chars = max_chars
        self.blocks: list[str] = []
        self.size = 0  # characters in ``blocks`` and ``line``
        self.line: list[str] = []
        self.skipping = 0  # depth inside _SKIPPED elements
        self.heading = 0  # the level of the heading being read; 0 outside one
        self.item = False  # inside a list item
        self.preformatted = 0
        self.in_title = False
        self.title_parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in _SKIPPED:
            self.skipping += 1
        elif self.skipping:
            return
        elif tag == "title":
            self.in_title = True
        elif tag == "br":
            self.line.append("\n")
        elif tag in _HEADINGS:
            self._end_block()
            self.heading = _HEADINGS[tag]
        elif tag == "li":
            self._end_block()
            self.item = True
        elif tag in _CELLS:
            if "".join(self.line).strip():
                self.line.append(" | ")
        elif tag in _BLOCKS:
            self._end_block()
            if tag == "pre":
                self.preformatted += 1

    def handle_endtag(self, tag):
        if tag in _SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif self.skipping:
            return
        elif tag == "title":
            self.in_title = False
        elif tag in _HEADINGS:
            self._end_block()
            self.heading = 0
        elif tag == "li":
            self._end_block()
            self.item = False
        elif tag in _BLOCKS:
            self._end_block()
            if tag == "pre":
                self.preformatted = max(0, self.preformatted - 1)

    def handle_data(self, data):
        if self.skipping:
            return
        if self.in_title:
            self.title_parts.append(data)
            return
        self.size += len(data)
        if self.size > self.max_chars:
            raise _too_long(self.max_chars)
        self.line.append(data if self.preformatted else _SPACES.sub(" ", data))

    def _end_block(self):
        raw = "".join(self.line)
        self.line = []
        if self.preformatted:
            lines = [line.rstrip() for line in raw.strip("\n").split("\n")]
        else:
            lines = [" ".join(line.split()) for line in raw.split("\n")]
        text = "\n".join(line for line in lines if line.strip())
        if not text:
            return
        if self.heading:
            text = "#" * self.heading + " " + " ".join(text.split())
            # Read once: an unclosed heading must not turn the paragraphs after it into headings.
            self.heading = 0
        else:
            # A paragraph that starts like a heading would be read as one by split_text.
            text = re.sub(r"^(#{1,6}[ \t])", r"\\\1", text, flags=re.MULTILINE)
            if self.item:
                text = "- " + text
        self.blocks.append(text)

    def text(self) -> str:
        self._end_block()
        return "\n\n".join(self.blocks)

    def title(self) -> str:
        return " ".join("".join(self.title_parts).split())[:300]


# --------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------


def _pdf(data: bytes, max_chars: int, progress: Progress | None) -> Document:
    # pypdf's limits are context-local: these apply to this extraction only.
    with apply_configuration(**_PDF_LIMITS):
        reader = _pdf_open(data)
        total = _pdf_call(lambda: len(reader.pages))
        if total > settings.KNOWLEDGE_MAX_PDF_PAGES:
            raise SourceError(
                "too_many_pages",
                _("The PDF has %(count)s pages; at most %(limit)s are allowed.")
                % {"count": total, "limit": settings.KNOWLEDGE_MAX_PDF_PAGES},
            )
        pages: list[str] = []
        size = 0
        for number in range(1, total + 1):
            text = _pdf_call(partial(_pdf_page_text, reader, number), page=number)
            size += len(text) + 2
            if size > max_chars:
                raise _too_long(max_chars)
            pages.append(text.strip())
            if progress is not None and (number % PDF_PAGE_BATCH == 0 or number == total):
                progress(number, total)
        title = _pdf_call(lambda: (reader.metadata and reader.metadata.title) or "")
    return Document("\n\n".join(page for page in pages if page), PDF, str(title)[:300], total)


def _pdf_open(data: bytes) -> PdfReader:
    reader = _pdf_call(lambda: PdfReader(io.BytesIO(data)))
    # Many PDFs are encrypted only to restrict printing or editing, with an empty password to
    # read them: those open.
    if reader.is_encrypted and _pdf_call(lambda: reader.decrypt("")) == PasswordType.NOT_DECRYPTED:
        raise SourceError(
            "encrypted_pdf",
            _("This PDF is protected by a password. Upload a copy without the password."),
        )
    return reader


def _pdf_page_text(reader: PdfReader, number: int) -> str:
    return reader.pages[number - 1].extract_text() or ""


def _pdf_call(read, page: int = 0):
    """``read()``, with pypdf's failures as SourceErrors."""
    try:
        return read()
    except SourceError:
        raise
    except LimitReachedError as exc:
        raise SourceError(
            "too_large",
            _("The PDF holds more data than can be read (a part of it inflates past %(limit)s MB).")
            % {"limit": megabytes(PDF_STREAM_MAX_BYTES)},
        ) from exc
    except Exception as exc:  # noqa: BLE001 - pypdf raises whatever its parser trips on
        message = (
            _("The PDF cannot be read: page %(page)s is damaged.") % {"page": page}
            if page
            else _("The file looks like a PDF but cannot be read: it is damaged or incomplete.")
        )
        raise SourceError("malformed", message) from exc
