"""The tenant's embeddings endpoint (the real openai SDK against the fake model server), and the
chunks' vectors: stored by a job once chunks are written, only ever for the current model, and
never for another tenant's chunks. An endpoint that fails leaves chunks without vectors, and
nothing raises on the way."""

import logging
import time

import numpy as np
import pytest

from helpdesk.ai.knowledge import embeddings
from helpdesk.ai.knowledge.chunking import ChunkDraft
from helpdesk.ai.knowledge.embeddings import (
    EmbeddingsError,
    embed,
    embed_query,
    endpoint_check,
    endpoint_for,
    tenant_endpoint,
)
from helpdesk.ai.knowledge.models import KnowledgeChunk, KnowledgeSource
from helpdesk.ai.knowledge.retrieval import IndexCache, knowledge_version, retrieve
from helpdesk.ai.knowledge.services import (
    articles_index,
    chunks_embed,
    source_chunks_replace,
    tenant_reindex,
)
from helpdesk.ai.knowledge.tasks_embed import source_embed
from helpdesk.ai.models import KnowledgeArticle
from tests.ai.knowledge.embedding_support import MODEL, fake_vector, stored_vector
from tests.conftest import wait_until
from tests.fakes.llm_server import unused_url


def endpoint(server, **fields):
    values = {"base_url": server.base_url, "api_key": "sk-tenant", "model": MODEL, **fields}
    return endpoint_for(**values)


def article(tenant, question, answer):
    return KnowledgeArticle.objects.create(tenant=tenant, question=question, answer=answer)


def add_source(tenant, title, *texts):
    source = KnowledgeSource.objects.create(
        tenant=tenant, kind=KnowledgeSource.Kind.FILE, title=title
    )
    drafts = [ChunkDraft(i, "", text, len(text.split())) for i, text in enumerate(texts)]
    source_chunks_replace(tenant=tenant, source=source, drafts=drafts)
    return source


# --- The client ----------------------------------------------------------------------------------


async def test_embed_answers_one_row_per_text_in_order_64_texts_a_request(fake_llm):
    texts = [f"Parcel rule number {i}." for i in range(130)]

    vectors = await embed(endpoint(fake_llm), texts)

    assert vectors.shape == (130, 256)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(vectors[0], fake_vector(texts[0]), atol=1e-6)
    np.testing.assert_allclose(vectors[129], fake_vector(texts[129]), atol=1e-6)
    requests = fake_llm.embedding_requests
    assert [len(r.body["input"]) for r in requests] == [64, 64, 2]
    assert {r.body["encoding_format"] for r in requests} == {"base64"}
    assert {r.body["model"] for r in requests} == {MODEL}
    assert {r.authorization for r in requests} == {"Bearer sk-tenant"}


async def test_floats_from_a_server_that_ignores_base64_are_taken_as_well(fake_llm):
    fake_llm.script(ignore_encoding_format=True)

    vectors = await embed(endpoint(fake_llm), ["Deliveries arrive."])

    np.testing.assert_allclose(vectors[0], fake_vector("Deliveries arrive."), atol=1e-6)


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        ({"fail": 401}, "the endpoint failed with HTTP 401: Incorrect API key provided."),
        ({"fail": 404}, "the endpoint failed with HTTP 404: The model does not exist."),
        ({"garbage": True}, "the endpoint sent a malformed answer"),
        ({"garbage": "html"}, "the endpoint answered with something other than embeddings"),
        ({"cut_off_after": 0}, "the endpoint could not be reached"),
    ],
)
async def test_a_failing_endpoint_raises_embeddings_error_saying_what(fake_llm, behaviour, message):
    fake_llm.script(**behaviour)

    with pytest.raises(EmbeddingsError) as raised:
        await embed(endpoint(fake_llm), ["hello"], max_retries=0)

    assert str(raised.value).startswith(message)
    assert "sk-tenant" not in str(raised.value)


