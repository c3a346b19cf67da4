"""Articles become chunks: saved, edited, switched off, moved, deleted, reindexed."""

import pytest

from helpdesk.ai.knowledge.chunking import ChunkDraft
from helpdesk.ai.knowledge.models import KnowledgeChunk, KnowledgeSource
from helpdesk.ai.knowledge.retrieval import IndexCache, knowledge_version, retrieve
from helpdesk.ai.knowledge.services import (
    articles_delete,
    articles_index,
    source_chunks_replace,
    tenant_reindex,
)
from helpdesk.ai.models import KnowledgeArticle
from helpdesk.core.errors import NotFound

pytestmark = pytest.mark.django_db(transaction=True)


def article(tenant, question="How long does shipping to Berlin take?", **fields):
    fields.setdefault("answer", "Delivery to Berlin takes 1-2 business days.")
    return KnowledgeArticle.objects.create(tenant=tenant, question=question, **fields)


def found(tenant, query) -> list[str]:
    return [hit.text for hit in retrieve(tenant=tenant, query=query, indexes=IndexCache())]


def test_an_indexed_article_is_a_ready_source_with_its_answers_chunks(tenant):
    shipping = article(tenant, keywords="delivery time, 配送")

    count = articles_index(tenant=tenant, article_ids=[shipping.pk])

    source = KnowledgeSource.objects.get(article=shipping)
    assert (source.tenant, source.kind, source.title, source.keywords) == (
        tenant,
        KnowledgeSource.Kind.ARTICLE,
        "How long does shipping to Berlin take?",
        "delivery time, 配送",
    )
    assert (source.state, source.progress, source.chunk_count, count) == ("ready", 100, 1, 1)
    assert source.indexed_at is not None
    chunk = KnowledgeChunk.objects.get(source=source)
    assert (chunk.tenant, chunk.position, chunk.text) == (tenant, 0, shipping.answer)
    assert chunk.embedding is None
    # Found by the question's words and the keywords, which the answer does not contain.
    assert found(tenant, "shipping") == [shipping.answer]
    assert found(tenant, "配送") == [shipping.answer]


def test_a_long_answer_becomes_several_chunks_in_order(tenant):
    answer = "\n\n".join(f"Rule {i}: " + "parcels are checked twice. " * 30 for i in range(6))
    long_one = article(tenant, answer=answer)

    count = articles_index(tenant=tenant, article_ids=[long_one.pk])

    chunks = list(KnowledgeChunk.objects.filter(source__article=long_one).order_by("position"))
    assert count == len(chunks) > 1
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert all(c.token_count <= 300 for c in chunks)


def test_editing_an_article_replaces_its_chunks(tenant):
    shipping = article(tenant)
    articles_index(tenant=tenant, article_ids=[shipping.pk])
    source_id = KnowledgeSource.objects.get(article=shipping).pk

    shipping.answer = "We now ship to Berlin overnight."
    shipping.save()
    articles_index(tenant=tenant, article_ids=[shipping.pk])

    assert KnowledgeSource.objects.get(article=shipping).pk == source_id
    assert list(KnowledgeChunk.objects.values_list("text", flat=True)) == [shipping.answer]
    assert found(tenant, "overnight") == [shipping.answer]
    assert found(tenant, "business days") == []


def test_an_inactive_article_has_no_chunks_until_it_is_active_again(tenant):
    shipping = article(tenant)
    articles_index(tenant=tenant, article_ids=[shipping.pk])

    KnowledgeArticle.objects.filter(pk=shipping.pk).update(is_active=False)
    articles_index(tenant=tenant, article_ids=[shipping.pk])
    assert not KnowledgeSource.objects.exists()
    assert not KnowledgeChunk.objects.exists()
    assert found(tenant, "Berlin") == []

    KnowledgeArticle.objects.filter(pk=shipping.pk).update(is_active=True)
    articles_index(tenant=tenant, article_ids=[shipping.pk])
    assert found(tenant, "Berlin") == [shipping.answer]


def test_deleting_articles_deletes_their_sources_and_chunks(tenant):
    shipping, returns = article(tenant), article(tenant, "Returns?", answer="Within 30 days.")
    articles_index(tenant=tenant, article_ids=[shipping.pk, returns.pk])
    before = knowledge_version(tenant.pk)

    deleted = articles_delete(tenant=tenant, article_ids=[shipping.pk])

    assert deleted == 1
    assert list(KnowledgeSource.objects.values_list("article", flat=True)) == [returns.pk]
    assert list(KnowledgeChunk.objects.values_list("text", flat=True)) == [returns.answer]
    assert knowledge_version(tenant.pk) != before


def test_other_tenants_articles_are_neither_indexed_nor_deleted(tenant, other_tenant):
    theirs = article(other_tenant)

    assert articles_index(tenant=tenant, article_ids=[theirs.pk]) == 0
    assert articles_delete(tenant=tenant, article_ids=[theirs.pk]) == 0
    assert KnowledgeArticle.objects.filter(pk=theirs.pk).exists()
    assert not KnowledgeSource.objects.exists()


def test_an_article_moved_to_another_tenant_leaves_the_old_tenants_index(tenant, other_tenant):
    shipping = article(tenant)
    articles_index(tenant=tenant, article_ids=[shipping.pk])
    old_version = knowledge_version(tenant.pk)

    shipping.tenant = other_tenant  # a superuser's edit in the admin
    shipping.save()
    articles_index(tenant=other_tenant, article_ids=[shipping.pk])

    assert found(tenant, "Berlin") == []
    assert found(other_tenant, "Berlin") == [shipping.answer]
    assert knowledge_version(tenant.pk) != old_version
    assert set(KnowledgeChunk.objects.values_list("tenant", flat=True)) == {other_tenant.pk}


def test_reindexing_a_tenant_covers_articles_that_never_had_chunks(tenant, other_tenant):
    # bulk_create, as data written before chunks existed: no source, no chunks.
    KnowledgeArticle.objects.bulk_create(
        [
            KnowledgeArticle(tenant=tenant, question="Shipping?", answer="Two days to Berlin."),
            KnowledgeArticle(tenant=tenant, question="退货？", answer="七天无理由退货。"),
            KnowledgeArticle(tenant=tenant, question="Old", answer="Gone.", is_active=False),
            KnowledgeArticle(tenant=other_tenant, question="Theirs", answer="Not ours."),
        ]
    )

    assert tenant_reindex(tenant=tenant) == 2
    assert tenant_reindex(tenant=tenant) == 2  # again: replaced, not added

    assert KnowledgeChunk.objects.filter(tenant=tenant).count() == 2
    assert not KnowledgeChunk.objects.filter(tenant=other_tenant).exists()
    assert found(tenant, "退货") == ["七天无理由退货。"]


def test_a_source_of_another_tenant_is_refused(tenant, other_tenant):
    source = KnowledgeSource.objects.create(
        tenant=other_tenant, kind=KnowledgeSource.Kind.FILE, title="Theirs"
    )

    with pytest.raises(NotFound):
        source_chunks_replace(
            tenant=tenant, source=source, drafts=[ChunkDraft(0, "", "Hijack.", 2)]
        )

    assert not KnowledgeChunk.objects.exists()
