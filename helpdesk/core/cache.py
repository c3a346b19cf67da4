"""Redis connections for Django's cache: one bounded pool per process.

Django keeps a cache object per async context (its connection handler is not thread-critical),
and each RedisCache object makes its own connection pool. Every WebSocket consumer and every
bot reply is a context of its own, so each opened Redis connections of its own: the 5,000-socket
load test ran Redis into its 10,000-client limit. This pool class hands every cache object of
the process the same pool, which blocks for a free connection instead of opening one more.
"""

import threading

import redis


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
