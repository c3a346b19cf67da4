"""Retrieval over a tenant's chunks: ``retrieve(tenant=..., query=...)``.

Lexical (BM25, lexical.py) always. Hybrid when the tenant has an embeddings model: the question
is embedded (the one network call, embeddings.py), the nearest chunk vectors are found
(vectors.py), and the two rankings' top candidates are fused by reciprocal rank fusion. Each
ranking covers what the other misses: BM25 exact names, numbers and rare words; vectors
paraphrases that share no word with the passage. Should the endpoint fail or be slow, the
question is ranked by BM25 alone, with a warning in the log: the bot never waits more than
``embeddings.QUERY_TIMEOUT_SECONDS`` for it, nor fails because of it.

The vectors sit behind a small interface (``vectors.VectorIndex``): the in-process numpy matrix
used here can be replaced by pgvector where PostgreSQL has that extension. Only vectors made by
the tenant's current model are searched; a tenant that changes model is lexical until its chunks
are embedded again (``manage.py reembed_knowledge``, or the job its settings' save starts).

Each process keeps one index per tenant (BM25 and vectors), built from the database on first
use. Whether it is still current is told by the tenant's knowledge version, an opaque token in
the shared cache that every chunk write replaces after its transaction commits: all web and
worker processes read the same token, so an edit in one process makes every other rebuild
before its next query. The token is random rather than a counter so that a cache that lost it
(a Redis restart, an eviction) can never hand out an old value again and make a stale index
look current.

The index holds terms, vectors and chunk ids, not text: hits are read back from the database,
filtered by tenant, so a chunk of another tenant, or one deleted since the index was built, is
never returned even if an index were wrong.

A hit's ``relevance`` says whether anything relevant was found, on one scale in both modes: the
share of the question's weight the chunk covers (BM25), or, when larger, what its cosine
similarity to the question says (``vectors.cosine_relevance``: 0 up to a cosine of 0.25, 1 from
0.65). So a paraphrase that BM25 misses still counts as relevant, and a question about nothing in
the knowledge scores low either way. Nearest chunks whose cosine says "unrelated" are no
candidates at all: vectors always have nearest neighbours, relevant or not.
"""

import logging
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from django.core.cache import cache
from django.db import transaction
from redis.exceptions import RedisError

from helpdesk.ai.knowledge.embeddings import EmbeddingsEndpoint, embed_query, tenant_endpoint
from helpdesk.ai.knowledge.lexical import BM25Index, query_terms, tokenise
from helpdesk.ai.knowledge.models import KnowledgeChunk, KnowledgeSource
from helpdesk.ai.knowledge.vectors import (
    NumpyVectorIndex,
    VectorIndex,
    cosine_relevance,
    reciprocal_rank_fusion,
)
from helpdesk.core.asyncdb import db_call
from helpdesk.core.loop import run_on_job_loop
from helpdesk.tenants.models import Tenant

logger = logging.getLogger(__name__)

DEFAULT_K = 5
# Rows read per round trip while an index is built: bounded memory for large tenants.
BUILD_BATCH = 2000
# How deep each ranking is read before fusion: a chunk ranked 50th by one and 3rd by the other
# can still make the top five.
FUSION_DEPTH = 50


def _version_key(tenant_id: int) -> str:
    return f"t{tenant_id}.knowledge.version"


def knowledge_version(tenant_id: int) -> str:
    """The tenant's current knowledge version (a new one if the cache has none)."""
    key = _version_key(tenant_id)
    version = cache.get(key)
    if version is None:
        # add(), not set(): of two processes that find it missing, both end up with one value.
        cache.add(key, uuid.uuid4().hex, timeout=None)
        version = cache.get(key)
    return version


def knowledge_changed(tenant_id: int) -> None:
    """Make every process rebuild the tenant's index, once the current transaction commits.

    Not before: a process that rebuilt between the new version and the commit would read the
    old chunks and keep them under the new version.
    """
    transaction.on_commit(
        lambda: cache.set(_version_key(tenant_id), uuid.uuid4().hex, timeout=None), robust=True
    )


@dataclass(frozen=True)
class Hit:
    chunk_id: int
    source_id: int
    title: str  # the source's title (an article's question, a file's name, a page's title)
    heading: str  # where in the source: "Shipping › Berlin", or ""
    text: str
    # What the hits of one question are ordered by: the BM25 score, or in hybrid retrieval the
    # fused reciprocal-rank score. Means nothing across questions.
    score: float
    position: int  # the chunk's place in its source
    # How relevant the chunk is to the question, 0..1: BM25's coverage (BM25Index.coverage) or,
    # when larger, its cosine's (see the module docstring). Comparable between questions,
    # unlike ``score``; what "nothing relevant was found" is decided on.
    relevance: float
    # Where the passage can be read: its web page (a sitemap chunk's own page, or a URL
    # source's); "" for articles and files, which have no public page.
    url: str = ""


