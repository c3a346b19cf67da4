"""File and web sources end to end: created, ingested by their job, found by retrieval,
re-synced, superseded, failed, deleted.

Jobs run on the in-process pool in both modes (``in_process``), against the mode's database and
cache; one test hands the job to a real Celery worker instead.
"""

import threading
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections

from helpdesk.ai.knowledge import sources
from helpdesk.ai.knowledge.extract import SourceError
from helpdesk.ai.knowledge.models import KnowledgeChunk, KnowledgeSource
from helpdesk.ai.knowledge.retrieval import IndexCache, knowledge_version, retrieve
from helpdesk.ai.knowledge.services import articles_index
from helpdesk.ai.knowledge.sources import (
    source_create_file,
    source_create_url,
    source_index,
    source_rename,
    source_resync,
    sources_delete,
)
from helpdesk.ai.knowledge.tasks import source_ingest
from helpdesk.ai.models import KnowledgeArticle
from helpdesk.core import jobs
from helpdesk.core.errors import InvalidInput, NotFound
from tests.ai.knowledge import web
from tests.ai.knowledge.documents import encrypted, pdf
from tests.conftest import wait_until

site_server, site = web.site_server, web.site

# Jobs read committed rows from their own connections.
pytestmark = pytest.mark.django_db(transaction=True)

MANUAL = pdf(
    "Warranty: every kettle is covered for two years.",
    "Descaling: use citric acid once a month.",
    "Returns: within 30 days, free of charge.",
    title="Kettle manual",
)
RETURNS_PAGE = """<html><head><title>Returns policy</title></head><body>
<nav>Shop Blog Contact</nav><h1>Returns policy</h1>
<p>Parcels may be returned within 30 days.</p><h2>Refunds</h2>
<p>Refunds reach the original card within a week.</p></body></html>"""


@pytest.fixture
def in_process(settings):
    """The embedded dispatcher, whatever mode the suite runs in."""
    settings.CELERY_BROKER_URL = None
    yield
    assert jobs.wait_for_in_process_jobs(timeout=30)


@pytest.fixture
def by_hand(monkeypatch):
    """No job is started: the test runs ``source_index`` itself."""
    monkeypatch.setattr(jobs, "enqueue", lambda *args: None)


