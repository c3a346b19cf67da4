"""Liveness and readiness, for load balancers, Compose and Kubernetes.

``/healthz`` (liveness) answers as long as the process serves HTTP, and asks nothing else: a
failed liveness probe restarts the container, and restarting a web process cures nothing when
PostgreSQL or Redis is down. ``/readyz`` (readiness) asks every service a request needs, so a
process that cannot reach them is taken out of the load balancer until they answer again.

Each check goes through connections the process keeps anyway (the event loop's asyncpg pool,
the channel layer's own Redis connections, the cache's pool), so a probe every few seconds opens
none. The checks run side by side, each given CHECK_TIMEOUT. A failure says which check failed
and the kind of error, never a URL (they may carry passwords); the log has the details.
"""

import asyncio
import logging

import redis.asyncio
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from helpdesk.core import apg
from helpdesk.core.aio import LoopLocal
from helpdesk.core.asyncdb import db_call, off_loop
from helpdesk.core.cache import async_client

logger = logging.getLogger(__name__)

# Seconds each check may take. Kubernetes' probe timeout (deploy/k8s/web.yaml) must be longer.
CHECK_TIMEOUT = 1.5


@require_GET
async def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_GET
async def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database, "channel_layer": _channel_layer, "cache": _cache}
    if settings.CELERY_BROKER_URL:
        checks["broker"] = _broker
    results = await asyncio.gather(*(_run(name, check) for name, check in checks.items()))
    answers = dict(zip(checks, results, strict=True))
    ready = all(answer == "ok" for answer in answers.values())
    return JsonResponse(
        {"status": "ready" if ready else "unavailable", "checks": answers},
        status=200 if ready else 503,
    )


async def _run(name: str, check) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await check()
    except TimeoutError:
        logger.warning("Readiness: %s did not answer within %s s", name, CHECK_TIMEOUT)
        return "failed: timeout"
    except Exception as exc:
        logger.warning("Readiness: %s failed: %r", name, exc)
        return f"failed: {type(exc).__name__}"
    return "ok"


async def _database() -> None:
    if apg.available():
        # Through the loop's own connections: a pooled Django connection is taken in a thread
        # that keeps waiting (DATABASE_POOL_TIMEOUT) after the probe gave up, and a probe every
        # few seconds during an outage would fill the blocking-call pool that requests need.
        await apg.fetchone("SELECT 1", {})
    else:
        await db_call(_select_one)()


def _select_one() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


async def _channel_layer() -> None:
    await get_channel_layer().check()


async def _cache() -> None:
    client = async_client()
    if client is not None:  # the local-memory cache is always there
        await client.ping()


def _make_broker_client(loop) -> redis.asyncio.Redis:
    return redis.asyncio.Redis.from_url(
        settings.CELERY_BROKER_URL,
        max_connections=2,
        socket_connect_timeout=CHECK_TIMEOUT,
        socket_timeout=CHECK_TIMEOUT,
    )


async def _close_broker_client(client: redis.asyncio.Redis) -> None:
    await client.aclose(close_connection_pool=True)


_broker_clients = LoopLocal(_make_broker_client, _close_broker_client)


async def _broker() -> None:
    if settings.CELERY_BROKER_URL.startswith(("redis:", "rediss:")):
        await _broker_clients.get().ping()
    else:
        await off_loop(_connect_to_amqp)()


def _connect_to_amqp() -> None:
    # An AMQP connection per probe: kombu has no cheaper way to ask a RabbitMQ server.
    from kombu import Connection

    with Connection(settings.CELERY_BROKER_URL, connect_timeout=CHECK_TIMEOUT) as broker:
        broker.ensure_connection(max_retries=0)  # connect() retries once, after 2 s
