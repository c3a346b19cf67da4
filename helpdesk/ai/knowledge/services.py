"""Writing a tenant's knowledge chunks. Every chunk write goes through here, so every one of
them changes the tenant's knowledge version (see retrieval.py) and no process keeps a stale index.

Articles are indexed inline, in the transaction that saves them: an article is a few hundred
tokens, split in milliseconds, and the admin then never shows an article whose chunks do not
exist yet. Files and web pages, which can take minutes, will be indexed by jobs that report
their progress on the source row.
"""

from collections.abc import Iterable, Sequence

from django.db import transaction
from django.utils import timezone

from helpdesk.ai.knowledge.chunking import ChunkDraft, split_text
from helpdesk.ai.knowledge.models import KnowledgeChunk, KnowledgeSource
from helpdesk.ai.knowledge.retrieval import knowledge_changed
from helpdesk.ai.models import KnowledgeArticle
from helpdesk.core.errors import NotFound
from helpdesk.tenants.models import Tenant


def source_chunks_replace(
    *, tenant: Tenant, source: KnowledgeSource, drafts: Sequence[ChunkDraft]
) -> None:
    """Replace ``source``'s chunks with ``drafts`` and mark it ready, in one transaction."""
    with transaction.atomic():
        _chunks_replace(tenant=tenant, source=source, drafts=drafts)
        knowledge_changed(tenant.pk)


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
            count += len(drafts)
        knowledge_changed(tenant.pk)
    return count


def articles_set_active(*, tenant: Tenant, article_ids: Iterable[int], active: bool) -> int:
    """Let the bot use these articles of ``tenant``, or stop it; returns how many changed."""
    ids = list(article_ids)
    with transaction.atomic():
        # updated_at by hand: update() skips auto_now, and the FAQ bot's cached index is keyed
        # on it.
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