def upload(content: bytes, name: str = "manual.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def ingested(source: KnowledgeSource) -> KnowledgeSource:
    assert jobs.wait_for_in_process_jobs(timeout=30)
    source.refresh_from_db()
    return source


def found(tenant, query: str) -> list:
    return retrieve(tenant=tenant, query=query, indexes=IndexCache())


def texts(source: KnowledgeSource) -> list[str]:
    return list(source.chunks.order_by("position").values_list("text", flat=True))


def stored(source: KnowledgeSource) -> bool:
    return source.file.storage.exists(source.file.name)


# --- Files -------------------------------------------------------------------------------------


def test_an_uploaded_pdf_becomes_a_ready_source_the_bot_can_find(tenant, in_process):
    source = source_create_file(tenant=tenant, uploaded_file=upload(MANUAL))
    assert source.state == KnowledgeSource.State.QUEUED

    source = ingested(source)

    assert (source.kind, source.title, source.state, source.progress, source.error) == (
        "file",
        "manual.pdf",
        "ready",
        100,
        "",
    )
    assert (source.content_type, source.page_count, source.byte_size) == (
        "application/pdf",
        3,
        len(MANUAL),
    )
    assert source.chunk_count == source.chunks.count() == 1
    assert source.indexed_at is not None
    [hit] = found(tenant, "descaling with citric acid")
    assert (hit.source_id, hit.title) == (source.pk, "manual.pdf")
    assert "citric acid" in hit.text


def test_a_given_title_is_kept(tenant, in_process):
    source = source_create_file(
        tenant=tenant, uploaded_file=upload(MANUAL), title="  Kettle handbook "
    )

    assert ingested(source).title == "Kettle handbook"


def test_a_chinese_text_file_is_chunked_under_its_headings(tenant, in_process):
    text = "# 配送说明\n\n北京地区一到两天送达。\n\n## 运费\n\n满九十九元包邮。"
    source = source_create_file(
        tenant=tenant, uploaded_file=upload(text.encode("gb18030"), "配送.txt")
    )

    source = ingested(source)

    assert source.content_type == "text/markdown"
    assert list(source.chunks.order_by("position").values_list("heading", "text")) == [
        ("配送说明", "北京地区一到两天送达。"),
        ("配送说明 › 运费", "满九十九元包邮。"),
    ]
    assert found(tenant, "包邮")[0].text == "满九十九元包邮。"


@pytest.mark.parametrize(
    ("content", "name", "code"),
    [
        (b"PK\x03\x04\x14\x00\x00\x00zipped", "manual.pdf", "unsupported_type"),
        (b"MZ\x90\x00\x03\x00\x00\x00", "faq.txt", "unsupported_type"),
        (b"", "empty.md", "no_text"),
    ],
    ids=["zip-named-pdf", "exe-named-txt", "empty"],
)
def test_a_file_that_cannot_be_a_source_is_refused_before_it_is_stored(
    tenant, in_process, content, name, code
):
    with pytest.raises(SourceError) as caught:
        source_create_file(tenant=tenant, uploaded_file=upload(content, name))

    assert caught.value.code == code
    assert not KnowledgeSource.objects.exists()


def test_a_file_over_the_size_limit_is_refused_before_it_is_stored(tenant, in_process, settings):
    settings.KNOWLEDGE_MAX_FILE_BYTES = 1000

    with pytest.raises(SourceError) as caught:
        source_create_file(tenant=tenant, uploaded_file=upload(b"x" * 1001, "big.txt"))

    assert caught.value.code == "too_large"
    assert not KnowledgeSource.objects.exists()


# --- Web pages ---------------------------------------------------------------------------------


def test_a_web_page_becomes_a_source_titled_by_the_page(tenant, in_process, site):
    url = site.serve("/returns", RETURNS_PAGE)

    source = ingested(source_create_url(tenant=tenant, url=url, sitemap=False))

    assert (source.kind, source.url, source.title, source.state) == (
        "url",
        url,
        "Returns policy",
        "ready",
    )
    assert (source.content_type, source.byte_size) == ("text/html", len(RETURNS_PAGE))
    chunks = list(source.chunks.order_by("position").values_list("heading", "url", "text"))
    assert chunks == [
        ("Returns policy", "", "Parcels may be returned within 30 days."),
        ("Returns policy › Refunds", "", "Refunds reach the original card within a week."),
    ]
    assert "Shop Blog" not in " ".join(texts(source))
    assert found(tenant, "refund card")[0].title == "Returns policy"


def test_a_web_page_that_is_a_pdf_is_read_as_one(tenant, in_process, site):
    url = site.serve("/manual.pdf", MANUAL, content_type="application/pdf")

    source = ingested(
        source_create_url(tenant=tenant, url=url, sitemap=False, title="Manual online")
    )

    assert (source.title, source.content_type, source.page_count) == (
        "Manual online",
        "application/pdf",
        3,
    )


def test_a_sitemaps_pages_are_chunked_each_with_its_url_and_title(tenant, in_process, site):
    shipping = site.serve(
        "/shipping",
        "<html><head><title>Shipping</title></head><body><h2>Berlin</h2>"
        "<p>One to two days to Berlin.</p><h2>Munich</h2><p>Two days to Munich.</p></body></html>",
    )
    returns = site.serve("/returns", RETURNS_PAGE)
    faq = site.serve("/faq.md", "Plain answers, no title.", content_type="text/markdown")
    listed = [shipping, returns, site.url + "/gone", faq, "https://elsewhere.example/page"]
    sitemap = site.serve(
        "/sitemap.xml",
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(f"<url><loc>{url}</loc></url>" for url in listed)
        + "</urlset>",
        content_type="application/xml",
    )

    source = ingested(source_create_url(tenant=tenant, url=sitemap, sitemap=True))

    assert (source.kind, source.title, source.state, source.page_count) == (
        "sitemap",
        sitemap,
        "ready",
        3,  # the missing page is skipped, the other host's never asked for
    )
    chunks = list(source.chunks.order_by("position").values_list("position", "url", "heading"))
    assert chunks == [
        (0, shipping, "Shipping › Berlin"),
        (1, shipping, "Shipping › Munich"),
        (2, returns, "Returns policy"),
        (3, returns, "Returns policy › Refunds"),
        (4, faq, faq),
    ]
    assert site.hits["/gone"] == 1
    [hit] = found(tenant, "Munich")
    assert (hit.source_id, hit.heading) == (source.pk, "Shipping › Munich")


def test_a_sitemap_whose_pages_all_fail_fails_with_the_first_reason(tenant, in_process, site):
    sitemap = site.serve(
        "/sitemap.xml",
        f"<urlset><url><loc>{site.url}/a</loc></url><url><loc>{site.url}/b</loc></url></urlset>",
        content_type="text/xml",
    )

    source = ingested(source_create_url(tenant=tenant, url=sitemap, sitemap=True))

    assert source.state == "failed"
    assert "HTTP status 404" in source.error
    assert source.error.endswith("(http_status)")


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.com/faq", "invalid_url"),
        ("http://169.254.169.254/latest", "private_address"),
    ],
)
def test_a_url_that_cannot_be_a_source_is_refused_at_once(tenant, in_process, url, code):
    with pytest.raises(SourceError) as caught:
        source_create_url(tenant=tenant, url=url, sitemap=False)

    assert caught.value.code == code
    assert not KnowledgeSource.objects.exists()


