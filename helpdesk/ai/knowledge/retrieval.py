"""Lexical retrieval over a tenant's chunks: ``retrieve(tenant=..., query=...)``.

Each process keeps one BM25 index per tenant, built from the database on first use. Whether it
is still current is told by the tenant's knowledge version, an opaque token in the shared cache
that every chunk write replaces after its transaction commits: all web and worker processes
read the same token, so an edit in one process makes every other rebuild before its next query.
The token is random rather than a counter so that a cache that lost it (a Redis restart, an
eviction) can never hand out an old value again and make a stale index look current.

The index holds terms and chunk ids, not text: hits are read back from the database, filtered
by tenant, so a chunk of another tenant, or one deleted since the index was built, is never
returned even if an index were wrong.
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

from helpdesk.ai.knowledge.lexical import BM25Index, tokenise
from helpdesk.ai.knowledge.models import KnowledgeChunk, KnowledgeSource
from helpdesk.core.asyncdb import db_call
from helpdesk.tenants.models import Tenant

logger = logging.getLogger(__name__)

DEFAULT_K = 5
# Rows read per round trip while an index is built: bounded memory for large tenants.
BUILD_BATCH = 2000


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
    score: float
    position: int  # the chunk's place in its source
    # How much of the question the chunk covers, 0..1 (BM25Index.coverage): comparable between
    # questions, unlike ``score``; what "nothing relevant was found" is decided on.
    relevance: float


@dataclass(frozen=True)
class TenantIndex:
    version: str
    chunk_ids: np.ndarray
    bm25: BM25Index


def build_index(tenant_id: int, version: str) -> TenantIndex:
    """The index of the tenant's chunks of ready sources, as the database has them now."""
    rows = (
        KnowledgeChunk.objects.filter(
            tenant_id=tenant_id, source__state=KnowledgeSource.State.READY
        )
        .order_by("pk")
        .values_list("pk", "source__title", "source__keywords", "heading", "text")
    )
    chunk_ids: list[int] = []

    def documents():
        for pk, title, keywords, heading, text in rows.iterator(chunk_size=BUILD_BATCH):
            chunk_ids.append(pk)
            # The title and heading say what a chunk is about even when its text does not.
            yield tokenise(f"{title}\n{keywords}\n{heading}\n{text}")

    bm25 = BM25Index(documents())
    return TenantIndex(version, np.asarray(chunk_ids, dtype=np.int64), bm25)


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

    Sync ORM and cache; from async code use ``aretrieve``. ``indexes`` is this process's cache
    (tests pass their own to play a second process).
    """
    terms = tokenise(query)
    if not terms or k <= 0:
        return []
    index = indexes.get(tenant.pk)
    ranked = index.bm25.search(terms, k)
    if not ranked:
        return []
    wanted = {
        int(index.chunk_ids[doc]): (score, index.bm25.coverage(terms, doc)) for doc, score in ranked
    }
    # Two lookups by primary key rather than one join: a join's plan depends on table
    # statistics, and right after a large ingest (before autovacuum analyses the table)
    # PostgreSQL was seen scanning every chunk of the tenant for it, 100 ms instead of 1.
    chunks = {
        row["pk"]: row
        for row in KnowledgeChunk.objects.filter(tenant=tenant, pk__in=wanted).values(
            "pk", "source_id", "heading", "text", "position"
        )
    }
    titles = dict(
        KnowledgeSource.objects.filter(
            tenant=tenant,
            pk__in={row["source_id"] for row in chunks.values()},
            state=KnowledgeSource.State.READY,
        ).values_list("pk", "title")
    )
    hits = [
        Hit(
            chunk_id=chunk_id,
            source_id=row["source_id"],
            title=titles[row["source_id"]],
            heading=row["heading"],
            text=row["text"],
            score=score,
            position=row["position"],
            relevance=relevance,
        )
        for chunk_id, (score, relevance) in wanted.items()
        if (row := chunks.get(chunk_id)) is not None and row["source_id"] in titles
    ]
    if len(hits) < len(wanted):
        # Chunks went away, or their source stopped being ready, without a version change
        # (changed outside the services): the index is stale, so have every process rebuild it.
        knowledge_changed(tenant.pk)
    return hits


async def aretrieve(*, tenant: Tenant, query: str, k: int = DEFAULT_K) -> list[Hit]:
    """``retrieve`` for the AI pipeline's event loop: the work runs on the blocking-call pool."""
    return await db_call(retrieve)(tenant=tenant, query=query, k=k)