@dataclass(frozen=True)
class TenantIndex:
    version: str
    chunk_ids: np.ndarray  # ascending: document n of ``bm25`` is chunk ``chunk_ids[n]``
    bm25: BM25Index
    # The tenant's embeddings endpoint when the index was built, and the vectors its model made
    # (None: lexical only).
    embeddings: EmbeddingsEndpoint | None = None
    vectors: VectorIndex | None = None

    @property
    def hybrid(self) -> bool:
        """Whether a question is worth embedding: there is a model, and vectors of it."""
        return self.embeddings is not None and self.vectors is not None and len(self.vectors) > 0

    def document(self, chunk_id: int) -> int | None:
        """The BM25 document number of a chunk, or None when the index does not hold it."""
        at = int(np.searchsorted(self.chunk_ids, chunk_id))
        return at if at < len(self.chunk_ids) and self.chunk_ids[at] == chunk_id else None


# Sources whose chunks are searched: ready ones, and ones being synced again, whose previous
# chunks answer until the new ones replace them. A failed source's are not: it says it failed.
WEB_KINDS = (KnowledgeSource.Kind.URL, KnowledgeSource.Kind.SITEMAP)

SEARCHED_STATES = (
    KnowledgeSource.State.READY,
    KnowledgeSource.State.QUEUED,
    KnowledgeSource.State.RUNNING,
)


def build_index(tenant_id: int, version: str) -> TenantIndex:
    """The index of the tenant's searched chunks, as the database has them now."""
    embeddings = tenant_endpoint(tenant_id)
    rows = (
        KnowledgeChunk.objects.filter(tenant_id=tenant_id, source__state__in=SEARCHED_STATES)
        .order_by("pk")
        .values_list("pk", "source__title", "source__keywords", "heading", "text")
    )
    chunk_ids: list[int] = []

    def documents():
        for pk, title, keywords, heading, text in rows.iterator(chunk_size=BUILD_BATCH):
            chunk_ids.append(pk)
            # The title and heading say what a chunk is about even when its text does not. The
            # title and keywords keep their stop words, for questions of small talk alone.
            yield tokenise(f"{title}\n{keywords}", keep_stop_words=True) + tokenise(
                f"{heading}\n{text}"
            )

    bm25 = BM25Index(documents())
    vectors = None if embeddings is None else build_vectors(tenant_id, embeddings.model)
    return TenantIndex(version, np.asarray(chunk_ids, dtype=np.int64), bm25, embeddings, vectors)


def build_vectors(tenant_id: int, model: str) -> NumpyVectorIndex:
    """The vectors ``model`` made of the tenant's searched chunks; older models' are left
    out."""
    rows = (
        KnowledgeChunk.objects.filter(
            tenant_id=tenant_id,
            source__state__in=SEARCHED_STATES,
            embedding_model=model,
            embedding__isnull=False,
        )
        .order_by("pk")
        .values_list("pk", "embedding")
    )
    return NumpyVectorIndex.from_rows(rows.iterator(chunk_size=BUILD_BATCH))


class IndexCache:
    """This process's tenant indexes, least recently used first out.

    One build per tenant at a time: requests that arrive while a tenant's index is being built
    wait for it rather than build it again each.
    """

    def __init__(self, size: int = 64):
        self.size = size
        self._entries: OrderedDict[int, TenantIndex] = OrderedDict()
        self._lock = threading.Lock()
        self._build_locks: dict[int, threading.Lock] = {}

    def get(self, tenant_id: int) -> TenantIndex:
        try:
            version = knowledge_version(tenant_id)
        except (RedisError, OSError):
            # The cache is down: an index that may be a little stale beats no answer.
            logger.warning("Knowledge version unreadable for tenant %s", tenant_id, exc_info=True)
            version = None
        with self._lock:
            entry = self._entries.get(tenant_id)
            if entry is not None and (version is None or entry.version == version):
                self._entries.move_to_end(tenant_id)
                return entry
            build_lock = self._build_locks.setdefault(tenant_id, threading.Lock())
        with build_lock:
            with self._lock:
                entry = self._entries.get(tenant_id)
            if entry is None or entry.version != version:
                entry = build_index(tenant_id, version or "")
            with self._lock:
                self._entries[tenant_id] = entry
                self._entries.move_to_end(tenant_id)
                while len(self._entries) > self.size:
                    evicted, _ = self._entries.popitem(last=False)
                    self._build_locks.pop(evicted, None)
        return entry


index_cache = IndexCache()


