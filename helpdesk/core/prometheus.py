"""Prometheus metrics: the metric objects, the multiprocess set-up, and the ``/metrics`` view.

Cheap on the hot path: recording is an increment or an observation in memory (an mmap'd file
in multiprocess mode), never I/O. What needs I/O (the job queue's depth and age) is collected
when Prometheus scrapes, by the process that answers the scrape.

One process (embedded mode, the demo): metrics live in this module's registry.

Several processes (daphne/uvicorn web processes, Celery workers and their pool processes): set
``PROMETHEUS_MULTIPROC_DIR`` to a directory that every process of one machine (one pod) shares,
in the environment of every process, and empty it before the first one starts (an entrypoint's
``rm -rf "$PROMETHEUS_MULTIPROC_DIR"/*``; never while processes are running). Each process
writes its values to its own files there; whichever web process answers ``/metrics`` sums them
all with prometheus_client's MultiProcessCollector. A process that ends is marked dead
(``mark_process_dead``: its live gauges, the open connections, stop counting) at interpreter exit
and, for Celery's pool processes, on ``worker_process_shutdown`` (helpdesk/celery.py). Counters
and histograms of dead processes keep counting until the directory is emptied, as they should.
A process killed outright (SIGKILL, OOM) cannot mark itself: its open-connection gauge stays
until the directory is emptied at the next start.

No tenant, conversation or bot ids as labels: every label here has a small fixed set of values.
"""

import atexit
import contextlib
import hmac
import logging
import os
import time
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

# The variable prometheus_client reads. settings.py mirrors a value from .env into the
# environment; when prometheus_client was imported before that, its value class is chosen again.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str:
    return os.environ.get(MULTIPROC_ENV, "")


_DIR = multiprocess_dir()
if _DIR:
    os.makedirs(_DIR, exist_ok=True)

