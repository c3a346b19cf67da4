"""Bytes to Markdown-ish text: the type told by the bytes, charsets, HTML, PDFs, limits."""

import time
import tracemalloc

import pytest

from helpdesk.ai.knowledge.chunking import split_text
from helpdesk.ai.knowledge.extract import HTML, MARKDOWN, PDF, PLAIN, SourceError, extract
from tests.ai.knowledge.documents import encrypted, gzip_bomb, pdf, pdf_bomb

SHIPPING_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Shipping | Acme</title>
<style>body { color: red }</style><script>var tracking = "do not index";</script></head>
<body>
<nav><a href="/">Home</a> <a href="/shop">Shop</a></nav>
<h1>Shipping</h1>
<p>We ship <b>every</b> weekday.
   Orders before noon leave the same day.</p>
<h2>Berlin</h2>
<p>Delivery to Berlin takes 1-2 days.</p>
<ul><li>DHL</li><li><p>Hermes</p></li></ul>
<h3>Costs</h3>
<table><tr><th>Weight</th><th>Price</th></tr><tr><td>1 kg</td><td>4 EUR</td></tr></table>
<p># 1 bestseller, not a heading</p>
<pre>line one
  line two</pre>
<footer>Copyright Acme, imprint, privacy</footer>
<noscript>Enable JavaScript</noscript>
</body></html>"""


def failure(data: bytes, **options) -> SourceError:
    with pytest.raises(SourceError) as caught:
        extract(data, **options)
    assert caught.value.message
    assert caught.value.code in str(caught.value)
    return caught.value


# --- HTML ------------------------------------------------------------------------------------


def test_html_headings_become_markdown_headings_and_page_furniture_is_dropped():
    document = extract(SHIPPING_PAGE.encode())

    assert (document.content_type, document.title, document.page_count) == (
        HTML,
        "Shipping | Acme",
        0,
    )
    assert document.text == (
        "# Shipping\n\n"
        "We ship every weekday. Orders before noon leave the same day.\n\n"
        "## Berlin\n\n"
        "Delivery to Berlin takes 1-2 days.\n\n"
        "- DHL\n\n"
        "- Hermes\n\n"
        "### Costs\n\n"
        "Weight | Price\n\n"
        "1 kg | 4 EUR\n\n"
        "\\# 1 bestseller, not a heading\n\n"
        "line one\n  line two"
    )
    for furniture in ("Home", "tracking", "color", "Copyright", "JavaScript", "Acme"):
        assert furniture not in document.text


def test_html_chunks_carry_the_path_of_their_headings():
    chunks = split_text(extract(SHIPPING_PAGE.encode()).text)

    assert [chunk.heading for chunk in chunks] == [
        "Shipping",
        "Shipping › Berlin",
        "Shipping › Berlin › Costs",
    ]


def test_html_is_told_by_its_first_tag_whatever_name_or_type_it_came_with():
    document = extract(b"  <div><h2>Returns</h2><p>Within 30 days.</p></div>")

    assert (document.content_type, document.text) == (HTML, "## Returns\n\nWithin 30 days.")


def test_text_a_server_calls_html_is_read_as_html():
    document = extract(b"Intro text <p>and a paragraph</p>", declared_type=HTML)

    assert (document.content_type, document.text) == (HTML, "Intro text\n\nand a paragraph")


def test_an_unclosed_heading_does_not_swallow_the_page():
    document = extract(b"<html><body><h2>Returns<p>Within 30 days.<p>Free of charge.")

    assert document.text == "## Returns\n\nWithin 30 days.\n\nFree of charge."


def test_html_charset_comes_from_the_meta_tag():
    page = '<html><head><meta charset="gbk"><title>退货</title></head><body><h1>退货政策</h1>'
    page += "<p>三十天内可以退货。</p></body></html>"

    document = extract(page.encode("gbk"))

    assert (document.title, document.text) == ("退货", "# 退货政策\n\n三十天内可以退货。")


def test_a_servers_charset_wins_over_guessing():
    document = extract("<p>Größe</p>".encode("cp1252"), charset="windows-1252")

    assert document.text == "Größe"


# --- Markdown and plain text ---------------------------------------------------------------


def test_markdown_is_kept_as_it_is_with_its_first_heading_as_title():
    text = "# Returns\n\nWithin **30 days**.\n\n## Refunds\n\nTo the original card."

    document = extract(text.encode())

    assert (document.content_type, document.title, document.text) == (MARKDOWN, "Returns", text)


def test_a_utf8_bom_is_dropped():
    document = extract("\ufeffPlain words.".encode())

    assert (document.content_type, document.text) == (PLAIN, "Plain words.")


def test_a_chinese_file_saved_as_gb18030_is_decoded():
    text = "# 配送说明\n\n北京地区一到两天送达。\n\n## 运费\n\n满九十九元包邮。"
    data = text.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")

    document = extract(data)

    assert (document.content_type, document.text) == (MARKDOWN, text)
    assert [chunk.heading for chunk in split_text(document.text)] == ["配送说明", "配送说明 › 运费"]


def test_a_latin1_file_that_is_neither_utf8_nor_gb18030_is_decoded_as_latin1():
    data = "Café crème, naïve façade.".encode("latin-1")

    assert extract(data).text == "Café crème, naïve façade."


def test_utf16_with_its_bom_is_text_not_binary():
    assert extract("Returns within 30 days.".encode("utf-16")).text == "Returns within 30 days."


# --- PDF ---------------------------------------------------------------------------------------


def test_a_pdfs_pages_are_read_one_after_another():
    document = extract(pdf("Page one text", "Page two text", "Page three text", title="Manual"))

    assert (document.content_type, document.page_count, document.title) == (PDF, 3, "Manual")
    assert document.text == "Page one text\n\nPage two text\n\nPage three text"


def test_progress_is_reported_after_each_batch_of_pages():
    reports = []

    extract(pdf(*(f"Page {n}" for n in range(1, 26))), progress=lambda *done: reports.append(done))

    assert reports == [(10, 25), (20, 25), (25, 25)]


def test_a_pdf_locked_with_a_password_is_refused():
    error = failure(encrypted(pdf("Secret terms"), user_password="s3cret"))

    assert error.code == "encrypted_pdf"
    assert "password" in error.message


def test_a_pdf_encrypted_only_against_editing_is_read():
    document = extract(encrypted(pdf("Open terms"), user_password=""))

    assert document.text == "Open terms"


def test_a_pdf_without_text_says_so():
    error = failure(pdf("", ""))

    assert error.code == "no_text"
    assert "OCR" in error.message


@pytest.mark.parametrize(
    "data",
    [
        pdf("Cut short")[:150],
        b"%PDF-1.7\nthis is no pdf at all",
        b"%PDF-1.4\n%%EOF\n",
    ],
    ids=["truncated", "garbage", "header-only"],
)
def test_a_malformed_pdf_is_refused(data):
    assert failure(data).code == "malformed"


def test_a_pdf_decompression_bomb_stops_at_the_stream_limit():
    bomb = pdf_bomb(256 * 1024 * 1024)
    assert len(bomb) < 300_000
    tracemalloc.start()
    started = time.monotonic()
    try:
        error = failure(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert error.code == "too_large"
    assert time.monotonic() - started < 10
    # Bounded by the 32 MB stream limit, not by the 256 MB the stream inflates to.
    assert peak < 80 * 1024 * 1024


def test_a_pdf_with_too_many_pages_is_refused_before_it_is_read(settings):
    settings.KNOWLEDGE_MAX_PDF_PAGES = 3

    error = failure(pdf("1", "2", "3", "4"))

    assert error.code == "too_many_pages"
    assert "has 4 pages" in error.message
    assert "at most 3" in error.message


# --- What is refused by its bytes ------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "looks_like"),
    [
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"word/document.xml", "ZIP archive"),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff", "program"),
        (b"\x7fELF\x02\x01\x01\x00", "program"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image"),
        (gzip_bomb(1024 * 1024), "gzip"),
        (bytes(range(256)) * 4, "binary data"),
    ],
    ids=["zip", "exe", "elf", "png", "jpeg", "gzip-html", "binary"],
)
def test_anything_but_text_and_pdf_is_an_unsupported_type(data, looks_like):
    error = failure(data)

    assert error.code == "unsupported_type"
    assert looks_like in error.message


def test_empty_text_is_refused():
    assert failure(b" \n\n<p> </p>").code == "no_text"


# --- Limits ------------------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused(settings):
    settings.KNOWLEDGE_MAX_FILE_BYTES = 1000

    error = failure(b"a" * 1001)

    assert error.code == "too_large"


@pytest.mark.parametrize(
    "data",
    [
        b"word " * 30,
        b"<p>" + b"word " * 30 + b"</p>",
        pdf("word " * 30),
        pdf("word word", "word word", "word word"),
    ],
    ids=["text", "html", "pdf-page", "pdf-pages"],
)
def test_text_over_the_character_limit_is_refused(data):
    error = failure(data, max_chars=20)

    assert error.code == "too_long"
    assert "20" in error.message


def test_the_character_limit_defaults_to_the_setting(settings):
    settings.KNOWLEDGE_MAX_TEXT_CHARS = 50

    assert failure(b"word " * 30).code == "too_long"
    assert extract(b"word " * 9).text == ("word " * 9).strip()
