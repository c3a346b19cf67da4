"""A fake OpenAI-compatible chat-completions server for tests and load tests.

It is a real HTTP server (aiohttp) speaking ``POST /v1/chat/completions`` (non-streaming and
SSE streaming, tool calls, usage), ``POST /v1/embeddings`` (deterministic vectors, see
:func:`embedding_vector`) and ``GET /v1/models``. What it answers is scripted: per
server (:meth:`FakeLLMServer.script`), per message pattern (:meth:`FakeLLMServer.on`), per
request in order (:meth:`FakeLLMServer.enqueue`) or per request through an ``X-Fake-LLM`` JSON
header. Failures are injected the same way: HTTP errors, hangs, garbage, streams cut off midway.

In tests::

    with FakeLLMServer() as server:          # background thread, free port
        server.script(reply="Hi there", ttft=0.05, tokens_per_second=200)
        server.enqueue(fail=429)             # the first request gets a 429, the next the reply
        client = OpenAI(base_url=server.url + "/v1", api_key="test", max_retries=0)
        ...
        assert server.requests[-1].body["stream"] is True

Standalone (load tests)::

    python -m tests.fakes.llm_server --port 9999 --ttft 0.2 --tokens-per-second 50

See tests/fakes/README.md for every behaviour knob and what the openai SDK raises for each failure.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import dataclasses
import hashlib
import itertools
import json
import math
import random
import re
import socket
import struct
import threading
import time
import unicodedata
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

__all__ = [
    "Behaviour",
    "FakeLLMServer",
    "RecordedRequest",
    "count_tokens",
    "default_reply",
    "embedding_vector",
    "tokenize",
    "unused_url",
]

# --------------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------------

_CJK = (
    "\u3000-\u303f"  # CJK punctuation
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uac00-\ud7af"  # hangul syllables
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\uff00-\uffef"  # full-width forms
    "\U00020000-\U0002fa1f"  # CJK extensions B..F, compatibility supplement
)
_TOKEN_RE = re.compile(rf"\s*[{_CJK}]|\s*[^\s{_CJK}]+|\s+")


def tokenize(text: str) -> list[str]:
    """Split text into fake tokens: a word with its leading whitespace, or one CJK character.

    ``"".join(tokenize(text)) == text`` always holds.
    """
    return _TOKEN_RE.findall(text)


def count_tokens(text: str) -> int:
    return len(tokenize(text))


def _content_text(content: Any) -> str:
    """The text of a message's ``content``: a string or a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, str):
                parts.append(part)
        return " ".join(parts)
    return ""


def _last_user_text(body: Mapping[str, Any]) -> str:
    messages = body.get("messages")
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if isinstance(message, Mapping) and message.get("role") == "user":
            return _content_text(message.get("content"))
    return ""


def default_reply(body: Mapping[str, Any]) -> str:
    """The reply when none is scripted: ``"Echo: <last user message>"``."""
    return f"Echo: {_last_user_text(body)}"


