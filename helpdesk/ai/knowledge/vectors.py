"""Dense retrieval's parts: chunk vectors searched by cosine similarity, what a cosine says about
relevance, and reciprocal rank fusion of the dense ranking with BM25's.

``VectorIndex`` is all retrieval.py asks of a vector store. ``NumpyVectorIndex`` keeps a
tenant's vectors in the process as one float32 matrix of L2-normalised rows, so one
matrix-vector product gives every cosine: 10,000 chunks of 384 dimensions are 15 MB and a query
takes about a millisecond (deploy/loadtest/retrieval_bench.py). Where PostgreSQL has the
pgvector extension, an implementation whose ``search`` runs ``ORDER BY embedding <=> %s LIMIT
k`` over the tenant's rows of the current model (an ANN index on a vector column beside
``KnowledgeChunk.embedding``) can take its place without the rest of retrieval changing, and
spares every process its matrix.

Vectors are stored as raw float32 little-endian bytes (``KnowledgeChunk.embedding``).
"""

from collections.abc import Iterable, Sequence
from itertools import zip_longest
from typing import Protocol

import numpy as np

VECTOR_DTYPE = np.dtype("<f4")

# Reciprocal rank fusion's constant (Cormack, Clarke and Büttcher, 2009): large enough that a
# first place in one ranking does not drown agreement between several.
RRF_K = 60

# A cosine at or below COSINE_FLOOR says "unrelated"; at COSINE_FULL and above, "about this".
# Chosen for OpenAI's text-embedding-3 models, where unrelated passages score about 0 to 0.2
# and a question with the passage that answers it about 0.4 to 0.7; a model with a crowded
# space (ada-002, e5: everything above 0.7) needs other values. Between the two, relevance
# rises linearly: a cosine of 0.37 is a relevance of 0.3.
COSINE_FLOOR = 0.25
COSINE_FULL = 0.65


def vector_bytes(vector: np.ndarray) -> bytes:
    """A vector as ``KnowledgeChunk.embedding`` stores it."""
    return np.asarray(vector, dtype=VECTOR_DTYPE).tobytes()


def vector_from_bytes(raw: bytes | memoryview) -> np.ndarray:
    """A stored vector (bytes on SQLite, a memoryview on PostgreSQL), without a copy."""
    return np.frombuffer(raw, dtype=VECTOR_DTYPE)


def cosine_relevance(cosine: float) -> float:
    """A cosine similarity as a relevance of 0..1, comparable with BM25's coverage: 0 up to
    COSINE_FLOOR, 1 from COSINE_FULL, linear between."""
    return min(1.0, max(0.0, (cosine - COSINE_FLOOR) / (COSINE_FULL - COSINE_FLOOR)))


class VectorIndex(Protocol):
    """The vectors of one tenant's chunks, made by one model."""

    def __len__(self) -> int: ...

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` chunks nearest to ``query`` as (chunk id, cosine similarity), nearest
        first; none when the query's length is not the vectors'."""
        ...


class NumpyVectorIndex:
    """A VectorIndex in this process's memory; immutable, so safe to share between threads."""

    def __init__(self, chunk_ids: np.ndarray, matrix: np.ndarray):
        self.chunk_ids = np.asarray(chunk_ids, dtype=np.int64)
        matrix = np.asarray(matrix, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[0] != len(self.chunk_ids):
            raise ValueError("one row of the matrix per chunk id")
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        # A zero vector stays zero (cosine 0 with everything) rather than dividing by zero.
        self.matrix = matrix / np.where(norms == 0, 1, norms)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[int, bytes | memoryview]]) -> "NumpyVectorIndex":
        """The index of (chunk id, stored vector) rows. Rows whose length differs from the
        first row's (the model's dimensions changed under the same name) are left out."""
        ids: list[int] = []
        buffer = bytearray()
        width = None
        for chunk_id, raw in rows:
            size = len(raw)
            if not size or size % VECTOR_DTYPE.itemsize:
                continue
            if width is None:
                width = size
            if size == width:
                ids.append(chunk_id)
                buffer += raw
        dimensions = (width or 0) // VECTOR_DTYPE.itemsize
        matrix = np.frombuffer(buffer, dtype=VECTOR_DTYPE).reshape(len(ids), dimensions)
        return cls(np.asarray(ids, dtype=np.int64), matrix)

    def __len__(self) -> int:
        return len(self.chunk_ids)

    @property
    def dimensions(self) -> int:
        return self.matrix.shape[1]

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        query = np.asarray(query, dtype=np.float32)
        norm = float(np.linalg.norm(query)) if query.ndim == 1 else 0.0
        if not len(self) or k <= 0 or query.shape != (self.dimensions,) or norm == 0:
            return []
        # einsum, not matmul: matmul hands a matrix-vector product to BLAS's thread pool, whose
        # threads sleep between questions and wake slowly on a busy server (p99 15 ms against
        # 1.5 ms on two cores over 10,000 x 384; deploy/loadtest/retrieval_bench.py).
        cosines = np.einsum("ij,j->i", self.matrix, query / norm)
        k = min(k, len(self))
        top = np.argpartition(-cosines, k - 1)[:k]
        # Nearest first; equal cosines in chunk order, so results never depend on the partition.
        top = top[np.lexsort((self.chunk_ids[top], -cosines[top]))]
        return [(int(self.chunk_ids[row]), float(cosines[row])) for row in top]


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]], k: int = RRF_K
) -> list[tuple[int, float]]:
    """Items of several rankings (best first) as one ranking: (item, fused score), best first.

    An item scores the sum of 1 / (k + rank) over the rankings it is in, its rank counted from
    1. Ranks alone count, not the rankings' scores, which are not comparable (BM25's grow with
    the question, cosines stay within -1..1). Equal scores keep the order of a walk down the
    rankings side by side: each ranking's first, then each one's second, and so on.
    """
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    walk: dict[int, int] = {}
    for depth in zip_longest(*rankings):
        for item in depth:
            if item is not None:
                walk.setdefault(item, len(walk))
    return sorted(scores.items(), key=lambda pair: (-pair[1], walk[pair[0]]))
