"""Real documents made in the test: PDFs written by hand (a catalog, a page tree, Helvetica
text in content streams, a cross-reference table), encrypted by pypdf, and compressed bombs."""

import gzip
import io
import zlib

from pypdf import PdfWriter


def pdf(*pages: str, title: str = "") -> bytes:
    """A PDF whose pages show these texts (ASCII; one line each, or none for "")."""
    return _pdf([_text_stream(text) for text in pages], title=title)


def pdf_bomb(inflated_bytes: int) -> bytes:
    """A one-page PDF whose content stream is a few dozen kilobytes that inflate to
    ``inflated_bytes`` of spaces."""
    packer = zlib.compressobj(9)
    parts = [packer.compress(b"BT /F1 12 Tf 72 720 Td (boom) Tj ET\n")]
    block = b" " * (1 << 20)
    for _ in range(inflated_bytes // len(block)):
        parts.append(packer.compress(block))
    parts.append(packer.flush())
    packed = b"".join(parts)
    return _pdf(
        [b"<< /Length %d /Filter /FlateDecode >>\nstream\n%b\nendstream" % (len(packed), packed)]
    )


def encrypted(document: bytes, *, user_password: str, owner_password: str = "owner") -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(document))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def gzip_bomb(inflated_bytes: int) -> bytes:
    """gzip data that inflates to ``inflated_bytes`` of zeros (about a thousandth of that)."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as packer:
        block = b"\x00" * (1 << 20)
        for _ in range(inflated_bytes // len(block)):
            packer.write(block)
    return out.getvalue()


def _text_stream(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    content = f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET".encode("latin-1") if text else b""
    return b"<< /Length %d >>\nstream\n%b\nendstream" % (len(content), content)


def _pdf(content_streams: list[bytes], *, title: str = "") -> bytes:
    count = len(content_streams)
    kids = " ".join(f"{5 + 2 * i} 0 R" for i in range(count))
    info = f"<< /Title ({title}) >>" if title else "<< >>"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        info.encode("latin-1"),
    ]
    for i, stream in enumerate(content_streams):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (6 + 2 * i)
        )
        objects.append(stream)
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%b\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objects) + 1, xref)
    )
    return out.getvalue()
