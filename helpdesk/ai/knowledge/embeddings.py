"""A tenant's embeddings endpoint, through the official ``openai`` SDK: texts in, vectors out.

The tenant's KnowledgeSettings name the endpoint and model; an empty URL or key falls back to the
operator's OPENAI_BASE_URL and OPENAI_API_KEY, as a bot's do, and a URL the tenant typed is
reached only where the address policy allows (helpdesk/ai/sdk_client.py). Calls are bounded
two ways:

* ``embed``, for chunks, from jobs: 64 texts a request, 30 s a request, two retries with the
  SDK's backoff (which honours Retry-After).
* ``embed_query``, for a question, on the bot's path: one text, 2 s in all, no retry, behind a
  circuit breaker (a dead endpoint then costs nothing until its cooldown ends) and cached a few
  minutes. It never raises: ``None`` with a warning, and retrieval ranks lexically.

Vectors are asked for as base64 float32, a quarter of the JSON floats' size and decoded without
parsing; servers that ignore that and answer floats (older Ollama and llama.cpp) work too.
"""

import asyncio
import base64
import binascii
import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
import numpy as np
import openai
from django.conf import settings
from openai import AsyncOpenAI
from redis.exceptions import RedisError

from helpdesk.ai.breaker import CircuitBreaker
from helpdesk.ai.knowledge.models import KnowledgeSettings
from helpdesk.ai.sdk_client import RefusedAddress, describe_error, new_client
from helpdesk.ai.validators import endpoint_policy
from helpdesk.core.aio import LoopLocal
from helpdesk.core.loop import run_on_job_loop
from helpdesk.core.netguard import AddressPolicy

logger = logging.getLogger(__name__)

# OpenAI takes up to 2048 inputs a request, self-hosted servers often far fewer at once; 64 chunks
# of ~300 tokens stay well inside every limit we know and still make a large source few calls.
BATCH_SIZE = 64
JOB_TIMEOUT_SECONDS = 30.0
JOB_MAX_RETRIES = 2
# A question waits this long for its vector before it is answered from BM25 alone.
QUERY_TIMEOUT_SECONDS = 2.0
QUERY_CACHE_SECONDS = 300.0
QUERY_CACHE_SIZE = 1024
BREAKER_THRESHOLD = 3
BREAKER_COOLDOWN_SECONDS = 30
# The settings form's check: a person is waiting on the page.
CHECK_TIMEOUT_SECONDS = 10.0


class EmbeddingsError(Exception):
    """The endpoint failed or answered something that is not one vector per text. The message
    says what, for logs and the admin, and never holds the key."""


@dataclass(frozen=True)
class EmbeddingsEndpoint:
    """Where and with which model a tenant's texts are embedded."""

    base_url: str  # empty: OpenAI
    api_key: str = field(repr=False)
    model: str
    # Where the endpoint may connect; None for the operator's own endpoint.
    policy: AddressPolicy | None


def endpoint_for(*, base_url: str, api_key: str, model: str) -> EmbeddingsEndpoint:
    """The endpoint a tenant's settings (saved or typed) describe, with the operator's defaults."""
    return EmbeddingsEndpoint(
        base_url=base_url or settings.OPENAI_BASE_URL,
        api_key=api_key or settings.OPENAI_API_KEY,
        model=model,
        policy=endpoint_policy(base_url),
    )


def tenant_endpoint(tenant_id: int) -> EmbeddingsEndpoint | None:
    """The tenant's embeddings endpoint, or None when it has no model (lexical search only)."""
    row = KnowledgeSettings.objects.filter(tenant_id=tenant_id).first()
    if row is None or not row.embeddings_model:
        return None
    return endpoint_for(
        base_url=row.embeddings_base_url,
        api_key=row.embeddings_api_key,
        model=row.embeddings_model,
    )


async def _close_clients(clients: dict[tuple, AsyncOpenAI]) -> None:
    for client in clients.values():
        await client.close()


# One client per endpoint, key and bounds on each event loop: the job loop's live with the
# process, a test's go with its loop.
_clients: LoopLocal[dict[tuple, AsyncOpenAI]] = LoopLocal(lambda loop: {}, _close_clients)


def _client(endpoint: EmbeddingsEndpoint, timeout: float, max_retries: int) -> AsyncOpenAI:
    digest = hashlib.sha256(endpoint.api_key.encode()).hexdigest()
    key = (endpoint.base_url, digest, endpoint.policy, timeout, max_retries)
    clients = _clients.get()
    client = clients.get(key)
    if client is None:
        client = clients[key] = new_client(
            base_url=endpoint.base_url,
            api_key=endpoint.api_key,
            timeout=timeout,
            max_retries=max_retries,
            policy=endpoint.policy,
        )
    return client


