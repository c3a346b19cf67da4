"""Writing a tenant's knowledge chunks. Every chunk write goes through here, so every one of
them changes the tenant's knowledge version (see retrieval.py) and no process keeps a stale index.

Articles are indexed inline, in the transaction that saves them: an article is a few hundred
tokens, split in milliseconds, and the admin then never shows an article whose chunks do not
exist yet. Files and web pages, which can take minutes, will be indexed by jobs that report
their progress on the source row.

When the tenant has an embeddings model, new chunks get their vectors from a job started once
the chunks are committed (tasks_embed.py): a network call has no place in the transaction, and
until the job is done the chunks are found lexically.
"""

import logging
from collections.abc import Iterable, Sequence

from django.db import transaction
from django.utils import timezone

from helpdesk.ai.knowledge.chunking import ChunkDraft, split_text
from helpdesk.ai.knowledge.embeddings import BATCH_SIZE, EmbeddingsError, embed, tenant_endpoint
from helpdesk.ai.knowledge.models import KnowledgeChunk, KnowledgeSettings, KnowledgeSource
from helpdesk.ai.knowledge.retrieval import knowledge_changed
from helpdesk.ai.knowledge.tasks_embed import source_embed, tenant_embed
from helpdesk.ai.knowledge.vectors import vector_bytes
from helpdesk.ai.models import KnowledgeArticle
from helpdesk.core import jobs
from helpdesk.core.errors import NotFound
from helpdesk.core.loop import run_on_job_loop
from helpdesk.tenants.models import Tenant

logger = logging.getLogger(__name__)


def source_chunks_replace(
    *, tenant: Tenant, source: KnowledgeSource, drafts: Sequence[ChunkDraft]
) -> None:
    """Replace ``source``'s chunks with ``drafts`` and mark it ready, in one transaction; then
    embed them, if the tenant has an embeddings model."""
    with transaction.atomic():
        _chunks_replace(tenant=tenant, source=source, drafts=drafts)
        knowledge_changed(tenant.pk)
        if _embeds(tenant):
            jobs.enqueue(source_embed, tenant.pk, source.pk)


def _chunks_replace(
    *, tenant: Tenant, source: KnowledgeSource, drafts: Sequence[ChunkDraft]
) -> None:
    # Callers bump the knowledge version once for all the sources they replace.
    if source.tenant_id != tenant.pk:
        raise NotFound()
    KnowledgeChunk.objects.filter(tenant=tenant, source=source).delete()
    KnowledgeChunk.objects.bulk_create(
        KnowledgeChunk(
            tenant=tenant,
            source=source,
            position=draft.position,
            heading=draft.heading,
            url=draft.url,
            text=draft.text,
            token_count=draft.token_count,
        )
        for draft in drafts
    )
    source.state = KnowledgeSource.State.READY
    source.progress = 100
    source.chunk_count = len(drafts)
    source.error = ""
    source.indexed_at = timezone.now()
    source.save()


def articles_index(*, tenant: Tenant, article_ids: Iterable[int]) -> int:
    """Bring the chunks of these articles of ``tenant`` up to date; returns how many chunks
    they have now.

    An active article gets a source (its question as the title, its keywords as search terms)
    and its answer's chunks; an inactive or missing one loses its source and chunks, since the
    bot must not answer from it.
    """
    ids = list(article_ids)
    count = 0
    indexed: list[int] = []
    with transaction.atomic():
        owned = KnowledgeArticle.objects.filter(tenant=tenant, pk__in=ids)
        # A superuser can move an article to another tenant: its old source goes with the old
        # tenant's index.
        moved = KnowledgeSource.objects.filter(article__in=owned).exclude(tenant=tenant)
        for old_tenant_id in set(moved.values_list("tenant_id", flat=True)):
            knowledge_changed(old_tenant_id)
        moved.delete()
        active = {article.pk: article for article in owned.filter(is_active=True)}
        KnowledgeSource.objects.filter(
            tenant=tenant, kind=KnowledgeSource.Kind.ARTICLE, article_id__in=ids
        ).exclude(article_id__in=active).delete()
        for article in active.values():
            source, _ = KnowledgeSource.objects.update_or_create(
                tenant=tenant,
                kind=KnowledgeSource.Kind.ARTICLE,
                article=article,
                defaults={"title": article.question, "keywords": article.keywords},
            )
            drafts = split_text(article.answer)
            _chunks_replace(tenant=tenant, source=source, drafts=drafts)
            indexed.append(source.pk)
            count += len(drafts)
        knowledge_changed(tenant.pk)
        if indexed and _embeds(tenant):
            # One article: a job for its source. Several: one job for the tenant, which sends
            # their chunks 64 to a call, rather than a job and a call for each.
            if len(indexed) == 1:
                jobs.enqueue(source_embed, tenant.pk, indexed[0])
            else:
                jobs.enqueue(tenant_embed, tenant.pk)
    return count