async def test_server_errors_are_retried_a_bounded_number_of_times(fake_llm):
    fake_llm.script(fail=503, retry_after=0.01)

    with pytest.raises(EmbeddingsError, match="HTTP 503"):
        await embed(endpoint(fake_llm), ["hello"], max_retries=2)

    assert len(fake_llm.embedding_requests) == 3


async def test_a_server_that_recovers_within_the_retries_answers(fake_llm):
    fake_llm.enqueue({"fail": 429, "retry_after": 0.01}, {})

    vectors = await embed(endpoint(fake_llm), ["hello"], max_retries=2)

    assert vectors.shape == (1, 256)


async def test_nothing_listening_is_an_embeddings_error():
    with pytest.raises(EmbeddingsError, match="could not be reached"):
        await embed(
            endpoint_for(base_url=unused_url() + "/v1", api_key="", model=MODEL),
            ["hello"],
            max_retries=0,
        )


async def test_a_tenants_endpoint_on_an_internal_address_is_refused_unsent(fake_llm, settings):
    settings.AI_ALLOWED_INTERNAL_HOSTS = []

    with pytest.raises(EmbeddingsError, match="^endpoint_refused: "):
        await embed(endpoint(fake_llm), ["hello"])

    assert fake_llm.embedding_requests == []


@pytest.mark.django_db
def test_the_settings_name_the_endpoint_and_the_operators_defaults_fill_the_gaps(
    tenant, fake_llm, settings, embeddings_for
):
    assert tenant_endpoint(tenant.pk) is None  # no settings: lexical only
    embeddings_for(tenant, model="")
    assert tenant_endpoint(tenant.pk) is None  # no model: lexical only

    embeddings_for(tenant, base_url="", api_key="")
    settings.OPENAI_BASE_URL = fake_llm.base_url
    settings.OPENAI_API_KEY = "sk-operator"
    operator = tenant_endpoint(tenant.pk)
    embeddings_for(tenant, api_key="sk-tenant-own")
    own = tenant_endpoint(tenant.pk)

    assert (operator.base_url, operator.api_key, operator.model) == (
        fake_llm.base_url,
        "sk-operator",
        MODEL,
    )
    assert operator.policy is None  # the operator's own endpoint is trusted
    assert (own.base_url, own.api_key) == (fake_llm.base_url, "sk-tenant-own")
    assert "sk-tenant-own" not in repr(own)


def test_endpoint_check_answers_the_vectors_length_or_what_went_wrong(fake_llm):
    assert endpoint_check(endpoint(fake_llm)) == 256

    fake_llm.script(fail=401)
    with pytest.raises(EmbeddingsError, match="HTTP 401"):
        endpoint_check(endpoint(fake_llm))


# --- Questions -----------------------------------------------------------------------------------


async def test_a_questions_vector_is_cached_per_tenant_model_and_text(fake_llm):
    first = await embed_query(tenant_id=1, endpoint=endpoint(fake_llm), text="refund?")
    again = await embed_query(tenant_id=1, endpoint=endpoint(fake_llm), text="refund?")
    await embed_query(tenant_id=2, endpoint=endpoint(fake_llm), text="refund?")
    await embed_query(tenant_id=1, endpoint=endpoint(fake_llm, model="other"), text="refund?")

    np.testing.assert_allclose(first, fake_vector("refund?"), atol=1e-6)
    assert again is first
    assert len(fake_llm.embedding_requests) == 3


async def test_a_failing_question_is_none_and_a_warning_never_an_exception(fake_llm, caplog):
    fake_llm.script(fail=500)

    with caplog.at_level(logging.WARNING, logger="helpdesk.ai.knowledge.embeddings"):
        vector = await embed_query(tenant_id=7, endpoint=endpoint(fake_llm), text="refund?")

    assert vector is None
    assert "tenant 7" in caplog.text
    assert "HTTP 500" in caplog.text
    assert len(fake_llm.embedding_requests) == 1  # no retries on the bot's path


async def test_a_slow_question_gives_up_at_the_query_timeout(fake_llm, monkeypatch):
    monkeypatch.setattr(embeddings, "QUERY_TIMEOUT_SECONDS", 0.3)
    fake_llm.script(slow_headers=5)

    started = time.monotonic()
    vector = await embed_query(tenant_id=7, endpoint=endpoint(fake_llm), text="refund?")

    assert vector is None
    assert time.monotonic() - started < 1.5