async def embed(
    endpoint: EmbeddingsEndpoint,
    texts: Sequence[str],
    *,
    timeout: float = JOB_TIMEOUT_SECONDS,
    max_retries: int = JOB_MAX_RETRIES,
) -> np.ndarray:
    """One float32 row per text, in order, ``BATCH_SIZE`` texts a request.

    Raises EmbeddingsError when a request fails past its retries or answers anything but one
    vector of one common length per text.
    """
    client = _client(endpoint, timeout, max_retries)
    rows: list[np.ndarray] = []
    for start in range(0, len(texts), BATCH_SIZE):
        batch = list(texts[start : start + BATCH_SIZE])
        try:
            response = await client.embeddings.create(
                model=endpoint.model, input=batch, encoding_format="base64"
            )
        except RefusedAddress as error:
            raise EmbeddingsError(f"endpoint_refused: {error}") from error
        except openai.APIStatusError as error:
            raise EmbeddingsError(f"{describe_error(error)}: {_server_message(error)}") from error
        except openai.APIError as error:
            raise EmbeddingsError(describe_error(error)) from error
        except (httpx.HTTPError, json.JSONDecodeError, ValueError) as error:
            # The SDK leaves a malformed body unwrapped.
            raise EmbeddingsError(f"the endpoint sent a malformed answer: {error!r}") from error
        rows.append(_vectors(response, len(batch)))
    if not rows:
        return np.zeros((0, 0), dtype=np.float32)
    if len({block.shape[1] for block in rows}) > 1:
        raise EmbeddingsError("the endpoint answered vectors of different lengths")
    return np.concatenate(rows)


def _server_message(error: openai.APIStatusError) -> str:
    body = error.body if isinstance(error.body, dict) else {}
    return str(body.get("message") or error.message)[:300]


def _vectors(response, count: int) -> np.ndarray:
    data = getattr(response, "data", None)
    if not isinstance(data, list):
        # A 200 answer that is not JSON (a proxy's HTML page): the SDK hands it back as a str.
        raise EmbeddingsError("the endpoint answered with something other than embeddings")
    if len(data) != count:
        raise EmbeddingsError(f"the endpoint answered {len(data)} vectors for {count} texts")
    rows: list[np.ndarray | None] = [None] * count
    for item in data:
        index = getattr(item, "index", None)
        if not isinstance(index, int) or not 0 <= index < count or rows[index] is not None:
            raise EmbeddingsError("the endpoint answered vectors with wrong indexes")
        rows[index] = _decode(getattr(item, "embedding", None))
    if len({row.size for row in rows}) != 1 or rows[0].size == 0:
        raise EmbeddingsError("the endpoint answered vectors of different lengths")
    matrix = np.stack(rows)
    if not np.isfinite(matrix).all():
        raise EmbeddingsError("the endpoint answered vectors that are not all numbers")
    return matrix


def _decode(value) -> np.ndarray:
    try:
        if isinstance(value, str):
            raw = base64.b64decode(value, validate=True)
            return np.frombuffer(raw, dtype="<f4").astype(np.float32)
        if isinstance(value, list):
            return np.asarray(value, dtype=np.float32)
    except (binascii.Error, ValueError, TypeError) as error:
        raise EmbeddingsError(f"the endpoint answered a malformed vector: {error}") from error
    raise EmbeddingsError("the endpoint answered a vector that is neither floats nor base64")


def endpoint_check(endpoint: EmbeddingsEndpoint) -> int:
    """Embed one short text now and return the vectors' length; EmbeddingsError says what went
    wrong. For the settings form, from a request's thread."""
    vectors = run_on_job_loop(
        embed(endpoint, ["connection test"], timeout=CHECK_TIMEOUT_SECONDS, max_retries=0)
    )
    return int(vectors.shape[1])


class _QueryVectors:
    """Recent questions' vectors, per tenant, model and text: a customer who asks again, or two
    steps of one reply that both retrieve, cost one call."""

    def __init__(self, size: int, seconds: float):
        self.size = size
        self.seconds = seconds
        self._entries: OrderedDict[tuple, tuple[float, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> np.ndarray | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] < time.monotonic():
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: tuple, vector: np.ndarray) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + self.seconds, vector)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


query_vectors = _QueryVectors(QUERY_CACHE_SIZE, QUERY_CACHE_SECONDS)


async def embed_query(
    *, tenant_id: int, endpoint: EmbeddingsEndpoint, text: str
) -> np.ndarray | None:
    """The vector of a question (a float32 row), or None when the endpoint cannot give it in
    time; never raises, so the bot's path only ever loses the dense half of its ranking."""
    key = (tenant_id, endpoint.base_url, endpoint.model, text)
    cached = query_vectors.get(key)
    if cached is not None:
        return cached
    breaker = CircuitBreaker(
        tenant_id=tenant_id,
        endpoint=f"embeddings {endpoint.base_url} {endpoint.model}",
        threshold=BREAKER_THRESHOLD,
        cooldown=BREAKER_COOLDOWN_SECONDS,
    )
    if not await _breaker_call(breaker.allow, default=True):
        return None
    try:
        async with asyncio.timeout(QUERY_TIMEOUT_SECONDS):
            vectors = await embed(endpoint, [text], timeout=QUERY_TIMEOUT_SECONDS, max_retries=0)
    except (EmbeddingsError, TimeoutError) as error:
        logger.warning(
            "Embeddings endpoint of tenant %s failed for a question, ranking lexically: %s",
            tenant_id,
            str(error) or "timed out",
        )
        await _breaker_call(breaker.record_failure, default=None)
        return None
    await _breaker_call(breaker.record_success, default=None)
    vector = vectors[0]
    query_vectors.put(key, vector)
    return vector


async def _breaker_call(method, *, default):
    # The breaker lives in the cache; with the cache down, calls go through unguarded rather
    # than the question failing.
    try:
        return await method()
    except (RedisError, OSError):
        logger.warning("Embeddings breaker unreadable", exc_info=True)
        return default
