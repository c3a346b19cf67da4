"""Knowledge sources from uploaded files and web pages: created here, ingested by a job.

Creating a source stores it queued and enqueues its ingestion once the transaction commits.
The job (``source_index``, run by the ``source_ingest`` task) reads the file or fetches the
pages, extracts their text and splits it, reporting progress on the row as it goes; each report
is one UPDATE committed on its own, so an admin watching sees it move and no lock or transaction
is held while a 100-page PDF is read. The chunks are then written under the source's row lock,
and only if the source still carries the job's ingest token: a re-sync issues a new token, so
an older job (still running, or delivered twice) stops at its next progress report, or finds
the token changed when it comes to write, and writes nothing.

A source that cannot be read ends ``failed`` with the reason (message and code) in ``error``;
anything unexpected too, logged, so no source stays ``running`` because its job raised. Each
source is its own job: one that fails touches no other.
"""

import logging
import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from helpdesk.ai.knowledge.chunking import HEADING_SEPARATOR, ChunkDraft, split_text
from helpdesk.ai.knowledge.extract import Document, SourceError, extract, sniff, too_large
from helpdesk.ai.knowledge.fetch import Fetcher, url_check_address, url_validate
from helpdesk.ai.knowledge.models import KnowledgeSource
from helpdesk.ai.knowledge.retrieval import knowledge_changed
from helpdesk.ai.knowledge.services import source_chunks_replace
from helpdesk.ai.knowledge.tasks import source_ingest
from helpdesk.core import jobs
from helpdesk.core.errors import InvalidInput, NotFound
from helpdesk.core.validation import clean_id, storable_text
from helpdesk.tenants.models import Tenant

logger = logging.getLogger(__name__)

# Progress once the text is read; splitting and storing it take the rest.
EXTRACTED = 90
TITLE_MAX = 300  # KnowledgeSource.title
HEADING_MAX = 500  # KnowledgeChunk.heading
# Enough of a file to tell its type: the signatures, the NUL test, the first HTML tag.
SNIFF_BYTES = 8192


# --------------------------------------------------------------------------------------------
# Creating, re-syncing, deleting
# --------------------------------------------------------------------------------------------


def upload_check(uploaded_file: UploadedFile) -> None:
    """Refuse, before it is stored, a file that cannot become a source: an empty one, one over
    KNOWLEDGE_MAX_FILE_BYTES, or one whose first bytes are not a type the extractor reads."""
    if uploaded_file.size > settings.KNOWLEDGE_MAX_FILE_BYTES:
        raise too_large(settings.KNOWLEDGE_MAX_FILE_BYTES)
    if not uploaded_file.size:
        raise SourceError("no_text", _("The file is empty."))
    uploaded_file.seek(0)
    head = uploaded_file.read(SNIFF_BYTES)
    uploaded_file.seek(0)
    sniff(head)


def source_create_file(
    *, tenant: Tenant, uploaded_file: UploadedFile, title: str = ""
) -> KnowledgeSource:
    """Store ``uploaded_file`` as a queued source of ``tenant`` and enqueue its ingestion.

    The title defaults to the file's name. Raises ``SourceError`` (``upload_check``) or
    ``InvalidCharacters``.
    """
    upload_check(uploaded_file)
    name = os.path.basename(uploaded_file.name or "") or "document"
    source = KnowledgeSource(
        tenant=tenant,
        kind=KnowledgeSource.Kind.FILE,
        title=_title(title, default=name),
        byte_size=uploaded_file.size,
    )
    source.file.save(name, uploaded_file, save=False)
    try:
        with transaction.atomic():
            source.save()
            _enqueue(source)
    except BaseException:
        source.file.delete(save=False)
        raise
    return source


def source_create_url(
    *, tenant: Tenant, url: str, sitemap: bool, title: str = ""
) -> KnowledgeSource:
    """A queued source of ``tenant`` for the page at ``url`` (or, with ``sitemap``, for the
    pages the sitemap at ``url`` lists), with its ingestion enqueued.

    The title defaults to the URL (a page's own title replaces it once the page is read).
    Raises ``SourceError`` (``invalid_url``, ``private_address``) or ``InvalidCharacters``.
    """
    url = url_validate(url)
    url_check_address(url)
    with transaction.atomic():
        source = KnowledgeSource.objects.create(
            tenant=tenant,
            kind=KnowledgeSource.Kind.SITEMAP if sitemap else KnowledgeSource.Kind.URL,
            url=url,
            title=_title(title, default=url),
        )
        _enqueue(source)
    return source