def _prompt_tokens(body: Mapping[str, Any]) -> int:
    """Deterministic approximation: tokens of every message's text, +3 per message, +3."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return 0
    total = 3
    for message in messages:
        if isinstance(message, Mapping):
            total += 3 + count_tokens(_content_text(message.get("content")))
    return total


# --------------------------------------------------------------------------------------------
# Embeddings
# --------------------------------------------------------------------------------------------

# What /v1/embeddings answers without a ``dimensions`` in the request (small: tests store them).
DEFAULT_EMBEDDING_DIMENSIONS = 256
MAX_EMBEDDING_DIMENSIONS = 4096
MAX_EMBEDDING_INPUTS = 2048  # OpenAI's limit per request
_WORD_RE = re.compile(r"\w+")
_CJK_RE = re.compile(f"[{_CJK}]")


def embedding_vector(text: str, dimensions: int = DEFAULT_EMBEDDING_DIMENSIONS) -> list[float]:
    """The fake's embedding of ``text``: unit length, the same in every process and run.

    Every character trigram of every lower-cased word (" ship", "shi", "hip", "ipp", ...; in
    CJK text, every pair of characters) adds +1 or -1 to one dimension picked by its hash: the
    "hashing trick". Texts that share words, or only parts of words ("delivered" and
    "deliveries"), point in similar directions; unrelated texts are nearly orthogonal. So a
    test can assert a real ranking, including a paraphrase that lexical search misses.
    """
    features: list[str] = []
    for word in _WORD_RE.findall(unicodedata.normalize("NFKC", text).lower()):
        if _CJK_RE.search(word):
            features.extend(word[i : i + 2] for i in range(len(word) - 1))
            if len(word) == 1:
                features.append(word)
        else:
            padded = f" {word} "
            features.extend(padded[i : i + 3] for i in range(len(padded) - 2))
    if not features:
        # Punctuation only: still a unit vector, and one of its own.
        features.append(text)
    vector = [0.0] * dimensions
    for feature in features:
        digest = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "big")
        vector[digest % dimensions] += 1.0 if digest >> 63 else -1.0
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def _embedding_inputs(body: Mapping[str, Any]) -> list[str] | None:
    """The texts of an embeddings request, or None when ``input`` is not text OpenAI accepts."""
    value = body.get("input")
    texts = [value] if isinstance(value, str) else value
    if not isinstance(texts, list) or not texts or len(texts) > MAX_EMBEDDING_INPUTS:
        return None
    if not all(isinstance(text, str) and text for text in texts):
        return None
    return texts


# --------------------------------------------------------------------------------------------
# Behaviour
# --------------------------------------------------------------------------------------------

_ERROR_DEFAULTS: dict[int, tuple[str, str, str | None]] = {
    400: ("Invalid request.", "invalid_request_error", None),
    401: ("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    403: ("You are not allowed to use this model.", "invalid_request_error", None),
    404: ("The model does not exist.", "invalid_request_error", "model_not_found"),
    408: ("Request timed out.", "server_error", None),
    429: ("Rate limit reached for requests (fake).", "requests", "rate_limit_exceeded"),
    500: ("The server had an error while processing your request.", "server_error", None),
    502: ("Bad gateway.", "server_error", None),
    503: ("The engine is currently overloaded, please try again later.", "server_error", None),
}


@dataclass
class Behaviour:
    """What the server does for one chat-completions or embeddings request. Every field is
    optional; embeddings requests use the fields README.md lists for them and ignore the rest.

    The effective behaviour of a request is these defaults, overridden by the server's script,
    then by the first matching rule, then by the next queued behaviour, then by the request's
    ``X-Fake-LLM`` header (a JSON object of these fields).
    """

    # --- the answer
    reply: str | Callable[[dict], str] | None = None  # None: "Echo: <last user message>"
    tool_call: dict | list[dict] | None = None  # {"name": ..., "arguments": {...} | "json"}
    finish_reason: str | None = None  # override "stop" / "length" / "tool_calls"
    model: str | None = None  # model named in the response; default: the requested one
    # --- timing
    ttft: float = 0.0  # seconds from headers to the first chunk (non-streaming: added latency)
    tokens_per_second: float | None = None  # None or 0: as fast as possible
    slow_headers: float = 0.0  # seconds before the response headers (also before errors)
    # --- injected failures
    fail: int | None = None  # answer with this HTTP status and an OpenAI-style error body
    retry_after: float | None = None  # Retry-After (+ retry-after-ms); 429 defaults to 1 s
    error_message: str | None = None
    error_type: str | None = None
    error_code: str | None = None
    fail_rate: float = 0.0  # probability of failing with `fail_rate_status` (load tests)
    fail_rate_status: int = 503
    hang: bool = False  # read the request, never answer (until the client disconnects)
    hang_after: int | None = None  # stream N tokens, then stall without closing
    garbage: bool | str = False  # True/"json": invalid JSON body / SSE data; "html": HTML page
    cut_off_after: int | None = None  # stream N tokens, then drop the connection (no [DONE])
    cut_off_clean: bool = False  # with cut_off_after: end the body properly, still no [DONE]
    stream_error_after: int | None = None  # stream N tokens, then an SSE `{"error": ...}` event
    # --- self-hosted server emulation
    usage_never: bool = False  # never report usage (vLLM/Ollama-like)
    usage_on_final_chunk: bool = False  # usage on the finish chunk, even without include_usage
    reject_stream_options: bool = False  # 400 when stream_options is present (old llama.cpp)
    no_tools: str | None = None  # "reject": 400 when tools are present; "ignore": ignore them
    require_api_key: str | None = None  # 401 unless "Authorization: Bearer <this>"
    ignore_encoding_format: bool = False  # embeddings: floats even when base64 was asked

    def __post_init__(self) -> None:
        if self.no_tools not in (None, "reject", "ignore"):
            raise ValueError(f"no_tools must be None, 'reject' or 'ignore', not {self.no_tools!r}")
        if self.garbage not in (False, True, "json", "html"):
            raise ValueError(f"garbage must be a bool, 'json' or 'html', not {self.garbage!r}")


_FIELDS = {f.name for f in dataclasses.fields(Behaviour)}


def _check(overrides: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(overrides) - _FIELDS
    if unknown:
        raise TypeError(f"unknown fake LLM behaviour field(s): {', '.join(sorted(unknown))}")
    Behaviour(**overrides)  # validates values
    return dict(overrides)


@dataclass
class RecordedRequest:
    """One request the server received (chat completions, models, or anything else)."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    raw_body: bytes
    body: Any  # parsed JSON, or None
    received_at: float  # time.monotonic()
    behaviour: Behaviour | None = None  # what was done (chat completions and embeddings)

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")

    @property
    def messages(self) -> list:
        return self.body.get("messages", []) if isinstance(self.body, dict) else []

    @property
    def stream(self) -> bool:
        return bool(isinstance(self.body, dict) and self.body.get("stream"))