def articles_set_active(*, tenant: Tenant, article_ids: Iterable[int], active: bool) -> int:
    """Let the bot use these articles of ``tenant``, or stop it; returns how many changed."""
    ids = list(article_ids)
    with transaction.atomic():
        # updated_at by hand: update() skips auto_now.
        count = KnowledgeArticle.objects.filter(tenant=tenant, pk__in=ids).update(
            is_active=active, updated_at=timezone.now()
        )
        articles_index(tenant=tenant, article_ids=ids)
    return count


def articles_delete(*, tenant: Tenant, article_ids: Iterable[int]) -> int:
    """Delete these articles of ``tenant`` with their sources and chunks; returns how many
    articles went."""
    with transaction.atomic():
        _, per_model = KnowledgeArticle.objects.filter(
            tenant=tenant, pk__in=list(article_ids)
        ).delete()
        knowledge_changed(tenant.pk)
    return per_model.get(KnowledgeArticle._meta.label, 0)


def tenant_reindex(*, tenant: Tenant) -> int:
    """Rebuild the chunks of every article of ``tenant``; returns the tenant's article chunks.

    For an upgrade (articles written before chunks existed) and for repairs.
    """
    article_ids = KnowledgeArticle.objects.filter(tenant=tenant).values_list("pk", flat=True)
    return articles_index(tenant=tenant, article_ids=article_ids)


def _embeds(tenant: Tenant) -> bool:
    return KnowledgeSettings.objects.filter(tenant=tenant).exclude(embeddings_model="").exists()


def chunks_embed(*, tenant: Tenant, source_id: int | None = None, force: bool = False) -> int:
    """Store the vectors of ``tenant``'s chunks (of one source, if given) that have none from
    the tenant's current embeddings model; returns how many were stored.

    ``force`` embeds every chunk again (the endpoint changed but the model's name did not).
    Safe to run twice: a second run finds nothing left to do. Calls the endpoint, so never
    inside a transaction; from a job or a command. Raises EmbeddingsError when the endpoint
    fails; what was stored until then stays, and is searched.
    """
    endpoint = tenant_endpoint(tenant.pk)
    if endpoint is None:
        return 0
    chunks = KnowledgeChunk.objects.filter(tenant=tenant)
    if source_id is not None:
        chunks = chunks.filter(source_id=source_id)
    if not force:
        chunks = chunks.exclude(embedding_model=endpoint.model, embedding__isnull=False)
    pending = list(chunks.order_by("pk").values_list("pk", flat=True))
    stored = 0
    try:
        for start in range(0, len(pending), BATCH_SIZE):
            rows = list(
                KnowledgeChunk.objects.filter(
                    tenant=tenant, pk__in=pending[start : start + BATCH_SIZE]
                )
                .order_by("pk")
                .values_list("pk", "source__title", "source__keywords", "heading", "text")
            )
            if not rows:
                continue
            vectors = run_on_job_loop(embed(endpoint, [_embedded_text(*row[1:]) for row in rows]))
            # The model that made them, whatever the settings say by now: vectors of a model
            # the tenant has since left are then ignored rather than mixed with the new one's.
            # Chunks deleted meanwhile are simply not updated.
            KnowledgeChunk.objects.filter(tenant=tenant).bulk_update(
                [
                    KnowledgeChunk(
                        pk=row[0], embedding=vector_bytes(vector), embedding_model=endpoint.model
                    )
                    for row, vector in zip(rows, vectors, strict=True)
                ],
                ["embedding", "embedding_model"],
            )
            stored += len(rows)
    except EmbeddingsError as error:
        logger.warning(
            "Embedding chunks of tenant %s stopped after %s of %s: %s",
            tenant.pk,
            stored,
            len(pending),
            error,
        )
        raise
    finally:
        if stored:
            knowledge_changed(tenant.pk)
    return stored


def _embedded_text(title: str, keywords: str, heading: str, text: str) -> str:
    # What the chunk is about, as BM25 indexes it too: the title and heading say it even when
    # the passage does not ("Within 30 days." under "Returns").
    return "\n".join(part for part in (title, keywords, heading, text) if part)


def knowledge_settings_changed(*, tenant: Tenant) -> None:
    """After ``tenant``'s knowledge settings were saved or deleted: every process searches with
    them from its next question, and a job embeds what the (perhaps new) model has no vector
    for."""
    knowledge_changed(tenant.pk)
    if _embeds(tenant):
        jobs.enqueue(tenant_embed, tenant.pk)
