"""Hybrid retrieval: BM25 and the tenant's embeddings fused by reciprocal rank, with the question
embedded by the real openai SDK against the fake model server, whose vectors share directions
when texts share parts of words (tests/fakes/README.md). The endpoint failing costs the dense
half of the ranking, never an answer; and no other tenant's chunk is ever returned."""

import logging
import time

import numpy as np
import pytest
from asgiref.sync import sync_to_async

from helpdesk.ai.knowledge import embeddings
from helpdesk.ai.knowledge.chunking import ChunkDraft
from helpdesk.ai.knowledge.lexical import tokenise
from helpdesk.ai.knowledge.models import KnowledgeChunk, KnowledgeSource
from helpdesk.ai.knowledge.retrieval import (
    IndexCache,
    aretrieve,
    build_index,
    knowledge_version,
    retrieve,
)
from helpdesk.ai.knowledge.services import chunks_embed, source_chunks_replace
from helpdesk.ai.knowledge.vectors import cosine_relevance, vector_bytes
from tests.ai.knowledge.embedding_support import MODEL, fake_vector
from tests.fakes.llm_server import unused_url

DOCUMENTS = {
    "Shipping": "Deliveries arrive within two business days.",
    "Payments": "We accept PayPal and Visa cards.",
    "Returns": "Returns are free within 30 days of purchase.",
}
# Shares no search term with any document ("deliver" is not "delivery" to the stemmer), but most
# of its letters with "Deliveries".
PARAPHRASE = "delivered?"


def add_source(tenant, title, text):
    source = KnowledgeSource.objects.create(
        tenant=tenant, kind=KnowledgeSource.Kind.FILE, title=title
    )
    drafts = [ChunkDraft(0, "", text, len(text.split()))]
    source_chunks_replace(tenant=tenant, source=source, drafts=drafts)
    return source


@pytest.fixture
def knowledge(tenant):
    return {title: add_source(tenant, title, text) for title, text in DOCUMENTS.items()}


@pytest.fixture
def hybrid(tenant, knowledge, embeddings_for, fake_llm):
    """The tenant with an embeddings model and every chunk's vector stored; the fake's
    recorded requests start empty."""
    embeddings_for(tenant)
    chunks_embed(tenant=tenant)
    fake_llm.reset()
    return knowledge


def titles(hits) -> list[str]:
    return [hit.title for hit in hits]


def unit(vector) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def at_cosine(query: np.ndarray, cosine: float, seed: int) -> np.ndarray:
    """A unit vector whose cosine with the unit vector ``query`` is exactly ``cosine``."""
    other = np.random.default_rng(seed).standard_normal(query.shape)
    orthogonal = unit(other - other.dot(query) * query)
    return cosine * query + np.sqrt(1 - cosine**2) * orthogonal


# --- Ranking -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_hybrid_finds_a_paraphrase_that_bm25_misses(tenant, knowledge, embeddings_for):
    assert retrieve(tenant=tenant, query=PARAPHRASE, indexes=IndexCache()) == []

    embeddings_for(tenant)
    chunks_embed(tenant=tenant)
    hits = retrieve(tenant=tenant, query=PARAPHRASE, indexes=IndexCache())

    # The other two documents' cosines say "unrelated": they are no candidates at all.
    assert titles(hits) == ["Shipping"]
    cosine = float(fake_vector(PARAPHRASE) @ fake_vector("Shipping\n" + DOCUMENTS["Shipping"]))
    assert hits[0].relevance == pytest.approx(cosine_relevance(cosine), abs=1e-5)
    assert 0.1 < hits[0].relevance < 0.5
    assert hits[0].score == pytest.approx(1 / 61)


@pytest.mark.django_db
def test_a_question_about_nothing_in_the_knowledge_finds_nothing(tenant, hybrid, fake_llm):
    assert retrieve(tenant=tenant, query="weather on mars", indexes=IndexCache()) == []
    assert len(fake_llm.embedding_requests) == 1  # it was asked, and nothing was near