def test_a_host_that_turns_internal_after_creation_is_refused_when_fetched(
    tenant, in_process, dns, settings
):
    settings.KNOWLEDGE_ALLOWED_INTERNAL_HOSTS = []
    dns.add("shop.test", ["203.0.113.10"], ["127.0.0.1"])  # public when saved, loopback later

    source = ingested(source_create_url(tenant=tenant, url="http://shop.test/faq", sitemap=False))

    assert source.state == "failed"
    assert source.error.endswith("(private_address)")
    assert "127.0.0.1 is loopback" in source.error


# --- Progress, re-sync, stale jobs ---------------------------------------------------------


def test_progress_is_committed_page_batch_by_page_batch_outside_any_transaction(
    tenant, by_hand, monkeypatch
):
    source = source_create_file(
        tenant=tenant, uploaded_file=upload(pdf(*(f"Page {n}" for n in range(1, 31))))
    )
    seen = []
    make_reporter = sources._progress_reporter

    def watched(*args):
        report = make_reporter(*args)

        def watching(percent):
            assert not connection.in_atomic_block
            report(percent)
            seen.append((percent, _progress_read_elsewhere(source.pk)))

        return watching

    monkeypatch.setattr(sources, "_progress_reporter", watched)

    result = source_index(tenant_id=tenant.pk, source_id=source.pk, token=str(source.ingest_token))

    assert result == "ready"
    # After pages 10, 20 and 30 of 30, then once the text is read; each already visible to
    # another connection, so committed.
    assert seen == [(30, 30), (60, 60), (90, 90), (90, 90)]
    source.refresh_from_db()
    assert (source.state, source.progress, source.page_count) == ("ready", 100, 30)


def _progress_read_elsewhere(source_id: int) -> int:
    result = []

    def read():
        try:
            result.append(KnowledgeSource.objects.get(pk=source_id).progress)
        finally:
            connections.close_all()

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    return result[0]


def test_a_resync_reads_the_source_again_and_replaces_its_chunks(tenant, in_process, site):
    url = site.serve("/returns", RETURNS_PAGE)
    source = ingested(source_create_url(tenant=tenant, url=url, sitemap=False))
    old_token = source.ingest_token
    site.serve("/returns", "<h1>Returns policy</h1><p>Returns are now free for 60 days.</p>")

    resynced = source_resync(tenant=tenant, source_id=source.pk)
    assert (resynced.state, resynced.progress) == ("queued", 0)
    source = ingested(source)

    assert source.ingest_token != old_token
    assert (source.state, source.chunk_count) == ("ready", 1)
    assert texts(source) == ["Returns are now free for 60 days."]
    assert found(tenant, "60 days")[0].source_id == source.pk
    assert found(tenant, "original card") == []


def test_until_a_resync_ends_the_previous_chunks_answer(tenant, by_hand):
    source = source_create_file(tenant=tenant, uploaded_file=upload(MANUAL))
    source_index(tenant_id=tenant.pk, source_id=source.pk, token=str(source.ingest_token))

    source_resync(tenant=tenant, source_id=source.pk)  # its job has not run yet

    source.refresh_from_db()
    assert source.state == "queued"
    assert [hit.source_id for hit in found(tenant, "descaling citric")] == [source.pk]