async def test_after_repeated_failures_the_breaker_spares_the_endpoint(fake_llm):
    fake_llm.script(fail=503)
    for _ in range(embeddings.BREAKER_THRESHOLD):
        assert await embed_query(tenant_id=7, endpoint=endpoint(fake_llm), text="a?") is None
    fake_llm.reset()

    assert await embed_query(tenant_id=7, endpoint=endpoint(fake_llm), text="b?") is None
    assert fake_llm.embedding_requests == []  # open: not even asked
    # Another tenant's breaker is its own.
    assert await embed_query(tenant_id=8, endpoint=endpoint(fake_llm), text="b?") is not None


# --- Storing the chunks' vectors -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_article_saved_with_a_model_gets_its_vectors_from_a_job(
    tenant, fake_llm, embeddings_for, in_process
):
    embeddings_for(tenant)
    shipping = article(tenant, "How long is shipping?", "Deliveries arrive within two days.")
    articles_index(tenant=tenant, article_ids=[shipping.pk])
    version = knowledge_version(tenant.pk)

    chunk = KnowledgeChunk.objects.get(source__article=shipping)
    wait_until(lambda: stored_vector(chunk) is not None)

    # The title says what the chunk is about, so it is embedded with it.
    expected = fake_vector("How long is shipping?\nDeliveries arrive within two days.")
    np.testing.assert_allclose(stored_vector(chunk), expected, atol=1e-6)
    assert chunk.embedding_model == MODEL
    assert [r.body["input"] for r in fake_llm.embedding_requests] == [
        ["How long is shipping?\nDeliveries arrive within two days."]
    ]
    # Every process then rebuilds its index with the new vectors.
    wait_until(lambda: knowledge_version(tenant.pk) != version)


@pytest.mark.django_db(transaction=True)
def test_replacing_a_sources_chunks_embeds_them_and_keeps_their_page(
    tenant, fake_llm, embeddings_for, in_process
):
    embeddings_for(tenant)
    source = KnowledgeSource.objects.create(
        tenant=tenant, kind=KnowledgeSource.Kind.URL, title="Help", url="https://example.com/"
    )
    drafts = [ChunkDraft(0, "Returns", "Within 30 days.", 3, url="https://example.com/returns")]

    source_chunks_replace(tenant=tenant, source=source, drafts=drafts)

    chunk = KnowledgeChunk.objects.get(source=source)
    assert chunk.url == "https://example.com/returns"
    wait_until(lambda: stored_vector(chunk) is not None)
    np.testing.assert_allclose(
        stored_vector(chunk), fake_vector("Help\nReturns\nWithin 30 days."), atol=1e-6
    )


@pytest.mark.django_db(transaction=True)
def test_without_a_model_there_is_no_job_and_no_call(tenant, fake_llm, embeddings_for, in_process):
    embeddings_for(tenant, model="")

    add_source(tenant, "Shipping", "Deliveries arrive within two days.")

    assert fake_llm.embedding_requests == []
    assert KnowledgeChunk.objects.get().embedding is None


@pytest.mark.django_db(transaction=True)
def test_reindexing_many_articles_is_one_job_that_batches_their_chunks(
    tenant, fake_llm, embeddings_for, in_process
):
    embeddings_for(tenant)
    for i in range(3):
        article(tenant, f"Question {i}?", f"Answer {i}.")

    tenant_reindex(tenant=tenant)

    wait_until(lambda: not KnowledgeChunk.objects.filter(embedding__isnull=True).exists())
    assert [len(r.body["input"]) for r in fake_llm.embedding_requests] == [3]


