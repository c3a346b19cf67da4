"""Helpers of the embeddings tests (their fixtures are in conftest.py)."""

import numpy as np

from helpdesk.ai.knowledge.models import KnowledgeChunk
from helpdesk.ai.knowledge.vectors import vector_from_bytes
from tests.fakes.llm_server import embedding_vector

MODEL = "text-embedding-3-small"


def stored_vector(chunk: KnowledgeChunk) -> np.ndarray | None:
    """The chunk's vector as the database has it now."""
    chunk.refresh_from_db()
    return None if chunk.embedding is None else vector_from_bytes(chunk.embedding)


def fake_vector(text: str) -> np.ndarray:
    """What the fake server answers for ``text``, as a float32 row."""
    return np.asarray(embedding_vector(text), dtype=np.float32)