@pytest.mark.django_db
def test_the_rankings_are_fused_by_reciprocal_rank(tenant, embeddings_for, fake_llm):
    query = "refund policy"
    texts = {
        "A": "Refund policy: refund policy, refund.",  # BM25 first
        "B": "Our refund policy in short, for every order of ours.",  # BM25 second, nearest
        "C": "Money back, no questions asked.",  # no shared word, second nearest vector
        "D": "Refund by bank transfer takes long, very long, very very long indeed.",  # third
        "E": "Opening hours.",  # neither
    }
    sources = {name: add_source(tenant, name, text) for name, text in texts.items()}
    q = fake_vector(query)
    # A vector made to measure for each chunk; the question's own comes from the fake server.
    cosines = {"A": 0.40, "B": 0.60, "C": 0.50, "D": 0.10, "E": 0.20}
    for seed, (name, cosine) in enumerate(cosines.items()):
        KnowledgeChunk.objects.filter(source=sources[name]).update(
            embedding=vector_bytes(at_cosine(q, cosine, seed)), embedding_model=MODEL
        )
    embeddings_for(tenant)

    hits = retrieve(tenant=tenant, query=query, k=10, indexes=IndexCache())

    # BM25: A, B, D. Vectors above the floor: B, C, A (D and E say "unrelated").
    assert titles(hits) == ["B", "A", "C", "D"]
    assert [hit.score for hit in hits] == pytest.approx(
        [1 / 62 + 1 / 61, 1 / 61 + 1 / 63, 1 / 62, 1 / 63]
    )
    relevance = {hit.title: hit.relevance for hit in hits}
    assert relevance["B"] == pytest.approx(1.0)  # BM25: it has every word of the question
    assert relevance["C"] == pytest.approx(cosine_relevance(0.50), abs=1e-5)  # vectors alone
    assert relevance["D"] < 1  # BM25's coverage alone: "policy" is not in it
    assert relevance["D"] > 0
    assert len(retrieve(tenant=tenant, query=query, k=2, indexes=IndexCache())) == 2


@pytest.mark.django_db
def test_a_questions_vector_is_asked_once_then_cached(tenant, hybrid, fake_llm):
    indexes = IndexCache()

    first = retrieve(tenant=tenant, query=PARAPHRASE, indexes=indexes)
    again = retrieve(tenant=tenant, query=PARAPHRASE, indexes=indexes)

    assert first == again
    assert [r.body["input"] for r in fake_llm.embedding_requests] == [[PARAPHRASE]]


@pytest.mark.django_db(transaction=True)
async def test_aretrieve_embeds_the_question_on_the_event_loop(tenant, embeddings_for, fake_llm):
    await sync_to_async(add_source)(tenant, "Shipping", DOCUMENTS["Shipping"])
    await sync_to_async(embeddings_for)(tenant)
    await sync_to_async(chunks_embed)(tenant=tenant)

    hits = await aretrieve(tenant=tenant, query=PARAPHRASE, indexes=IndexCache())

    assert titles(hits) == ["Shipping"]


# --- Failing endpoints ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_endpoint_that_is_down_gives_lexical_results_and_a_warning(
    tenant, hybrid, embeddings_for, caplog
):
    embeddings_for(tenant, base_url=unused_url() + "/v1")  # same model, nothing listening

    with caplog.at_level(logging.WARNING, logger="helpdesk.ai.knowledge.embeddings"):
        hits = retrieve(tenant=tenant, query="Deliveries, please", indexes=IndexCache())
        paraphrase = retrieve(tenant=tenant, query=PARAPHRASE, indexes=IndexCache())

    # BM25's hits with BM25's scores, not fused ones.
    [(doc, score)] = build_index(tenant.pk, "v").bm25.search(tokenise("Deliveries, please"), 5)
    assert [(hit.title, hit.score) for hit in hits] == [("Shipping", score)]
    assert paraphrase == []  # only vectors could have found it
    assert "ranking lexically" in caplog.text


@pytest.mark.django_db
def test_an_endpoint_that_hangs_costs_the_query_timeout_and_no_more(
    tenant, hybrid, fake_llm, monkeypatch
):
    monkeypatch.setattr(embeddings, "QUERY_TIMEOUT_SECONDS", 0.3)
    fake_llm.script(hang=True)

    started = time.monotonic()
    hits = retrieve(tenant=tenant, query="Deliveries, please", indexes=IndexCache())

    assert titles(hits) == ["Shipping"]
    assert time.monotonic() - started < 1.5


@pytest.mark.django_db(transaction=True)
async def test_aretrieve_with_the_endpoint_failing_is_lexical_not_an_exception(
    tenant, embeddings_for, fake_llm
):
    await sync_to_async(add_source)(tenant, "Shipping", DOCUMENTS["Shipping"])
    await sync_to_async(embeddings_for)(tenant)
    await sync_to_async(chunks_embed)(tenant=tenant)
    fake_llm.script(fail=500)

    hits = await aretrieve(tenant=tenant, query="deliveries", indexes=IndexCache())

    assert titles(hits) == ["Shipping"]