def test_a_job_with_a_stale_token_writes_nothing(tenant, in_process, site):
    url = site.serve("/returns", RETURNS_PAGE)
    source = ingested(source_create_url(tenant=tenant, url=url, sitemap=False))
    stale = str(source.ingest_token)
    source_resync(tenant=tenant, source_id=source.pk)
    assert jobs.wait_for_in_process_jobs(timeout=30)
    source.refresh_from_db()
    before = (source.state, source.ingest_token, source.indexed_at, texts(source))
    site.serve("/returns", "<p>Changed after the re-sync.</p>")

    assert source_index(tenant_id=tenant.pk, source_id=source.pk, token=stale) == "superseded"
    assert source_index(tenant_id=tenant.pk, source_id=source.pk, token="not-a-uuid") == (
        "superseded"
    )

    source.refresh_from_db()
    assert (source.state, source.ingest_token, source.indexed_at, texts(source)) == before


def test_a_job_superseded_while_it_reads_stops_without_writing(tenant, by_hand, monkeypatch):
    source = source_create_file(tenant=tenant, uploaded_file=upload(MANUAL))
    token = str(source.ingest_token)
    real_extract = sources.extract

    def extract_while_resynced(*args, **kwargs):
        # An admin asks for a re-sync while this job is reading the file.
        source_resync(tenant=tenant, source_id=source.pk)
        return real_extract(*args, **kwargs)

    monkeypatch.setattr(sources, "extract", extract_while_resynced)

    assert source_index(tenant_id=tenant.pk, source_id=source.pk, token=token) == "superseded"

    source.refresh_from_db()
    assert (source.state, source.chunk_count) == ("queued", 0)
    assert str(source.ingest_token) != token
    assert not source.chunks.exists()


def test_a_job_delivered_twice_does_the_work_once(tenant, in_process):
    source = ingested(source_create_file(tenant=tenant, uploaded_file=upload(MANUAL)))
    indexed_at = source.indexed_at

    again = source_ingest(tenant.pk, source.pk, str(source.ingest_token))

    source.refresh_from_db()
    assert again == "superseded"
    assert (source.state, source.indexed_at) == ("ready", indexed_at)


def test_the_task_keeps_its_queued_name():
    assert source_ingest.name == "helpdesk.knowledge_source_ingest"


# --- Failures ----------------------------------------------------------------------------------


def test_a_failing_source_fails_alone(tenant, in_process):
    good = source_create_file(tenant=tenant, uploaded_file=upload(MANUAL))
    locked = source_create_file(
        tenant=tenant,
        uploaded_file=upload(encrypted(MANUAL, user_password="s3cret"), "locked.pdf"),
    )

    good, locked = ingested(good), ingested(locked)

    assert (locked.state, locked.chunk_count) == ("failed", 0)
    assert locked.error.startswith("This PDF is protected by a password.")
    assert locked.error.endswith("(encrypted_pdf)")
    assert (good.state, good.chunk_count) == ("ready", 1)
    assert [hit.source_id for hit in found(tenant, "descaling citric")] == [good.pk]


def test_a_failed_resync_leaves_the_old_chunks_unused_and_says_why(tenant, in_process, site):
    url = site.serve("/returns", RETURNS_PAGE)
    source = ingested(source_create_url(tenant=tenant, url=url, sitemap=False))
    site.serve("/returns", b"\x89PNG", content_type="image/png")

    source_resync(tenant=tenant, source_id=source.pk)
    source = ingested(source)

    assert source.state == "failed"
    assert source.error.endswith("(unsupported_type)")
    assert found(tenant, "original card") == []


def test_an_unexpected_error_fails_the_source_and_is_logged(
    tenant, in_process, monkeypatch, caplog
):
    def broken(*args, **kwargs):
        raise RuntimeError("splitter bug")

    monkeypatch.setattr(sources, "split_text", broken)

    source = ingested(source_create_file(tenant=tenant, uploaded_file=upload(MANUAL)))

    assert source.state == "failed"
    assert source.error.endswith("(internal_error)")
    assert "splitter bug" not in source.error
    assert "splitter bug" in caplog.text


def test_a_file_gone_from_storage_fails_the_source(tenant, settings):
    settings.CELERY_BROKER_URL = None
    source = source_create_file(tenant=tenant, uploaded_file=upload(MANUAL))
    assert jobs.wait_for_in_process_jobs(timeout=30)
    source.refresh_from_db()
    source.file.storage.delete(source.file.name)

    source_resync(tenant=tenant, source_id=source.pk)
    source = ingested(source)

    assert source.state == "failed"
    assert source.error.endswith("(file_missing)")


