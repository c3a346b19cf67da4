"""retrieve(): ranking over stored chunks, strict tenant isolation, and index caches that stay
current across processes (each IndexCache below plays one process's)."""

import threading

import pytest
from django.core.cache import cache
from django.db import transaction
from redis.exceptions import ConnectionError as RedisConnectionError

from helpdesk.ai.knowledge import retrieval
from helpdesk.ai.knowledge.chunking import ChunkDraft, split_text
from helpdesk.ai.knowledge.models import KnowledgeChunk, KnowledgeSource
from helpdesk.ai.knowledge.retrieval import (
    Hit,
    IndexCache,
    aretrieve,
    build_index,
    knowledge_changed,
    knowledge_version,
    retrieve,
)
from helpdesk.ai.knowledge.services import knowledge_settings_changed, source_chunks_replace
from tests.ai.knowledge.bilingual_set import DOCUMENTS, QUESTIONS
from tests.ai.knowledge.embedding_support import MODEL
from tests.conftest import wait_until
from tests.factories import TenantFactory


def add_source(tenant, title, text, *, kind=KnowledgeSource.Kind.FILE, keywords=""):
    source = KnowledgeSource.objects.create(
        tenant=tenant, kind=kind, title=title, keywords=keywords
    )
    source_chunks_replace(tenant=tenant, source=source, drafts=split_text(text))
    return source


def one_chunk(text: str) -> list[ChunkDraft]:
    return [ChunkDraft(position=0, heading="", text=text, token_count=len(text.split()))]


@pytest.fixture
def indexes():
    return IndexCache()


@pytest.mark.django_db
def test_the_best_chunk_comes_first_with_its_source_heading_and_position(tenant, indexes):
    source = add_source(
        tenant,
        "Delivery guide",
        "# Germany\n## Berlin\nDelivery to Berlin takes 1-2 days.\n## Munich\nMunich: 2 days.",
    )
    add_source(tenant, "Payments", "We accept PayPal and Visa.")

    hits = retrieve(tenant=tenant, query="How long to Berlin?", indexes=indexes)

    chunk = KnowledgeChunk.objects.get(source=source, position=0)
    assert hits[0] == Hit(
        chunk_id=chunk.pk,
        source_id=source.pk,
        title="Delivery guide",
        heading="Germany › Berlin",
        text="Delivery to Berlin takes 1-2 days.",
        score=hits[0].score,
        position=0,
        relevance=hits[0].relevance,
    )
    assert hits[0].score > 0
    assert 0.3 < hits[0].relevance <= 1  # "long" is in no chunk
    assert [hit.title for hit in hits] == ["Delivery guide"]  # nothing else shares a term


@pytest.mark.django_db
def test_the_bilingual_set_is_answered_from_stored_chunks(tenant, indexes):
    sources = {name: add_source(tenant, name, text) for name, text in DOCUMENTS.items()}

    firsts = [
        retrieve(tenant=tenant, query=question, k=1, indexes=indexes)[0].source_id
        == sources[expected].pk
        for question, expected in QUESTIONS
    ]

    assert sum(firsts) >= 29  # of 32; see tests/ai/knowledge/test_lexical.py for the misses


@pytest.mark.django_db
def test_title_and_keywords_find_a_chunk_whose_text_lacks_the_words(tenant, indexes):
    source = add_source(tenant, "退货政策", "Within 30 days.", keywords="refund, money back")

    assert [h.source_id for h in retrieve(tenant=tenant, query="退货", indexes=indexes)] == [
        source.pk
    ]
    assert [h.source_id for h in retrieve(tenant=tenant, query="refund", indexes=indexes)] == [
        source.pk
    ]


@pytest.mark.django_db
def test_k_limits_the_hits_and_nothing_matching_is_no_hits(tenant, indexes):
    for i in range(8):
        add_source(tenant, f"Shipping note {i}", f"Shipping rule number {i}.")

    assert len(retrieve(tenant=tenant, query="shipping", k=3, indexes=indexes)) == 3
    assert retrieve(tenant=tenant, query="weather on mars", indexes=indexes) == []
    assert retrieve(tenant=tenant, query="the and of", indexes=indexes) == []  # stop words only
    assert retrieve(tenant=tenant, query="shipping", k=0, indexes=indexes) == []