# --- Models --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_after_a_model_change_the_old_vectors_are_ignored_until_embedded_again(
    tenant, hybrid, embeddings_for, fake_llm
):
    embeddings_for(tenant, model="text-embedding-3-large")

    index = build_index(tenant.pk, "v2")
    assert len(index.vectors) == 0
    assert not index.hybrid
    # Lexical alone, and the endpoint is not even asked: there is nothing to compare with.
    assert retrieve(tenant=tenant, query=PARAPHRASE, indexes=IndexCache()) == []
    assert fake_llm.embedding_requests == []

    chunks_embed(tenant=tenant)

    assert titles(retrieve(tenant=tenant, query=PARAPHRASE, indexes=IndexCache())) == ["Shipping"]
    assert fake_llm.embedding_requests[-1].body["model"] == "text-embedding-3-large"


@pytest.mark.django_db
def test_only_the_current_models_vectors_are_searched(tenant, hybrid, embeddings_for):
    shipping = KnowledgeChunk.objects.get(source__title="Shipping")
    KnowledgeChunk.objects.filter(pk=shipping.pk).update(embedding_model="old-model")

    index = build_index(tenant.pk, "v2")

    assert sorted(index.vectors.chunk_ids.tolist()) == sorted(
        KnowledgeChunk.objects.exclude(pk=shipping.pk).values_list("pk", flat=True)
    )
    assert retrieve(tenant=tenant, query=PARAPHRASE, indexes=IndexCache()) == []


# --- Tenant isolation ----------------------------------------------------------------------------

QUESTIONS = [PARAPHRASE, "Deliveries?", "paying by card", "returning a purchase", "refund"]


@pytest.fixture
def twins(tenant, other_tenant, embeddings_for):
    """Two tenants with the same texts, so the same vectors; both embedded."""
    for each in (tenant, other_tenant):
        for title, text in DOCUMENTS.items():
            add_source(each, title, text)
        embeddings_for(each)
        chunks_embed(tenant=each)
    return tenant, other_tenant


def own_chunks(tenant) -> set[int]:
    return set(KnowledgeChunk.objects.filter(tenant=tenant).values_list("pk", flat=True))


def hit_ids(tenant, indexes, k=50) -> set[int]:
    return {
        hit.chunk_id
        for question in QUESTIONS
        for hit in retrieve(tenant=tenant, query=question, k=k, indexes=indexes)
    }


@pytest.mark.django_db
def test_twin_tenants_with_warm_indexes_only_ever_get_their_own_chunks(twins):
    tenant, other = twins
    indexes = IndexCache()  # one process, both tenants' indexes warm in it
    for each in (tenant, other, tenant):
        indexes.get(each.pk)

    ours, theirs = hit_ids(tenant, indexes), hit_ids(other, indexes)

    assert ours
    assert theirs
    assert ours <= own_chunks(tenant)
    assert theirs <= own_chunks(other)
    # The same vectors in both: each tenant's index holds its own chunks only.
    assert set(indexes.get(tenant.pk).vectors.chunk_ids.tolist()) == own_chunks(tenant)
    assert set(indexes.get(other.pk).vectors.chunk_ids.tolist()) == own_chunks(other)


@pytest.mark.django_db(transaction=True)
def test_rows_deleted_or_moved_behind_the_indexs_back_never_leak(twins):
    tenant, other = twins
    indexes = IndexCache()
    hit_ids(tenant, indexes)
    hit_ids(other, indexes)
    version = knowledge_version(tenant.pk)
    # Behind the services' back, no version change: one of our chunks is deleted, and one is
    # handed to the other tenant (a bad migration, a shell session).
    deleted = KnowledgeChunk.objects.get(tenant=tenant, source__title="Returns")
    moved = KnowledgeChunk.objects.get(tenant=tenant, source__title="Shipping")
    KnowledgeChunk.objects.filter(pk=deleted.pk).delete()
    KnowledgeChunk.objects.filter(pk=moved.pk).update(tenant=other)

    ours = {
        hit.chunk_id
        for question in QUESTIONS
        for hit in retrieve(tenant=tenant, query=question, k=50, indexes=indexes)
    }

    assert deleted.pk not in ours
    assert moved.pk not in ours
    assert ours <= own_chunks(tenant)
    assert hit_ids(other, indexes) <= own_chunks(other) - {moved.pk}
    # And the stale index is rebuilt everywhere.
    assert knowledge_version(tenant.pk) != version


@pytest.mark.django_db
def test_even_another_tenants_index_under_our_id_returns_nothing_of_theirs(twins, fake_llm):
    tenant, other = twins
    indexes = IndexCache()
    indexes._entries[tenant.pk] = build_index(other.pk, knowledge_version(tenant.pk))

    # Its vectors would match: the same texts.
    wrong = indexes.get(tenant.pk)
    assert wrong.vectors.search(fake_vector(PARAPHRASE), 5)
    assert hit_ids(tenant, indexes) == set()