from prometheus_client import (  # noqa: E402  (after the directory exists)
    CONTENT_TYPE_PLAIN_0_0_4,
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily  # noqa: E402

if _DIR and values.ValueClass is values.MutexValue:
    values.ValueClass = values.get_value_class()
elif not _DIR and values.ValueClass is not values.MutexValue:
    values.ValueClass = values.MutexValue

# Embedded mode: everything registers here (not in prometheus_client's global registry, so a
# re-import in tests cannot collide). Multiprocess mode: metrics are not registered anywhere; the
# scrape reads every process's files.
REGISTRY = CollectorRegistry(auto_describe=True)
_registry = None if _DIR else REGISTRY

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BOT_BUCKETS = (0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 34.0, 60.0, 120.0)
WEBHOOK_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# --- Realtime ------------------------------------------------------------------------------------

OPEN_CONNECTIONS = Gauge(
    "helpdesk_open_connections",
    "Realtime connections open now (long-poll: requests waiting), by transport and side.",
    ["transport", "side"],  # websocket|socketio|longpoll, customer|agent
    multiprocess_mode="livesum",
    registry=_registry,
)
MESSAGES = Counter(
    "helpdesk_messages",
    "Messages stored, by sender type (rate() gives messages per second).",
    ["sender"],  # contact|bot|agent|system
    registry=_registry,
)
DELIVERY_LATENCY = Histogram(
    "helpdesk_message_delivery_seconds",
    "Customer message: from stored (its created_at) to its events handed to the channel layer "
    "(the conversation's and the agents' groups).",
    buckets=LATENCY_BUCKETS,
    registry=_registry,
)
HANDOFFS = Counter(
    "helpdesk_handoffs",
    "Conversations put in the human queue, by reason code (helpdesk/conversations/"
    "handoff_reasons.py; other: a reason without a known code).",
    ["reason"],
    registry=_registry,
)

# --- The bot -------------------------------------------------------------------------------------

BOT_FIRST_TOKEN = Histogram(
    "helpdesk_bot_first_token_seconds",
    "Bot reply: from the start of streaming to its first text shown (time to first token).",
    buckets=BOT_BUCKETS,
    registry=_registry,
)
BOT_REPLY_DURATION = Histogram(
    "helpdesk_bot_reply_seconds",
    "Bot reply: from the start of streaming to its end, by how it ended.",
    ["outcome"],  # complete|interrupted
    buckets=BOT_BUCKETS,
    registry=_registry,
)
BOT_REPLIES = Counter(
    "helpdesk_bot_replies",
    "Bot reply jobs, by outcome.",
    ["outcome"],  # answered|handoff|fallback|interrupted|skipped
    registry=_registry,
)
LLM_ERRORS = Counter(
    "helpdesk_llm_errors",
    "Model calls that failed, by kind (breaker_open: not tried, the circuit breaker is open).",
    ["kind"],
    registry=_registry,
)
BREAKERS_OPEN = Gauge(
    "helpdesk_llm_breakers_open",
    "Circuit breakers open (opened minus closed since the metrics were last reset).",
    multiprocess_mode="sum",
    registry=_registry,
)
BREAKER_TRANSITIONS = Counter(
    "helpdesk_llm_breaker_transitions",
    "Circuit breakers opening and closing.",
    ["state"],  # open|closed
    registry=_registry,
)

# --- Webhooks (recorded by helpdesk/webhooks) ----------------------------------------------------

WEBHOOK_DELIVERIES = Counter(
    "helpdesk_webhook_deliveries",
    "Webhook delivery attempts, by outcome.",
    ["outcome"],  # e.g. success|failure|retry|gave_up|refused
    registry=_registry,
)
WEBHOOK_DURATION = Histogram(
    "helpdesk_webhook_duration_seconds",
    "Webhook delivery attempts: time from request to response (or failure).",
    buckets=WEBHOOK_BUCKETS,
    registry=_registry,
)

_KNOWN_SENDERS = frozenset({"contact", "bot", "agent", "system"})


def message_announced(sender_type: str, stored_at: datetime | None = None) -> None:
    """A message was stored and its events handed to the layer: count it and, for a customer's
    message, how long it took from being stored."""
    sender = str(sender_type)
    MESSAGES.labels(sender if sender in _KNOWN_SENDERS else "other").inc()
    if sender == "contact" and stored_at is not None:
        DELIVERY_LATENCY.observe(max(0.0, time.time() - stored_at.timestamp()))


def count_handoff(reason: str, known_codes: Collection[str]) -> None:
    """Count a handoff by the code part of ``reason`` ("keyword:refund" → "keyword")."""
    code = str(reason).partition(":")[0]
    HANDOFFS.labels(code if code in known_codes else "other").inc()


def count_llm_error(error: BaseException | None) -> None:
    LLM_ERRORS.labels(llm_error_kind(error)).inc()


def llm_error_kind(error: BaseException | None) -> str:
    """A small fixed vocabulary for a failed model call, from the error and what caused it."""
    if error is None:
        return "unknown"
    names = set()
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 5:
        names.update(cls.__name__ for cls in type(current).__mro__)
        current = current.__cause__ or current.__context__
        seen += 1
    if "RefusedAddress" in names or "EndpointRefused" in names:
        return "refused"
    if "APITimeoutError" in names or "TimeoutError" in names or "ReadTimeout" in names:
        return "timeout"
    if "RateLimitError" in names:
        return "rate_limit"
    if "AuthenticationError" in names or "PermissionDeniedError" in names:
        return "auth"
    if "InternalServerError" in names:
        return "server_error"
    if "APIStatusError" in names:
        return "status"
    if "APIConnectionError" in names or "ConnectionError" in names:
        return "connection"
    text = str(error)
    if text.startswith("no complete reply within"):
        return "deadline"
    if "ProviderError" in names:
        return "provider"
    return "internal"


def breaker_opened() -> None:
    BREAKERS_OPEN.inc()
    BREAKER_TRANSITIONS.labels("open").inc()


def breaker_closed() -> None:
    BREAKERS_OPEN.dec()
    BREAKER_TRANSITIONS.labels("closed").inc()


# --- Multiprocess bookkeeping --------------------------------------------------------------------


def mark_process_dead(pid: int | None = None) -> None:
    """Tell the other processes this one is gone (its live gauges stop counting)."""
    if not multiprocess_dir():
        return
    # The directory may have gone first (a test's tmp dir, a shutdown): nothing to do then.
    with contextlib.suppress(Exception):
        multiprocess.mark_process_dead(os.getpid() if pid is None else pid)


if _DIR:
    atexit.register(mark_process_dead)


# --- Collected at scrape time --------------------------------------------------------------------


class JobQueueCollector:
    """The job queue's depth and the age of its oldest job, read when Prometheus scrapes:
    from the Celery broker (Redis) in service mode, from the in-process pool embedded."""

    def collect(self) -> Iterable[Any]:
        depth = GaugeMetricFamily(
            "helpdesk_job_queue_depth", "Jobs waiting to be started, by queue.", labels=["queue"]
        )
        oldest = GaugeMetricFamily(
            "helpdesk_job_queue_oldest_seconds",
            "Age of the oldest job waiting, by queue (0 when none waits; service mode only).",
            labels=["queue"],
        )
        try:
            from helpdesk.core import jobs

            if jobs.uses_broker():
                for queue, length, age in _broker_queues():
                    depth.add_metric([queue], length)
                    if age is not None:
                        oldest.add_metric([queue], age)
            else:
                depth.add_metric(["in_process"], _in_process_depth(jobs))
        except Exception as error:
            # A scrape must answer even when the broker does not: the series are missing.
            logger.warning("Job queue metrics unavailable: %s", error.__class__.__name__)
        yield depth
        yield oldest


def _in_process_depth(jobs) -> int:
    executor = getattr(jobs, "_executor", None)
    queue = getattr(executor, "_work_queue", None)
    return queue.qsize() if queue is not None else 0


_redis_clients: dict[str, Any] = {}

# The header helpdesk/celery.py stamps on every job it publishes (a Unix time).
PUBLISHED_AT_HEADER = "helpdesk_published_at"


def _broker_queues() -> list[tuple[str, int, float | None]]:
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return []
    client = _redis_clients.get(url)
    if client is None:
        import redis

        client = _redis_clients[url] = redis.Redis.from_url(
            url, socket_timeout=1.0, socket_connect_timeout=1.0
        )
    names = _queue_names()
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.llen(name)
        pipe.lindex(name, -1)  # kombu pushes on the left and pops on the right: the oldest
    replies = pipe.execute()
    now = time.time()
    result = []
    for index, name in enumerate(names):
        length, tail = replies[2 * index], replies[2 * index + 1]
        age = 0.0 if not length else _age(tail, now)
        result.append((name, int(length or 0), age))
    return result


def _queue_names() -> list[str]:
    names = [getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")]
    for queue in getattr(settings, "CELERY_TASK_QUEUES", None) or ():
        name = getattr(queue, "name", queue)
        if isinstance(name, str) and name not in names:
            names.append(name)
    return names


def _age(raw: bytes | None, now: float) -> float | None:
    if not raw:
        return None
    import orjson

    try:
        published = orjson.loads(raw).get("headers", {}).get(PUBLISHED_AT_HEADER)
        return max(0.0, now - float(published)) if published is not None else None
    except (ValueError, TypeError, AttributeError):
        return None


_JOB_COLLECTOR = JobQueueCollector()
if not _DIR:
    REGISTRY.register(_JOB_COLLECTOR)
    for _collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
        # The same collectors as prometheus_client's global registry has.
        with contextlib.suppress(ValueError):
            REGISTRY.register(_collector)


def scrape_registry() -> CollectorRegistry:
    """What a scrape reports: this process alone, or every process of the directory."""
    if not multiprocess_dir():
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(_JOB_COLLECTOR)
    return registry


# --- The view ------------------------------------------------------------------------------------


def metrics_view(request: HttpRequest) -> HttpResponse:
    """``GET /metrics``: the text exposition format, for ``Authorization: Bearer
    $METRICS_TOKEN``. Without METRICS_TOKEN set it does not exist (404), in DEBUG too; a wrong
    or missing token is 401. It never answers 500: a failed collection is a 503."""
    token = settings.METRICS_TOKEN
    if not token:
        return HttpResponse("Not found\n", status=404, content_type="text/plain")
    given = request.headers.get("Authorization", "")
    scheme, _sep, credentials = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        credentials.strip().encode(), token.encode()
    ):
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    try:
        body = generate_latest(scrape_registry())
    except Exception:
        logger.exception("Collecting metrics failed")
        return HttpResponse("Metrics unavailable\n", status=503, content_type="text/plain")
    # The classic text format (names are all legacy-valid): every Prometheus version reads it.
    response = HttpResponse(body, content_type=CONTENT_TYPE_PLAIN_0_0_4)
    response["Cache-Control"] = "no-store"
    return response