@pytest.mark.django_db
def test_a_tenant_without_knowledge_gets_no_hits(tenant, indexes):
    assert retrieve(tenant=tenant, query="shipping", indexes=indexes) == []


@pytest.mark.django_db
def test_a_source_being_synced_again_answers_with_its_chunks_a_failed_one_does_not(tenant, indexes):
    source = add_source(tenant, "Shipping", "Shipping takes two days.")
    KnowledgeSource.objects.filter(pk=source.pk).update(state=KnowledgeSource.State.RUNNING)
    knowledge_changed(tenant.pk)

    assert [
        hit.source_id for hit in retrieve(tenant=tenant, query="shipping", indexes=indexes)
    ] == [source.pk]

    KnowledgeSource.objects.filter(pk=source.pk).update(state=KnowledgeSource.State.FAILED)
    knowledge_changed(tenant.pk)

    assert retrieve(tenant=tenant, query="shipping", indexes=indexes) == []


# --- Tenant isolation ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_no_other_tenants_chunk_is_ever_returned(tenant, other_tenant, indexes):
    # The same words in both tenants, and the other tenant's chunks match better.
    for name, text in DOCUMENTS.items():
        add_source(tenant, name, text)
        add_source(other_tenant, name, text + " " + text)
    ours = set(KnowledgeChunk.objects.filter(tenant=tenant).values_list("pk", flat=True))

    for question, _ in QUESTIONS:
        for hit in retrieve(tenant=tenant, query=question, k=50, indexes=indexes):
            assert hit.chunk_id in ours


@pytest.mark.django_db
def test_even_a_wrong_index_cannot_return_another_tenants_chunk(tenant, other_tenant, indexes):
    """Hits are read back from the database filtered by tenant: if a process's cache ever held
    another tenant's index under this tenant's id, it would find nothing rather than leak."""
    add_source(other_tenant, "Secret", "Our secret wholesale discount is 40 percent.")
    wrong = build_index(other_tenant.pk, knowledge_version(tenant.pk))
    indexes._entries[tenant.pk] = wrong

    assert len(wrong.bm25.search(["secret"], k=5)) == 1  # the index itself would match
    assert retrieve(tenant=tenant, query="secret discount", indexes=indexes) == []


# --- Staying current across processes ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_change_in_one_process_is_seen_by_every_other(tenant):
    first, second = IndexCache(), IndexCache()
    source = add_source(tenant, "Shipping", "Delivery to Berlin takes 1-2 days.")
    assert retrieve(tenant=tenant, query="Berlin", indexes=first)
    assert retrieve(tenant=tenant, query="Berlin", indexes=second)
    stale = second.get(tenant.pk)

    # "Process one" rewrites the source; "process two" must not answer from its old index.
    source_chunks_replace(tenant=tenant, source=source, drafts=one_chunk("Hamburg: next day."))

    assert retrieve(tenant=tenant, query="Berlin", indexes=second) == []
    assert [h.text for h in retrieve(tenant=tenant, query="Hamburg", indexes=second)] == [
        "Hamburg: next day."
    ]
    assert second.get(tenant.pk) is not stale
    assert [h.text for h in retrieve(tenant=tenant, query="Hamburg", indexes=first)] == [
        "Hamburg: next day."
    ]


@pytest.mark.django_db(transaction=True)
def test_the_version_changes_only_when_the_write_commits(tenant):
    source = add_source(tenant, "Shipping", "Delivery to Berlin takes 1-2 days.")
    before = knowledge_version(tenant.pk)

    with transaction.atomic():
        source_chunks_replace(tenant=tenant, source=source, drafts=one_chunk("Changed."))
        # Another process building now reads the old chunks: it must keep the old version.
        assert knowledge_version(tenant.pk) == before
    committed = knowledge_version(tenant.pk)

    with transaction.atomic():
        source_chunks_replace(tenant=tenant, source=source, drafts=one_chunk("Rolled back."))
        transaction.set_rollback(True)

    assert committed != before
    assert knowledge_version(tenant.pk) == committed


@pytest.mark.django_db
def test_a_lost_version_never_makes_a_stale_index_current(tenant, indexes):
    add_source(tenant, "Shipping", "Delivery to Berlin takes 1-2 days.")
    old = indexes.get(tenant.pk)

    cache.clear()  # Redis restarted, or the key was evicted

    assert indexes.get(tenant.pk) is not old
    assert indexes.get(tenant.pk).version != old.version


