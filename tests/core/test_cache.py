"""The cache's Redis connections: shared by the whole process, however many sockets it holds."""

import asyncio
import contextvars

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from helpdesk.core.asyncdb import off_loop

pytestmark = pytest.mark.services


def redis_clients() -> int:
    return len(redis.Redis.from_url(settings.REDIS_URL).client_list())


async def test_many_sockets_share_the_processs_cache_connections():
    """Each consumer is an async context of its own, and Django keeps a cache object per
    context: without a shared pool, every socket opened a Redis connection of its own."""

    sockets = 300
    ready = asyncio.Semaphore(0)
    counted = asyncio.Event()

    async def one_socket(n: int) -> None:
        await off_loop(cache.set)(f"socket-{n}", n, 30)
        ready.release()
        await counted.wait()  # the socket stays open, its context with it
        await off_loop(cache.delete)(f"socket-{n}")

    before = await asyncio.to_thread(redis_clients)
    loop = asyncio.get_running_loop()
    # A context of its own, like each socket's consumer under daphne.
    tasks = [loop.create_task(one_socket(n), context=contextvars.Context()) for n in range(sockets)]
    for _ in range(sockets):
        await ready.acquire()
    after = await asyncio.to_thread(redis_clients)
    counted.set()
    await asyncio.gather(*tasks)

    # At most the pool's limit (64), or the blocking-call threads (16) that use it.
    assert after - before <= 64