def source_resync(*, tenant: Tenant, source_id: int) -> KnowledgeSource:
    """Read ``tenant``'s file or web source again and replace its chunks.

    A new ingest token makes any job still working on the source stop without writing. Until
    the new job is done the source is not ready, so the bot does not answer from it.
    """
    source_id = clean_id(source_id, not_found=gettext_lazy("Knowledge source not found."))
    with transaction.atomic():
        # Locked: a job writing its chunks holds this lock and checks the token under it.
        source = (
            KnowledgeSource.objects.select_for_update().filter(tenant=tenant, pk=source_id).first()
        )
        if source is None:
            raise NotFound(_("Knowledge source not found."))
        if source.kind == KnowledgeSource.Kind.ARTICLE:
            raise InvalidInput(
                _("An article's source is brought up to date whenever the article is saved.")
            )
        if source.state == KnowledgeSource.State.FAILED:
            # Its previous chunks, out of search while it was failed, answer again until the
            # new ones replace them.
            knowledge_changed(tenant.pk)
        source.ingest_token = uuid.uuid4()
        source.state = KnowledgeSource.State.QUEUED
        source.progress = 0
        source.error = ""
        source.save(update_fields=["ingest_token", "state", "progress", "error", "updated_at"])
        _enqueue(source)
    return source


def source_rename(*, tenant: Tenant, source_id: int, title: str) -> None:
    """Give ``tenant``'s source a new title, and nothing else: a job may be writing the rest
    of the row at the same moment."""
    source_id = clean_id(source_id, not_found=gettext_lazy("Knowledge source not found."))
    title = _title(title, default="")
    if not title:
        raise InvalidInput(_("A source needs a title."))
    with transaction.atomic():
        renamed = KnowledgeSource.objects.filter(tenant=tenant, pk=source_id).update(
            title=title, updated_at=timezone.now()
        )
        if not renamed:
            raise NotFound(_("Knowledge source not found."))
        # Titles are indexed with the chunks.
        knowledge_changed(tenant.pk)


def sources_delete(*, tenant: Tenant, source_ids: Iterable[int]) -> int:
    """Delete these file and web sources of ``tenant`` with their chunks and stored files;
    returns how many went. Article sources are left alone: they go with their articles."""
    ids = [
        clean_id(source_id, not_found=gettext_lazy("Knowledge source not found."))
        for source_id in source_ids
    ]
    with transaction.atomic():
        doomed = KnowledgeSource.objects.filter(tenant=tenant, pk__in=ids).exclude(
            kind=KnowledgeSource.Kind.ARTICLE
        )
        files = [name for name in doomed.values_list("file", flat=True) if name]
        _, per_model = doomed.delete()
        knowledge_changed(tenant.pk)
        # After the commit: a rolled-back delete must still find its files.
        transaction.on_commit(lambda: _files_delete(files), robust=True)
    return per_model.get(KnowledgeSource._meta.label, 0)


def _title(title: str, *, default: str) -> str:
    title = storable_text(title.strip(), field="title")
    return (title or default)[:TITLE_MAX]


def _enqueue(source: KnowledgeSource) -> None:
    jobs.enqueue(source_ingest, source.tenant_id, source.pk, str(source.ingest_token))


def _files_delete(names: list[str]) -> None:
    storage = KnowledgeSource._meta.get_field("file").storage
    for name in names:
        storage.delete(name)


# --------------------------------------------------------------------------------------------
# The ingestion job
# --------------------------------------------------------------------------------------------


class _Superseded(Exception):
    """The source was re-synced or deleted while this job worked on it."""


@dataclass(frozen=True)
class _Ingested:
    drafts: list[ChunkDraft]
    content_type: str
    byte_size: int
    page_count: int
    title: str  # the document's own title, "" when it has none


def source_index(*, tenant_id: int, source_id: int, token: str) -> str:
    """Read, split and store a file or web source, if ``token`` is still its ingest token.

    Returns what happened ("ready", "failed: <code>", "superseded"), for the task's result.
    """
    try:
        token = str(uuid.UUID(str(token)))
    except ValueError:
        return "superseded"
    if not _claim(tenant_id, source_id, token):
        return "superseded"
    try:
        source = KnowledgeSource.objects.select_related("tenant").get(
            tenant_id=tenant_id, pk=source_id
        )
        ingested = _ingest(source, _progress_reporter(tenant_id, source_id, token))
        written = _store(source.tenant, source_id, token, ingested)
    except (_Superseded, KnowledgeSource.DoesNotExist):
        return "superseded"
    except SourceError as error:
        _fail(tenant_id, source_id, token, f"{error.message} ({error.code})")
        return f"failed: {error.code}"
    except Exception:
        logger.exception(
            "Knowledge source %s of tenant %s could not be ingested", source_id, tenant_id
        )
        _fail(
            tenant_id,
            source_id,
            token,
            _("Something went wrong while reading this source; try a re-sync.")
            + " (internal_error)",
        )
        return "failed: internal_error"
    return "ready" if written else "superseded"


def _current(tenant_id: int, source_id: int, token: str):
    return KnowledgeSource.objects.filter(
        tenant_id=tenant_id, pk=source_id, ingest_token=token
    ).exclude(kind=KnowledgeSource.Kind.ARTICLE)


def _claim(tenant_id: int, source_id: int, token: str) -> bool:
    # Queued, or running when this is a redelivery of a job whose worker died. A ready or
    # failed source with this token was done by an earlier delivery: its result stands.
    return bool(
        _current(tenant_id, source_id, token)
        .filter(state__in=[KnowledgeSource.State.QUEUED, KnowledgeSource.State.RUNNING])
        .update(
            state=KnowledgeSource.State.RUNNING, progress=0, error="", updated_at=timezone.now()
        )
    )