@pytest.mark.django_db
def test_with_the_cache_unreachable_a_process_answers_from_the_index_it_has(
    tenant, indexes, monkeypatch
):
    add_source(tenant, "Shipping", "Delivery to Berlin takes 1-2 days.")
    built = indexes.get(tenant.pk)

    def unreachable(tenant_id):
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr(retrieval, "knowledge_version", unreachable)

    assert indexes.get(tenant.pk) is built
    assert [h.title for h in retrieve(tenant=tenant, query="Berlin", indexes=indexes)] == [
        "Shipping"
    ]


@pytest.mark.django_db(transaction=True)
def test_a_chunk_deleted_behind_the_services_back_is_dropped_and_heals_the_index(tenant):
    indexes = IndexCache()
    source = add_source(tenant, "Shipping", "Delivery to Berlin takes 1-2 days.")
    assert retrieve(tenant=tenant, query="Berlin", indexes=indexes)
    version = knowledge_version(tenant.pk)
    KnowledgeSource.objects.filter(pk=source.pk).delete()  # e.g. from a shell, no version bump

    assert retrieve(tenant=tenant, query="Berlin", indexes=indexes) == []
    assert knowledge_version(tenant.pk) != version


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_queries_build_the_index_once(tenant, monkeypatch):
    add_source(tenant, "Shipping", "Delivery to Berlin takes 1-2 days.")
    indexes = IndexCache()
    builds = []
    real_build = retrieval.build_index

    def counting_build(*args):
        builds.append(args)
        return real_build(*args)

    monkeypatch.setattr(retrieval, "build_index", counting_build)
    results = []
    barrier = threading.Barrier(6)

    def query():
        barrier.wait()
        results.append(retrieve(tenant=tenant, query="Berlin", indexes=indexes))

    threads = [threading.Thread(target=query) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert [len(hits) for hits in results] == [1] * 6
    assert len(builds) == 1


def test_the_cache_keeps_a_bounded_number_of_tenants(db):
    indexes = IndexCache(size=2)
    tenants = [TenantFactory() for _ in range(3)]
    for each in tenants:
        indexes.get(each.pk)

    assert list(indexes._entries) == [tenants[1].pk, tenants[2].pk]


@pytest.mark.django_db(transaction=True)
async def test_aretrieve_runs_from_the_event_loop(tenant):
    from asgiref.sync import sync_to_async

    await sync_to_async(add_source)(tenant, "Shipping", "Delivery to Berlin takes 1-2 days.")

    hits = await aretrieve(tenant=tenant, query="Berlin")

    assert [hit.title for hit in hits] == ["Shipping"]


# --- With an embeddings model (see test_hybrid.py for the ranking) -------------------------------


@pytest.mark.django_db
def test_a_blank_question_is_no_hits_and_builds_nothing(tenant, indexes):
    add_source(tenant, "Shipping", "Delivery to Berlin takes 1-2 days.")

    assert retrieve(tenant=tenant, query=" \n ", indexes=indexes) == []
    assert indexes._entries == {}


@pytest.mark.django_db
def test_a_model_without_vectors_yet_is_searched_lexically_without_a_call(
    tenant, indexes, embeddings_for, fake_llm
):
    add_source(tenant, "Shipping", "Delivery to Berlin takes 1-2 days.")
    embeddings_for(tenant)  # the embedding job has not run (or failed)

    hits = retrieve(tenant=tenant, query="Berlin", indexes=indexes)

    assert [hit.title for hit in hits] == ["Shipping"]
    assert not indexes.get(tenant.pk).hybrid
    assert fake_llm.embedding_requests == []


@pytest.mark.django_db(transaction=True)
def test_saved_settings_reach_every_process_and_their_model_embeds_the_chunks(
    tenant, embeddings_for, fake_llm, in_process
):
    indexes = IndexCache()
    add_source(tenant, "Shipping", "Deliveries arrive within two business days.")
    assert not indexes.get(tenant.pk).hybrid

    embeddings_for(tenant)
    knowledge_settings_changed(tenant=tenant)

    wait_until(lambda: indexes.get(tenant.pk).hybrid)
    assert indexes.get(tenant.pk).embeddings.model == MODEL
    assert [hit.title for hit in retrieve(tenant=tenant, query="delivered?", indexes=indexes)] == [
        "Shipping"
    ]