@dataclass
class _Rule:
    pattern: re.Pattern
    overrides: dict[str, Any]
    times: int | None  # None: unlimited


@dataclass
class _Plan:
    content: list[str]  # content tokens
    tool_calls: list[dict]  # [{"id", "type", "function": {"name", "arguments"}}]
    tool_fragments: list[list[str]]  # argument fragments per tool call
    finish_reason: str
    prompt_tokens: int

    @property
    def completion_tokens(self) -> int:
        return len(self.content) + sum(len(f) + 1 for f in self.tool_fragments)


def _fragments(arguments: str, size: int = 7) -> list[str]:
    return [arguments[i : i + size] for i in range(0, len(arguments), size)] or [""]


def unused_url(host: str = "127.0.0.1") -> str:
    """A URL where (right now) nothing listens: requests to it get "connection refused"."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return f"http://{host}:{sock.getsockname()[1]}"


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class FakeLLMServer:
    """A scripted OpenAI-compatible server. See the module docstring and README.md."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        models: Iterable[str] = ("fake-model", "gpt-4o-mini"),
        max_recorded: int | None = None,
        seed: int | None = 0,
        **script: Any,
    ) -> None:
        self.host = host
        self.port = port
        self.models = list(models)
        self._initial_script = _check(script)
        self._lock = threading.Condition()
        self._script: dict[str, Any] = dict(self._initial_script)
        self._rules: list[_Rule] = []
        self._queue: deque[dict[str, Any]] = deque()
        self._requests: deque[RecordedRequest] = deque(maxlen=max_recorded)
        self._total = 0
        self._active = 0
        self._peak = 0
        self._random = random.Random(seed)
        self._ids = itertools.count(1)
        # event-loop side
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._closing: asyncio.Event | None = None

    # ---------------------------------------------------------------- configuration (any thread)

    def script(self, **overrides: Any) -> FakeLLMServer:
        """Merge behaviour fields into the server-wide script (kept until reset())."""
        checked = _check(overrides)
        with self._lock:
            self._script.update(checked)
        return self

    def enqueue(self, *behaviours: Mapping[str, Any], **overrides: Any) -> FakeLLMServer:
        """Queue one-shot behaviours, consumed in order by the next chat-completions or
        embeddings requests.

        ``enqueue(fail=500)`` queues one; ``enqueue({"fail": 500}, {})`` queues two (a 500, then
        a normal answer). Each is merged over the script and rules.
        """
        items = [_check(b) for b in behaviours]
        if overrides or not behaviours:
            items.append(_check(overrides))
        with self._lock:
            self._queue.extend(items)
        return self

    def on(self, pattern: str, *, times: int | None = None, **overrides: Any) -> FakeLLMServer:
        """Apply ``overrides`` when the last user message matches ``pattern`` (re.search, I)."""
        rule = _Rule(re.compile(pattern, re.IGNORECASE), _check(overrides), times)
        with self._lock:
            self._rules.append(rule)
        return self

    def reset(self) -> FakeLLMServer:
        """Back to the constructor's script; forget rules, queue, recorded requests, counters."""
        with self._lock:
            self._script = dict(self._initial_script)
            self._rules.clear()
            self._queue.clear()
            self._requests.clear()
            self._total = 0
            self._peak = self._active
        return self

    # ---------------------------------------------------------------- observation (any thread)

    @property
    def url(self) -> str:
        """``http://host:port`` (append ``/v1`` for the openai SDK's base_url)."""
        if not self.port:
            raise RuntimeError("the fake LLM server has not been started")
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received (oldest first), including GET /v1/models and unknown paths."""
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    @property
    def embedding_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.rstrip("/").endswith("/embeddings")]

    @property
    def last_request(self) -> RecordedRequest | None:
        with self._lock:
            return self._requests[-1] if self._requests else None

    @property
    def total_requests(self) -> int:
        with self._lock:
            return self._total

    @property
    def active_requests(self) -> int:
        with self._lock:
            return self._active

    @property
    def peak_concurrency(self) -> int:
        with self._lock:
            return self._peak

    @property
    def queued(self) -> int:
        with self._lock:
            return len(self._queue)

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until at least ``count`` requests were recorded since the last reset()."""
        with self._lock:
            if not self._lock.wait_for(lambda: self._total >= count, timeout):
                raise TimeoutError(f"fake LLM got {self._total} requests, expected {count}")
            return list(self._requests)

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "total": self._total,
                "active": self._active,
                "peak": self._peak,
                "queued": len(self._queue),
            }

    # ---------------------------------------------------------------- lifecycle

    def start(self, timeout: float = 10.0) -> FakeLLMServer:
        """Serve from a background thread with its own event loop. Restarts on the same port."""
        if self.running:
            return self
        sock = self._bind()
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._astart(sock))
            except BaseException as exc:
                errors.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self._astop())
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=run, name=f"fake-llm:{self.port}", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError("the fake LLM server did not start")
        if errors:
            self._thread.join()
            self._thread = None
            raise errors[0]
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving: the port then refuses connections. In-flight hangs are released."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        if thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
        self._thread = None
        self._loop = None

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _bind(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
            sock.listen(2048)
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        return sock

    async def _astart(self, sock: socket.socket) -> None:
        self._closing = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/_fake/{action}", self._control)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=0.2
        )
        await self._runner.setup()
        await web.SockSite(self._runner, sock, backlog=2048).start()

    async def _astop(self) -> None:
        if self._closing is not None:
            self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def serve_forever(self, on_ready: Callable[[], object] | None = None) -> None:
        """Serve in the current event loop until cancelled (the standalone mode)."""
        await self._astart(self._bind())
        try:
            if on_ready is not None:
                on_ready()
            await asyncio.Event().wait()
        finally:
            await self._astop()

    # ---------------------------------------------------------------- request handling

    def _resolve(self, text: str, header: str | None) -> Behaviour:
        """The behaviour for a request whose rules match against ``text``."""
        extra: dict[str, Any] = {}
        if header:
            extra = json.loads(header)
            if not isinstance(extra, dict):
                raise ValueError("X-Fake-LLM must be a JSON object")
            extra = _check(extra)
        with self._lock:
            merged = dict(self._script)
            for rule in self._rules:
                if rule.times != 0 and rule.pattern.search(text):
                    merged.update(rule.overrides)
                    if rule.times is not None:
                        rule.times -= 1
                    break
            if self._queue:
                merged.update(self._queue.popleft())
        merged.update(extra)
        return Behaviour(**merged)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            raw_body=raw,
            body=body,
            received_at=time.monotonic(),
        )
        with self._lock:
            self._requests.append(record)
            self._total += 1
            self._active += 1
            self._peak = max(self._peak, self._active)
            self._lock.notify_all()
        try:
            path = request.path.rstrip("/")
            chat = path in ("/v1/chat/completions", "/chat/completions")
            if chat or path in ("/v1/embeddings", "/embeddings"):
                if request.method != "POST":
                    return _error(405, "Method not allowed.", "invalid_request_error")
                if raw and body is None:
                    return _error(400, "We could not parse the JSON body of your request.")
                if not isinstance(body, dict):
                    return _error(400, "The request body must be a JSON object.")
                # Rules match the last user message of a chat, every input of an embedding.
                inputs = _embedding_inputs(body) or []
                text = _last_user_text(body) if chat else "\n".join(inputs)
                try:
                    behaviour = self._resolve(text, request.headers.get("x-fake-llm"))
                except (TypeError, ValueError) as exc:
                    return _error(400, f"Bad X-Fake-LLM header: {exc}")
                record.behaviour = behaviour
                handler = self._chat if chat else self._embeddings
                try:
                    return await handler(request, body, behaviour)
                except _Gone:  # shutting down, or the client left: drop the connection
                    _drop(request)
                    return web.Response(status=503)
            if path in ("/v1/models", "/models") and request.method == "GET":
                return self._models()
            return _error(404, f"Unknown path {request.path}.", code="unknown_url")
        finally:
            with self._lock:
                self._active -= 1

    def _models(self) -> web.Response:
        data = [
            {"id": m, "object": "model", "created": 1700000000, "owned_by": "fake"}
            for m in self.models
        ]
        return web.json_response({"object": "list", "data": data})

    async def _wait_closing(self, request: web.Request, seconds: float | None = None) -> None:
        """Sleep ``seconds`` (None: forever); raise _Gone on shutdown or client disconnect."""
        assert self._closing is not None
        deadline = None if seconds is None else time.monotonic() + seconds
        while not self._closing.is_set():
            transport = request.transport
            if transport is None or transport.is_closing():
                break
            step = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
            if step <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), step)
        raise _Gone

    async def _injected_failure(self, request: web.Request, b: Behaviour) -> web.Response | None:
        """The failure the behaviour asks for before any answer, if any (after its delay)."""
        if b.slow_headers > 0:
            await self._wait_closing(request, b.slow_headers)
        expected_auth = f"Bearer {b.require_api_key}"
        if b.require_api_key is not None and request.headers.get("authorization") != expected_auth:
            message, type_, code = _ERROR_DEFAULTS[401]
            return _error(401, message, type_, code=code)
        if b.hang:
            await self._wait_closing(request)
        if b.fail:
            return self._fail_response(b, b.fail)
        if b.fail_rate > 0:
            with self._lock:
                roll = self._random.random()
            if roll < b.fail_rate:
                return self._fail_response(b, b.fail_rate_status)
        return None

    async def _chat(self, request: web.Request, body: dict, b: Behaviour) -> web.StreamResponse:
        failure = await self._injected_failure(request, b)
        if failure is not None:
            return failure

        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return _error(400, "'messages' must be a non-empty array.", param="messages")
        if not body.get("model"):
            return _error(400, "you must provide a model parameter", param="model")
        stream = bool(body.get("stream"))
        if body.get("stream_options") is not None:
            if b.reject_stream_options:
                return _error(
                    400,
                    "Unrecognized request argument supplied: stream_options",
                    param="stream_options",
                )
            if not stream:
                return _error(
                    400,
                    "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                    param="stream_options",
                )
        tools = body.get("tools") or None
        if tools and b.no_tools == "reject":
            return _error(400, "tools are not supported by this server", param="tools")
        if b.no_tools == "ignore":
            tools = None

        if b.garbage:
            return await self._garbage(request, b, stream)
        plan = self._plan(body, b, tools)
        if stream:
            return await self._stream(request, body, b, plan)
        return await self._complete(request, body, b, plan)

    async def _embeddings(
        self, request: web.Request, body: dict, b: Behaviour
    ) -> web.StreamResponse:
        failure = await self._injected_failure(request, b)
        if failure is not None:
            return failure
        if not body.get("model"):
            return _error(400, "you must provide a model parameter", param="model")
        texts = _embedding_inputs(body)
        if texts is None:
            return _error(
                400,
                f"'input' must be a non-empty string or an array of 1 to "
                f"{MAX_EMBEDDING_INPUTS} non-empty strings (the fake takes no token arrays).",
                param="input",
            )
        dimensions = body.get("dimensions", DEFAULT_EMBEDDING_DIMENSIONS)
        if type(dimensions) is not int or not 1 <= dimensions <= MAX_EMBEDDING_DIMENSIONS:
            return _error(
                400,
                f"'dimensions' must be an integer from 1 to {MAX_EMBEDDING_DIMENSIONS}.",
                param="dimensions",
            )
        encoding = body.get("encoding_format") or "float"
        if encoding not in ("float", "base64"):
            return _error(
                400, "'encoding_format' must be 'float' or 'base64'.", param="encoding_format"
            )
        if b.ignore_encoding_format:
            encoding = "float"
        if b.garbage:
            return await self._garbage(request, b, stream=False)
        if b.ttft > 0:
            await self._wait_closing(request, b.ttft)
        data = []
        for index, text in enumerate(texts):
            vector = embedding_vector(text, dimensions)
            if encoding == "base64":
                # OpenAI's base64 form: the float32 values, little-endian, base64-encoded.
                packed = struct.pack(f"<{dimensions}f", *vector)
                vector = base64.b64encode(packed).decode("ascii")
            data.append({"object": "embedding", "index": index, "embedding": vector})
        tokens = sum(count_tokens(text) for text in texts)
        payload = {
            "object": "list",
            "data": data,
            "model": b.model or body["model"],
            "usage": None if b.usage_never else {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        return await self._json_answer(request, b, payload)

    async def _json_answer(
        self, request: web.Request, b: Behaviour, payload: dict
    ) -> web.StreamResponse:
        """A JSON body, or with ``cut_off_after``: half of it, then the connection dropped."""
        data = json.dumps(payload, ensure_ascii=False).encode()
        if b.cut_off_after is None:
            return web.Response(body=data, content_type="application/json", headers=self._headers())
        response = web.StreamResponse(headers=self._headers())
        response.content_type = "application/json"
        response.content_length = len(data)
        await response.prepare(request)
        await response.write(data[: len(data) // 2])
        _drop(request)
        return response

    def _fail_response(self, b: Behaviour, status: int) -> web.Response:
        message, type_, code = _ERROR_DEFAULTS.get(
            status, (f"Fake error {status}.", "server_error", None)
        )
        headers = {}
        retry_after = b.retry_after
        if retry_after is None and status == 429:
            retry_after = 1.0
        if retry_after is not None:
            headers["retry-after"] = str(max(0, math.ceil(retry_after)))
            headers["retry-after-ms"] = str(int(retry_after * 1000))
        return _error(
            status,
            b.error_message or message,
            b.error_type or type_,
            code=b.error_code or code,
            headers=headers,
        )

    def _plan(self, body: dict, b: Behaviour, tools: Any) -> _Plan:
        tool_calls: list[dict] = []
        if b.tool_call and tools:
            specs = [b.tool_call] if isinstance(b.tool_call, Mapping) else list(b.tool_call)
            for spec in specs:
                arguments = spec.get("arguments", {})
                if not isinstance(arguments, str):
                    arguments = json.dumps(arguments, ensure_ascii=False)
                tool_calls.append(
                    {
                        "id": spec.get("id") or f"call_{uuid.uuid4().hex[:24]}",
                        "type": "function",
                        "function": {"name": spec["name"], "arguments": arguments},
                    }
                )
        if tool_calls:
            # With a tool call the content is empty unless a reply was scripted explicitly.
            text = b.reply(body) if callable(b.reply) else (b.reply or "")
        else:
            text = b.reply(body) if callable(b.reply) else b.reply
            if text is None:
                text = default_reply(body)
        content = tokenize(text)
        finish = "tool_calls" if tool_calls else "stop"
        max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
        if isinstance(max_tokens, int) and max_tokens > 0 and len(content) > max_tokens:
            content = content[:max_tokens]
            tool_calls = []
            finish = "length"
        return _Plan(
            content=content,
            tool_calls=tool_calls,
            tool_fragments=[_fragments(tc["function"]["arguments"]) for tc in tool_calls],
            finish_reason=b.finish_reason or finish,
            prompt_tokens=_prompt_tokens(body),
        )

    def _usage(self, plan: _Plan) -> dict[str, int]:
        completion = plan.completion_tokens
        return {
            "prompt_tokens": plan.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": plan.prompt_tokens + completion,
        }

    def _headers(self) -> dict[str, str]:
        return {"x-request-id": f"req_fake_{next(self._ids)}", "openai-processing-ms": "1"}

    async def _complete(
        self, request: web.Request, body: dict, b: Behaviour, plan: _Plan
    ) -> web.StreamResponse:
        delay = b.ttft
        if b.tokens_per_second:
            delay += max(0, plan.completion_tokens - 1) / b.tokens_per_second
        if delay > 0:
            await self._wait_closing(request, delay)
        if b.hang_after is not None:
            await self._wait_closing(request)
        message: dict[str, Any] = {
            "role": "assistant",
            "content": "".join(plan.content) if (plan.content or not plan.tool_calls) else None,
            "refusal": None,
        }
        if plan.tool_calls:
            message["tool_calls"] = plan.tool_calls
        payload = {
            "id": f"chatcmpl-fake{uuid.uuid4().hex[:20]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": b.model or body.get("model"),
            "system_fingerprint": "fp_fake",
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": plan.finish_reason,
                }
            ],
            "usage": None if b.usage_never else self._usage(plan),
        }
        return await self._json_answer(request, b, payload)

    async def _garbage(
        self, request: web.Request, b: Behaviour, stream: bool
    ) -> web.StreamResponse:
        if b.ttft > 0:
            await self._wait_closing(request, b.ttft)
        if b.garbage == "html":
            html = "<html><body><h1>502 Bad Gateway</h1>nginx</body></html>"
            return web.Response(text=html, content_type="text/html", headers=self._headers())
        if not stream:
            data = '{"id": "chatcmpl-garbage", "object": "chat.completion", "choices": [{"ind'
            return web.Response(text=data, content_type="application/json", headers=self._headers())
        response = await self._start_sse(request)
        await response.write(b"data: {this is not json\n\n")
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def _start_sse(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers=self._headers())
        response.content_type = "text/event-stream"
        response.charset = "utf-8"
        response.headers["Cache-Control"] = "no-cache"
        response.enable_chunked_encoding()
        await response.prepare(request)
        return response

    async def _stream(
        self, request: web.Request, body: dict, b: Behaviour, plan: _Plan
    ) -> web.StreamResponse:
        # An interruption scheduled past the last token happens right before the finish chunk.
        n = len(plan.content) + sum(len(f) + 1 for f in plan.tool_fragments)
        b = dataclasses.replace(
            b,
            cut_off_after=_clamp(b.cut_off_after, n),
            hang_after=_clamp(b.hang_after, n),
            stream_error_after=_clamp(b.stream_error_after, n),
        )
        response = await self._start_sse(request)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        send_usage_chunk = include_usage and not b.usage_never and not b.usage_on_final_chunk
        base = {
            "id": f"chatcmpl-fake{uuid.uuid4().hex[:20]}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": b.model or body.get("model"),
            "system_fingerprint": "fp_fake",
        }

        def chunk(delta: dict, finish: str | None = None, **extra: Any) -> bytes:
            obj = {
                **base,
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
            }
            if include_usage:
                obj["usage"] = None
            obj.update(extra)
            return b"data: " + json.dumps(obj, ensure_ascii=False).encode() + b"\n\n"

        # Like OpenAI: a role chunk (content ""), then one chunk per token. A reply that is only
        # tool calls carries the role on the first tool-call chunk instead. Every entry of
        # `events` is one token for ttft / tokens_per_second / cut_off_after / hang_after.
        prefix = b""
        events: list[bytes] = []
        role_sent = False
        if plan.content or not plan.tool_calls:
            prefix = chunk({"role": "assistant", "content": "", "refusal": None})
            role_sent = True
        for token in plan.content:
            events.append(chunk({"content": token}))
        for index, (call, fragments) in enumerate(
            zip(plan.tool_calls, plan.tool_fragments, strict=True)
        ):
            head: dict[str, Any] = {
                "tool_calls": [
                    {
                        "index": index,
                        "id": call["id"],
                        "type": "function",
                        "function": {"name": call["function"]["name"], "arguments": ""},
                    }
                ]
            }
            if not role_sent:
                head = {"role": "assistant", "content": None, **head, "refusal": None}
                role_sent = True
            events.append(chunk(head))
            for fragment in fragments:
                delta = {"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}
                events.append(chunk(delta))

        try:
            if await self._emit(request, response, b, prefix, events):
                return response
            if self._interrupted(b, len(events)):
                await self._interrupt(request, response, b, len(events))
                return response
            final_extra: dict[str, Any] = {}
            if b.usage_on_final_chunk and not b.usage_never:
                final_extra["usage"] = self._usage(plan)
            await response.write(chunk({}, plan.finish_reason, **final_extra))
            if send_usage_chunk:
                usage_obj = {**base, "choices": [], "usage": self._usage(plan)}
                await response.write(b"data: " + json.dumps(usage_obj).encode() + b"\n\n")
            await response.write(b"data: [DONE]\n\n")
            await response.write_eof()
        except ConnectionError:  # the client went away
            _drop(request)
        return response

    @staticmethod
    def _interrupted(b: Behaviour, i: int) -> bool:
        return i in (b.cut_off_after, b.hang_after, b.stream_error_after)

    async def _emit(
        self,
        request: web.Request,
        response: web.StreamResponse,
        b: Behaviour,
        prefix: bytes,
        events: list[bytes],
    ) -> bool:
        """Write the token events at the scripted pace; True if stopped by an injected failure."""
        loop = asyncio.get_running_loop()
        if b.ttft > 0:
            await self._wait_closing(request, b.ttft)
        if prefix:
            await response.write(prefix)
        start = loop.time()
        interval = 1.0 / b.tokens_per_second if b.tokens_per_second else 0.0
        for i, event in enumerate(events):
            if self._interrupted(b, i):
                await self._interrupt(request, response, b, i)
                return True
            if interval and i:
                delay = start + i * interval - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            await response.write(event)
        return False

    async def _interrupt(
        self, request: web.Request, response: web.StreamResponse, b: Behaviour, i: int
    ) -> None:
        if i == b.cut_off_after:
            if b.cut_off_clean:
                await response.write_eof()  # the body ends properly, just without [DONE]
            else:
                _drop(request)
        elif i == b.hang_after:
            await self._wait_closing(request)
        else:
            error = {
                "error": {
                    "message": b.error_message or "The server had an error mid-stream.",
                    "type": b.error_type or "server_error",
                    "param": None,
                    "code": b.error_code,
                }
            }
            await response.write(b"data: " + json.dumps(error).encode() + b"\n\n")
            await response.write_eof()

    # ---------------------------------------------------------------- remote control

    async def _control(self, request: web.Request) -> web.Response:
        """``/_fake/{script,enqueue,on,reset,stats,requests}`` for a server in another process."""
        action = request.match_info["action"]
        try:
            data = await request.json() if request.can_read_body else {}
        except ValueError:
            return _error(400, "invalid JSON")
        try:
            if action == "script" and request.method == "POST":
                self.script(**data)
            elif action == "enqueue" and request.method == "POST":
                self.enqueue(*(data if isinstance(data, list) else [data]))
            elif action == "on" and request.method == "POST":
                data = dict(data)
                self.on(data.pop("pattern"), times=data.pop("times", None), **data)
            elif action == "reset" and request.method == "POST":
                self.reset()
            elif action == "requests" and request.method == "GET":
                rows = [
                    {
                        "method": r.method,
                        "path": r.path,
                        "headers": r.headers,
                        "body": r.body,
                        "received_at": r.received_at,
                    }
                    for r in self.requests
                ]
                return web.json_response(rows)
            elif action != "stats":
                return _error(404, f"unknown control action {action!r}")
        except (TypeError, ValueError, KeyError) as exc:
            return _error(400, str(exc))
        return web.json_response(self.stats())


def _error(
    status: int,
    message: str,
    type_: str = "invalid_request_error",
    *,
    code: str | None = None,
    param: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return web.json_response(body, status=status, headers=dict(headers or {}))


class _Gone(Exception):
    """The server is shutting down or the client disconnected while a request was waiting."""


def _clamp(value: int | None, upper: int) -> int | None:
    return None if value is None else max(0, min(value, upper))


def _drop(request: web.Request) -> None:
    """Close the connection after what was already written (an unfinished body)."""
    transport = request.transport
    if transport is not None:
        transport.close()


# --------------------------------------------------------------------------------------------
# Standalone
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.llm_server",
        description="Fake OpenAI-compatible chat-completions server (never calls a real API).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9999)
    parser.add_argument("--ttft", type=float, default=0.0, help="seconds to the first token")
    parser.add_argument("--tokens-per-second", type=float, default=None)
    parser.add_argument("--reply", default=None, help="fixed reply (default: 'Echo: <message>')")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="share of failing requests")
    parser.add_argument("--fail-status", type=int, default=503)
    parser.add_argument("--usage-never", action="store_true")
    parser.add_argument("--reject-stream-options", action="store_true")
    parser.add_argument("--no-tools", choices=["reject", "ignore"], default=None)
    parser.add_argument(
        "--handoff-on",
        metavar="REGEX",
        default=None,
        help="answer messages matching REGEX with a handoff_to_human tool call",
    )
    parser.add_argument("--max-recorded", type=int, default=1000)
    args = parser.parse_args(argv)

    script: dict[str, Any] = {
        "ttft": args.ttft,
        "tokens_per_second": args.tokens_per_second,
        "fail_rate": args.fail_rate,
        "fail_rate_status": args.fail_status,
        "usage_never": args.usage_never,
        "reject_stream_options": args.reject_stream_options,
        "no_tools": args.no_tools,
    }
    if args.reply is not None:
        script["reply"] = args.reply
    server = FakeLLMServer(args.host, args.port, max_recorded=args.max_recorded, **script)
    if args.handoff_on:
        server.on(
            args.handoff_on,
            tool_call={"name": "handoff_to_human", "arguments": {"reason": "customer asked"}},
        )

    def ready() -> None:
        print(f"fake LLM listening on {server.base_url}", flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(server.serve_forever(ready))


if __name__ == "__main__":
    main()
