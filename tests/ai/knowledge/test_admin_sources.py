"""The knowledge sources admin, driven through the test client as ``tenant``'s admin.

Adding a file or a URL goes through the services and starts the ingestion job (in-process
here); ``other_tenant``'s sources must be invisible, unreachable and untouchable; article
sources are read-only.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from helpdesk.ai.knowledge.models import KnowledgeChunk, KnowledgeSource
from helpdesk.ai.knowledge.services import articles_index
from helpdesk.ai.knowledge.sources import source_create_file
from helpdesk.ai.models import KnowledgeArticle
from helpdesk.core import jobs
from tests.ai.knowledge import web
from tests.ai.knowledge.documents import pdf
from tests.support.admin_urls import admin_url

site_server, site = web.site_server, web.site

# Jobs read committed rows from their own connections.
pytestmark = pytest.mark.django_db(transaction=True)

MANUAL = pdf("Warranty: two years.", "Descaling: citric acid, monthly.", title="Kettle manual")
LIST = admin_url(KnowledgeSource)
ADD = admin_url(KnowledgeSource, "add")


@pytest.fixture(autouse=True)
def in_process(settings):
    settings.CELERY_BROKER_URL = None
    yield
    assert jobs.wait_for_in_process_jobs(timeout=30)


def done():
    assert jobs.wait_for_in_process_jobs(timeout=30)


def upload(content: bytes = MANUAL, name: str = "manual.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def form_errors(response) -> dict:
    form = response.context["adminform"].form
    return {field: [str(error) for error in errors] for field, errors in form.errors.items()}


def ready_source(tenant, content: bytes = MANUAL, name: str = "manual.pdf") -> KnowledgeSource:
    source = source_create_file(tenant=tenant, uploaded_file=upload(content, name))
    done()
    source.refresh_from_db()
    assert source.state == "ready"
    return source


def web_source(tenant, **fields) -> KnowledgeSource:
    fields = {"title": "FAQ page", "state": KnowledgeSource.State.READY, **fields}
    return KnowledgeSource.objects.create(
        tenant=tenant, kind="url", url="https://shop.example/faq", **fields
    )


# --- Adding ------------------------------------------------------------------------------------


def test_a_tenant_admin_uploads_a_file_and_it_is_ingested(
    tenant_admin_client, tenant, other_tenant
):
    response = tenant_admin_client.post(
        ADD, {"upload": upload(), "title": "", "page_url": "", "tenant": other_tenant.pk}
    )

    assert response.status_code == 302, form_errors(response)
    done()
    source = KnowledgeSource.objects.get()
    assert (source.tenant, source.kind, source.title, source.state) == (
        tenant,
        "file",
        "manual.pdf",
        "ready",
    )
    listing = tenant_admin_client.get(LIST).content.decode()
    assert "manual.pdf" in listing
    assert "Ready" in listing


def test_a_url_and_a_sitemap_are_added_by_url(tenant_admin_client, tenant, site):
    page = site.serve("/returns", "<title>Returns</title><h1>Returns</h1><p>Within 30 days.</p>")
    sitemap = site.serve(
        "/sitemap.xml", f"<urlset><url><loc>{page}</loc></url></urlset>", content_type="text/xml"
    )

    first = tenant_admin_client.post(ADD, {"page_url": page, "title": ""})
    second = tenant_admin_client.post(
        ADD, {"page_url": sitemap, "sitemap": "on", "title": "Help centre"}
    )

    assert (first.status_code, second.status_code) == (302, 302)
    done()
    sources = KnowledgeSource.objects.order_by("pk")
    assert [(s.kind, s.title, s.state, s.chunk_count) for s in sources] == [
        ("url", "Returns", "ready", 1),
        ("sitemap", "Help centre", "ready", 1),
    ]
    assert KnowledgeChunk.objects.get(source__kind="sitemap").url == page


@pytest.mark.parametrize(
    ("post", "field", "message"),
    [
        ({}, "__all__", "Upload a file or give a URL"),
        ({"upload": "file", "page_url": "https://example.com/"}, "__all__", "one of the two"),
        ({"upload": "file", "sitemap": "on"}, "sitemap", "Only a URL can be a sitemap"),
        ({"page_url": "ftp://example.com/faq"}, "page_url", "http:// or https://"),
        ({"page_url": "https://user:pw@example.com/"}, "page_url", "user name or password"),
        ({"page_url": "http://169.254.169.254/latest/"}, "page_url", "internal network"),
        ({"page_url": "http://127.0.0.1:8000/admin/"}, "page_url", "internal network"),
        ({"upload": "exe"}, "upload", "looks like a program"),
        ({"upload": "zip"}, "upload", "ZIP archive"),
        ({"upload": "big"}, "upload", "larger than"),
    ],
    ids=[
        "neither",
        "both",
        "sitemap-file",
        "ftp",
        "credentials",
        "metadata",
        "loopback",
        "exe-named-pdf",
        "zip-named-pdf",
        "too-large",
    ],
)
def test_the_add_form_refuses_what_cannot_become_a_source(
    tenant_admin_client, settings, post, field, message
):
    settings.KNOWLEDGE_MAX_FILE_BYTES = 50_000
    files = {
        "file": upload(),
        "exe": upload(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00"),
        "zip": upload(b"PK\x03\x04\x14\x00\x00\x00\x08\x00"),
        "big": upload(b"a" * 50_001, "big.txt"),
    }
    if "upload" in post:
        post = {**post, "upload": files[post["upload"]]}

    response = tenant_admin_client.post(ADD, post)

    assert response.status_code == 200
    assert message in " ".join(form_errors(response).get(field, [])), form_errors(response)
    assert not KnowledgeSource.objects.exists()
    assert not jobs._pending


def test_a_superuser_picks_the_tenant(admin_client, other_tenant):
    add = admin_client.get(ADD)
    assert "tenant" in add.context["adminform"].form.fields

    response = admin_client.post(ADD, {"upload": upload(), "tenant": other_tenant.pk})

    assert response.status_code == 302, form_errors(response)
    done()
    assert KnowledgeSource.objects.get().tenant == other_tenant


# --- Listing and viewing -----------------------------------------------------------------------


def test_the_list_shows_progress_while_running_and_the_error_when_failed(
    tenant_admin_client, tenant
):
    web_source(tenant, state="running", progress=40, title="Being read")
    web_source(tenant, state="failed", title="Broken", error="x" * 300 + " (http_status)")

    html = tenant_admin_client.get(LIST).content.decode()

    assert "Running (40%)" in html
    assert "x" * 120 + "…" in html
    assert "x" * 121 not in html


def test_the_change_view_shows_the_chunks_and_lets_only_the_title_change(
    tenant_admin_client, tenant
):
    long_page = "Descaling: " + "citric acid, then rinse well. " * 20
    source = ready_source(tenant, pdf(long_page.strip()))
    text = KnowledgeChunk.objects.get(source=source).text

    response = tenant_admin_client.get(admin_url(KnowledgeSource, "change", source.pk))

    assert response.status_code == 200
    assert list(response.context["adminform"].form.fields) == ["title"]
    html = response.content.decode()
    assert text[:200] + "…" in html
    assert text[:201] not in html


def test_renaming_changes_the_title_and_nothing_the_job_writes(tenant_admin_client, tenant):
    source = ready_source(tenant)

    response = tenant_admin_client.post(
        admin_url(KnowledgeSource, "change", source.pk), {"title": "Kettle handbook"}
    )

    assert response.status_code == 302
    renamed = KnowledgeSource.objects.get(pk=source.pk)
    assert renamed.title == "Kettle handbook"
    assert (renamed.state, renamed.chunk_count, renamed.ingest_token) == (
        "ready",
        source.chunk_count,
        source.ingest_token,
    )


def test_article_sources_are_listed_but_read_only(tenant_admin_client, tenant):
    article = KnowledgeArticle.objects.create(tenant=tenant, question="Hours?", answer="9 to 5.")
    articles_index(tenant=tenant, article_ids=[article.pk])
    source = KnowledgeSource.objects.get(article=article)
    change = admin_url(KnowledgeSource, "change", source.pk)

    assert "Hours?" in tenant_admin_client.get(LIST).content.decode()
    view = tenant_admin_client.get(change)
    assert view.status_code == 200
    assert view.context["has_change_permission"] is False
    assert tenant_admin_client.post(change, {"title": "Changed"}).status_code == 403
    delete = tenant_admin_client.post(
        admin_url(KnowledgeSource, "delete", source.pk), {"post": "yes"}
    )
    assert delete.context["protected"] == ["Hours?"]
    assert KnowledgeSource.objects.get(pk=source.pk).title == "Hours?"


# --- Actions -----------------------------------------------------------------------------------


def test_resync_reads_the_selected_sources_again(tenant_admin_client, tenant, other_tenant):
    ours = ready_source(tenant)
    theirs = ready_source(other_tenant)

    response = tenant_admin_client.post(
        LIST, {"action": "resync", "_selected_action": [ours.pk, theirs.pk]}
    )

    assert response.status_code == 302
    done()
    resynced = KnowledgeSource.objects.get(pk=ours.pk)
    untouched = KnowledgeSource.objects.get(pk=theirs.pk)
    assert resynced.ingest_token != ours.ingest_token
    assert resynced.indexed_at > ours.indexed_at
    assert resynced.state == "ready"
    assert (untouched.ingest_token, untouched.indexed_at) == (
        theirs.ingest_token,
        theirs.indexed_at,
    )


def test_resync_skips_article_sources_and_says_so(tenant_admin_client, tenant):
    article = KnowledgeArticle.objects.create(tenant=tenant, question="Hours?", answer="9 to 5.")
    articles_index(tenant=tenant, article_ids=[article.pk])
    source = KnowledgeSource.objects.get(article=article)

    response = tenant_admin_client.post(
        LIST, {"action": "resync", "_selected_action": [source.pk]}, follow=True
    )

    messages = [str(message) for message in response.context["messages"]]
    assert messages == [
        "0 sources will be read again.",
        "1 article source was skipped: it is updated when its article is saved.",
    ]
    assert KnowledgeSource.objects.get(pk=source.pk).ingest_token == source.ingest_token


def test_delete_asks_first_then_deletes_sources_with_their_chunks_and_files(
    tenant_admin_client, tenant, other_tenant
):
    pages = pdf(*(f"Page {n}: " + "words about kettles. " * 60 for n in range(6)))
    ours = ready_source(tenant, pages)
    theirs = ready_source(other_tenant)
    assert ours.chunk_count > 1
    selection = {"action": "delete_selected", "_selected_action": [ours.pk, theirs.pk]}

    confirm = tenant_admin_client.post(LIST, selection)

    assert confirm.status_code == 200
    # The chunks are counted, not listed one by one; the other tenant's source is not there.
    assert confirm.context["deletable_objects"] == [["manual.pdf"]]
    assert dict(confirm.context["model_count"]) == {
        "knowledge source": 1,
        "chunks": ours.chunk_count,
    }

    response = tenant_admin_client.post(LIST, {**selection, "post": "yes"})

    assert response.status_code == 302
    assert list(KnowledgeSource.objects.values_list("pk", flat=True)) == [theirs.pk]
    assert not KnowledgeChunk.objects.filter(source_id=ours.pk).exists()
    assert not ours.file.storage.exists(ours.file.name)
    assert theirs.file.storage.exists(theirs.file.name)


def test_an_article_source_cannot_be_deleted_here(tenant_admin_client, tenant):
    article = KnowledgeArticle.objects.create(tenant=tenant, question="Hours?", answer="9 to 5.")
    articles_index(tenant=tenant, article_ids=[article.pk])
    source = KnowledgeSource.objects.get(article=article)

    response = tenant_admin_client.post(
        LIST, {"action": "delete_selected", "_selected_action": [source.pk], "post": "yes"}
    )

    assert response.status_code == 200
    assert response.context["protected"] == ["Hours?"]
    assert KnowledgeSource.objects.filter(pk=source.pk).exists()


# --- Other tenants -----------------------------------------------------------------------------


def test_the_list_shows_only_the_own_tenants_sources(tenant_admin_client, tenant, other_tenant):
    ours = web_source(tenant, title="Our FAQ")
    web_source(other_tenant, title="Their FAQ")

    response = tenant_admin_client.get(LIST)

    assert list(response.context["cl"].result_list) == [ours]
    assert "Their FAQ" not in response.content.decode()


@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_another_tenants_source_answers_404_like_a_missing_one(
    tenant_admin_client, other_tenant, view
):
    theirs = web_source(other_tenant)

    assert tenant_admin_client.get(admin_url(KnowledgeSource, view, theirs.pk)).status_code == 404
    assert tenant_admin_client.get(admin_url(KnowledgeSource, view, 999_999)).status_code == 404


def test_another_tenants_source_cannot_be_renamed_or_deleted_by_post(
    tenant_admin_client, other_tenant
):
    theirs = web_source(other_tenant, title="Their FAQ")

    renamed = tenant_admin_client.post(
        admin_url(KnowledgeSource, "change", theirs.pk), {"title": "Hijacked"}
    )
    deleted = tenant_admin_client.post(
        admin_url(KnowledgeSource, "delete", theirs.pk), {"post": "yes"}
    )

    assert (renamed.status_code, deleted.status_code) == (404, 404)
    assert KnowledgeSource.objects.get(pk=theirs.pk).title == "Their FAQ"