@pytest.mark.django_db
def test_only_chunks_lacking_a_vector_of_the_current_model_are_embedded(
    tenant, fake_llm, embeddings_for
):
    embeddings_for(tenant)
    add_source(tenant, "Shipping", "Deliveries arrive.", "Parcels are insured.")

    assert chunks_embed(tenant=tenant) == 2
    assert chunks_embed(tenant=tenant) == 0  # safe to run twice
    embeddings_for(tenant, model="text-embedding-3-large")
    assert chunks_embed(tenant=tenant) == 2  # the new model's vectors replace the old
    assert chunks_embed(tenant=tenant, force=True) == 2  # e.g. the endpoint changed

    assert set(KnowledgeChunk.objects.values_list("embedding_model", flat=True)) == {
        "text-embedding-3-large"
    }
    assert [r.body["model"] for r in fake_llm.embedding_requests] == [
        MODEL,
        "text-embedding-3-large",
        "text-embedding-3-large",
    ]


@pytest.mark.django_db
def test_one_source_is_embedded_alone(tenant, fake_llm, embeddings_for):
    embeddings_for(tenant)
    shipping = add_source(tenant, "Shipping", "Deliveries arrive.")
    add_source(tenant, "Payments", "We accept Visa.")

    assert chunks_embed(tenant=tenant, source_id=shipping.pk) == 1

    assert list(
        KnowledgeChunk.objects.filter(embedding__isnull=False).values_list("source", flat=True)
    ) == [shipping.pk]


@pytest.mark.django_db
def test_another_tenants_chunks_are_never_embedded_or_touched(
    tenant, other_tenant, fake_llm, embeddings_for
):
    embeddings_for(tenant)
    theirs = add_source(other_tenant, "Secret", "Wholesale discount is 40 percent.")

    assert chunks_embed(tenant=tenant, source_id=theirs.pk) == 0
    assert chunks_embed(tenant=other_tenant) == 0  # it has no model of its own

    assert KnowledgeChunk.objects.get(source=theirs).embedding is None
    assert fake_llm.embedding_requests == []


@pytest.mark.django_db(transaction=True)
def test_an_endpoint_failing_midway_keeps_what_was_stored(tenant, fake_llm, embeddings_for):
    # Written before the model is set: no job embeds them behind the test's back.
    add_source(tenant, "Rules", *(f"Rule {i}." for i in range(70)))
    embeddings_for(tenant)
    version = knowledge_version(tenant.pk)
    # The first request answers, the second fails, and so do its retries.
    fake_llm.enqueue({}, *({"fail": 500, "retry_after": 0.01},) * 3)

    with pytest.raises(EmbeddingsError, match="HTTP 500"):
        chunks_embed(tenant=tenant)

    assert KnowledgeChunk.objects.filter(embedding__isnull=False).count() == 64
    assert knowledge_version(tenant.pk) != version  # the 64 are searched
    assert chunks_embed(tenant=tenant) == 6  # the next run picks up the rest


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_endpoint_fails_reports_it_and_lexical_search_still_works(
    tenant, fake_llm, embeddings_for, in_process, caplog
):
    embeddings_for(tenant)
    fake_llm.script(fail=500, retry_after=0.01)

    with caplog.at_level(logging.WARNING):
        source = add_source(tenant, "Shipping", "Deliveries arrive within two days.")
        assert source_embed(tenant.pk, source.pk).startswith("failed: the endpoint failed")

    assert "Embedding chunks of tenant" in caplog.text
    assert KnowledgeChunk.objects.get().embedding is None
    hits = retrieve(tenant=tenant, query="deliveries", indexes=IndexCache())
    assert [hit.title for hit in hits] == ["Shipping"]


@pytest.mark.django_db
def test_a_job_for_a_tenant_or_source_that_is_gone_does_nothing(tenant, fake_llm):
    assert source_embed(999_999, 1) == "gone"
    assert source_embed(tenant.pk, 999_999) == "0 embedded"
    assert fake_llm.embedding_requests == []


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_runs_the_embedding_job(tenant, fake_llm, embeddings_for, celery_worker):
    embeddings_for(tenant)

    add_source(tenant, "Shipping", "Deliveries arrive within two days.")

    chunk = KnowledgeChunk.objects.get()
    wait_until(lambda: stored_vector(chunk) is not None, timeout=20)
    assert chunk.embedding_model == MODEL