# --- Deleting, and other tenants ---------------------------------------------------------------


def test_deleting_sources_deletes_their_chunks_and_files(tenant, in_process):
    manual = ingested(source_create_file(tenant=tenant, uploaded_file=upload(MANUAL)))
    other = ingested(
        source_create_file(tenant=tenant, uploaded_file=upload(b"# Other\n\nKept.", "o.md"))
    )
    version = knowledge_version(tenant.pk)
    assert stored(manual)

    assert sources_delete(tenant=tenant, source_ids=[manual.pk]) == 1

    assert not KnowledgeSource.objects.filter(pk=manual.pk).exists()
    assert not KnowledgeChunk.objects.filter(source_id=manual.pk).exists()
    assert not stored(manual)
    assert knowledge_version(tenant.pk) != version
    assert found(tenant, "descaling") == []
    assert stored(other)
    assert texts(other) == ["Kept."]


def test_article_sources_are_not_deleted_or_resynced_here(tenant, in_process):
    article = KnowledgeArticle.objects.create(
        tenant=tenant, question="Opening hours?", answer="Nine to five."
    )
    articles_index(tenant=tenant, article_ids=[article.pk])
    source = KnowledgeSource.objects.get(article=article)

    assert sources_delete(tenant=tenant, source_ids=[source.pk]) == 0
    with pytest.raises(InvalidInput):
        source_resync(tenant=tenant, source_id=source.pk)

    assert KnowledgeChunk.objects.filter(source=source).count() == 1


def test_another_tenants_sources_cannot_be_resynced_or_deleted(tenant, other_tenant, in_process):
    theirs = ingested(source_create_file(tenant=other_tenant, uploaded_file=upload(MANUAL)))

    with pytest.raises(NotFound):
        source_resync(tenant=tenant, source_id=theirs.pk)
    assert sources_delete(tenant=tenant, source_ids=[theirs.pk]) == 0

    theirs.refresh_from_db()
    assert (theirs.state, theirs.chunk_count) == ("ready", 1)
    assert found(tenant, "descaling") == []
    assert found(other_tenant, "descaling")[0].source_id == theirs.pk


def test_a_rename_changes_the_title_only(tenant, other_tenant, in_process):
    source = ingested(source_create_file(tenant=tenant, uploaded_file=upload(MANUAL)))

    source_rename(tenant=tenant, source_id=source.pk, title=" Kettle handbook ")

    renamed = KnowledgeSource.objects.get(pk=source.pk)
    assert renamed.title == "Kettle handbook"
    assert (renamed.state, renamed.indexed_at) == ("ready", source.indexed_at)
    assert found(tenant, "handbook")[0].title == "Kettle handbook"
    with pytest.raises(InvalidInput):
        source_rename(tenant=tenant, source_id=source.pk, title="  ")
    with pytest.raises(NotFound):
        source_rename(tenant=other_tenant, source_id=source.pk, title="Taken over")


@pytest.mark.parametrize("bad_id", ["abc", -1, None, True])
def test_a_bad_id_is_not_found(tenant, bad_id):
    with pytest.raises(NotFound):
        source_resync(tenant=tenant, source_id=bad_id)


def test_a_job_for_a_deleted_source_does_nothing(tenant, by_hand):
    source = source_create_file(tenant=tenant, uploaded_file=upload(MANUAL))
    sources_delete(tenant=tenant, source_ids=[source.pk])

    token = str(source.ingest_token)
    assert source_index(tenant_id=tenant.pk, source_id=source.pk, token=token) == "superseded"
    assert source_index(tenant_id=tenant.pk, source_id=source.pk, token=str(uuid.uuid4())) == (
        "superseded"
    )


# --- A real worker -----------------------------------------------------------------------------


@pytest.mark.services
def test_a_celery_worker_ingests_an_uploaded_file(tenant, celery_worker):
    source = source_create_file(tenant=tenant, uploaded_file=upload(MANUAL))

    ready = wait_until(
        lambda: KnowledgeSource.objects.filter(pk=source.pk, state="ready").first(), timeout=30
    )

    assert (ready.chunk_count, ready.page_count) == (1, 3)
    assert not jobs._pending, "service mode must not use the in-process pool"
