"""Small files for the attachment tests, made in memory."""

import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def png_bytes(width=64, height=48, color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


def jpeg_with_exif(width=800, height=600) -> bytes:
    image = Image.new("RGB", (width, height), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"  # Make
    exif[0x0110] = "SecretModel"  # Model
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def gif_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("P", (20, 20), 1).save(out, format="GIF")
    return out.getvalue()


def bomb_png(width=10_000, height=10_000) -> bytes:
    """A small file that decodes to a huge image (100 million pixels)."""
    out = io.BytesIO()
    Image.new("1", (width, height), 0).save(out, format="PNG", optimize=True)
    return out.getvalue()


def corrupt_png() -> bytes:
    """A PNG signature and header, then garbage: recognised as PNG, not decodable."""
    data = png_bytes(300, 300)
    return data[:60] + b"\x00garbage" * 50


PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>\n"
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script><rect width='10' height='10'/></svg>\n"
)


def zip_bytes(*names: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in names or ("readme.txt",):
            archive.writestr(name, "content")
    return out.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    """What a multipart upload gives a view (the declared content type is ignored)."""
    return SimpleUploadedFile(name, content, content_type=content_type)