def retrieve(
    *, tenant: Tenant, query: str, k: int = DEFAULT_K, indexes: IndexCache = index_cache
) -> list[Hit]:
    """The ``k`` chunks of ``tenant``'s knowledge that best match ``query``, best first.

    Sync ORM and cache, and in hybrid mode a wait for the question's vector (from the job loop,
    at most ``embeddings.QUERY_TIMEOUT_SECONDS``); from async code use ``aretrieve``.
    ``indexes`` is this process's cache (tests pass their own to play a second process).
    """
    if k <= 0 or not query.strip():
        return []
    index = indexes.get(tenant.pk)
    vector = None
    if index.hybrid:
        vector = run_on_job_loop(
            embed_query(tenant_id=tenant.pk, endpoint=index.embeddings, text=query)
        )
    return _hits(tenant=tenant, index=index, query=query, vector=vector, k=k)


async def aretrieve(
    *, tenant: Tenant, query: str, k: int = DEFAULT_K, indexes: IndexCache = index_cache
) -> list[Hit]:
    """``retrieve`` for the AI pipeline's event loop: the index and the database on the
    blocking-call pool, the question's embedding awaited on the loop itself."""
    if k <= 0 or not query.strip():
        return []
    index = await db_call(indexes.get)(tenant.pk)
    vector = None
    if index.hybrid:
        vector = await embed_query(tenant_id=tenant.pk, endpoint=index.embeddings, text=query)
    return await db_call(_hits)(tenant=tenant, index=index, query=query, vector=vector, k=k)


def _hits(
    *, tenant: Tenant, index: TenantIndex, query: str, vector: np.ndarray | None, k: int
) -> list[Hit]:
    terms = query_terms(query)
    if vector is None:
        ranked = [
            (int(index.chunk_ids[doc]), score, index.bm25.coverage(terms, doc))
            for doc, score in (index.bm25.search(terms, k) if terms else [])
        ]
    else:
        ranked = _fused(index, terms, vector, k)
    if not ranked:
        return []
    return _read_back(tenant, ranked)


def _fused(
    index: TenantIndex, terms: list[str], vector: np.ndarray, k: int
) -> list[tuple[int, float, float]]:
    """The ``k`` best of both rankings as (chunk id, fused score, relevance)."""
    depth = max(k, FUSION_DEPTH)
    lexical = [int(index.chunk_ids[doc]) for doc, _ in index.bm25.search(terms, depth)]
    dense = {
        chunk_id: cosine
        for chunk_id, cosine in index.vectors.search(vector, depth)
        if cosine_relevance(cosine) > 0
    }
    ranked = []
    for chunk_id, score in reciprocal_rank_fusion([lexical, list(dense)])[:k]:
        doc = index.document(chunk_id)
        coverage = index.bm25.coverage(terms, doc) if doc is not None else 0.0
        relevance = max(coverage, cosine_relevance(dense.get(chunk_id, -1.0)))
        ranked.append((chunk_id, score, relevance))
    return ranked


def _read_back(tenant: Tenant, ranked: list[tuple[int, float, float]]) -> list[Hit]:
    """The ranked chunks as hits, read from the database filtered by tenant, in rank order."""
    wanted = {chunk_id: (score, relevance) for chunk_id, score, relevance in ranked}
    # Two lookups by primary key rather than one join: a join's plan depends on table
    # statistics, and right after a large ingest (before autovacuum analyses the table)
    # PostgreSQL was seen scanning every chunk of the tenant for it, 100 ms instead of 1.
    chunks = {
        row["pk"]: row
        for row in KnowledgeChunk.objects.filter(tenant=tenant, pk__in=wanted).values(
            "pk", "source_id", "heading", "text", "position", "url"
        )
    }
    sources = {
        pk: (title, url if kind in WEB_KINDS else "")
        for pk, title, kind, url in KnowledgeSource.objects.filter(
            tenant=tenant,
            pk__in={row["source_id"] for row in chunks.values()},
            state__in=SEARCHED_STATES,
        ).values_list("pk", "title", "kind", "url")
    }
    hits = [
        Hit(
            chunk_id=chunk_id,
            source_id=row["source_id"],
            title=sources[row["source_id"]][0],
            heading=row["heading"],
            text=row["text"],
            score=score,
            position=row["position"],
            relevance=relevance,
            url=row["url"] or sources[row["source_id"]][1],
        )
        for chunk_id, (score, relevance) in wanted.items()
        if (row := chunks.get(chunk_id)) is not None and row["source_id"] in sources
    ]
    if len(hits) < len(wanted):
        # Chunks went away, or their source stopped being ready, without a version change
        # (changed outside the services): the index is stale, so have every process rebuild it.
        knowledge_changed(tenant.pk)
    return hits