def _progress_reporter(tenant_id: int, source_id: int, token: str) -> Callable[[int], None]:
    def report(percent: int) -> None:
        # One UPDATE, committed on its own (the job holds no transaction while it reads).
        updated = (
            _current(tenant_id, source_id, token)
            .filter(state=KnowledgeSource.State.RUNNING)
            .update(progress=min(percent, 99), updated_at=timezone.now())
        )
        if not updated:
            raise _Superseded()

    return report


def _fail(tenant_id: int, source_id: int, token: str, message: str) -> None:
    failed = (
        _current(tenant_id, source_id, token)
        .filter(state=KnowledgeSource.State.RUNNING)
        .update(state=KnowledgeSource.State.FAILED, error=message, updated_at=timezone.now())
    )
    if failed:
        # A source synced before keeps its previous chunks, which must leave search now.
        knowledge_changed(tenant_id)


def _store(tenant: Tenant, source_id: int, token: str, ingested: _Ingested) -> bool:
    with transaction.atomic():
        # The row lock orders this write with a re-sync: whichever comes second sees the other.
        source = (
            _current(tenant.pk, source_id, token)
            .filter(state=KnowledgeSource.State.RUNNING)
            .select_for_update()
            .first()
        )
        if source is None:
            return False
        source.content_type = ingested.content_type
        source.byte_size = ingested.byte_size
        source.page_count = ingested.page_count
        if (
            ingested.title
            and source.kind == KnowledgeSource.Kind.URL
            and source.title == source.url[:TITLE_MAX]
        ):
            # The title was left to default to the URL: the page's own says more.
            source.title = ingested.title[:TITLE_MAX]
        source_chunks_replace(tenant=tenant, source=source, drafts=ingested.drafts)
    return True


def _ingest(source: KnowledgeSource, report: Callable[[int], None]) -> _Ingested:
    if source.kind == KnowledgeSource.Kind.FILE:
        data = _file_bytes(source)
        document = extract(data, progress=_page_progress(report))
        return _single(document, len(data), report)
    with Fetcher() as fetcher:
        if source.kind == KnowledgeSource.Kind.URL:
            page = fetcher.page(source.url)
            document = extract(
                page.body,
                declared_type=page.content_type,
                charset=page.charset,
                progress=_page_progress(report),
            )
            return _single(document, len(page.body), report)
        return _sitemap(fetcher, source.url, report)


def _page_progress(report: Callable[[int], None]) -> Callable[[int, int], None]:
    return lambda done, total: report(EXTRACTED * done // total)


def _file_bytes(source: KnowledgeSource) -> bytes:
    limit = settings.KNOWLEDGE_MAX_FILE_BYTES
    try:
        with source.file.open("rb") as handle:
            data = handle.read(limit + 1)
    except (FileNotFoundError, ValueError) as exc:  # ValueError: the row names no file
        raise SourceError(
            "file_missing", _("The uploaded file is no longer stored; upload it again.")
        ) from exc
    if len(data) > limit:
        raise too_large(limit)
    return data


def _single(document: Document, byte_size: int, report: Callable[[int], None]) -> _Ingested:
    report(EXTRACTED)
    return _Ingested(
        drafts=[replace(d, heading=d.heading[:HEADING_MAX]) for d in split_text(document.text)],
        content_type=document.content_type,
        byte_size=byte_size,
        page_count=document.page_count,
        title=document.title,
    )


def _sitemap(fetcher: Fetcher, url: str, report: Callable[[int], None]) -> _Ingested:
    """Every page of the sitemap, each page's chunks carrying its URL and, first in their
    heading path, its title; positions count on across pages. A page that cannot be read is
    skipped (logged); the source fails only when none can, or when its time or text runs out.
    """
    page_urls = fetcher.sitemap(url)
    drafts: list[ChunkDraft] = []
    chars_left = settings.KNOWLEDGE_MAX_TEXT_CHARS
    byte_size = pages_read = 0
    first_error: SourceError | None = None
    for number, page_url in enumerate(page_urls, 1):
        try:
            page = fetcher.page(page_url)
            document = extract(
                page.body,
                declared_type=page.content_type,
                charset=page.charset,
                max_chars=chars_left,
            )
        except SourceError as error:
            if error.code in ("time_budget", "too_long"):
                raise
            logger.info("Sitemap %s: skipped %s: %s", url, page_url, error)
            first_error = first_error or error
        else:
            chars_left -= len(document.text)
            byte_size += len(page.body)
            pages_read += 1
            title = document.title or page_url
            for draft in split_text(document.text):
                heading = draft.heading
                if not heading.startswith(title):
                    heading = HEADING_SEPARATOR.join(filter(None, [title, heading]))
                drafts.append(
                    replace(
                        draft, position=len(drafts), heading=heading[:HEADING_MAX], url=page_url
                    )
                )
        report(EXTRACTED * number // len(page_urls))
    if not pages_read and first_error is not None:
        raise first_error
    return _Ingested(drafts, "", byte_size, pages_read, "")
