"""Redis connections for the cache: one bounded pool per process, and one per event loop.

Django keeps a cache object per async context (its connection handler is not thread-critical),
and each RedisCache object makes its own connection pool. Every WebSocket consumer and every
bot reply is a context of its own, so each opened Redis connections of its own: the 5,000-socket
load test ran Redis into its 10,000-client limit. This pool class hands every cache object of
the process the same pool, which blocks for a free connection instead of opening one more.
"""

import threading

import redis
import redis.asyncio
from django.conf import settings

from helpdesk.core.aio import LoopLocal


class SharedBlockingConnectionPool(redis.BlockingConnectionPool):
    _shared: dict[tuple, "SharedBlockingConnectionPool"] = {}
    _lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **kwargs):
        key = (url, tuple(sorted((name, repr(value)) for name, value in kwargs.items())))
        with cls._lock:
            pool = cls._shared.get(key)
            if pool is None:
                pool = cls._shared[key] = super().from_url(url, **kwargs)
            return pool


def _make_async_client(loop) -> redis.asyncio.Redis:
    options = settings.CACHES["default"].get("OPTIONS", {})
    return redis.asyncio.Redis(
        connection_pool=redis.asyncio.BlockingConnectionPool.from_url(
            settings.CACHES["default"]["LOCATION"],
            max_connections=options.get("max_connections", 64),
            timeout=options.get("timeout", 10),
            socket_timeout=options.get("socket_timeout", 5),
            socket_connect_timeout=options.get("socket_connect_timeout", 5),
        )
    )


async def _close_async_client(client: redis.asyncio.Redis) -> None:
    await client.aclose(close_connection_pool=True)


_async_clients = LoopLocal(_make_async_client, _close_async_client)


def async_client() -> redis.asyncio.Redis | None:
    """The running loop's client of the cache's Redis, or None when the cache is not Redis.

    For counters on the realtime hot path (rate limits, presence), which would otherwise take
    a worker thread per call. Keys must go through ``cache.make_key`` so both ways of reaching
    the cache agree (Django's Redis cache stores integers as plain Redis integers).
    """
    if settings.CACHES["default"]["BACKEND"] != "django.core.cache.backends.redis.RedisCache":
        return None
    return _async_clients.get()
