"""Fixed-window rate limits kept in the cache (Redis in service mode, so shared by all nodes)."""

import time

from django.conf import settings
from django.core.cache import cache

from helpdesk.core.cache import async_client
from helpdesk.core.errors import RateLimited


def rate_limit_hit(scope: str, key: str, rate: tuple[int, int]) -> None:
    """Count one hit for ``key``; raise RateLimited once ``rate`` = (limit, seconds) is passed."""
    limit, window = rate
    now = int(time.time())
    window_start = now - now % window
    cache_key = _counter_key(scope, key, window_start)
    # add() then incr() is atomic on Redis and within one process on the local-memory cache.
    if cache.add(cache_key, 1, timeout=window + 1):
        count = 1
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add() and incr()
            cache.add(cache_key, 1, timeout=window + 1)
            count = 1
    if count > limit:
        raise RateLimited(retry_after=max(1, window_start + window - now))


def _counter_key(scope: str, key: str, window_start: int) -> str:
    return f"rl:{scope}:{key}:{window_start}"


def client_address(forwarded_for: str | None, peer: str | None) -> str:
    """The address per-IP limits count against, the same for every transport.

    Behind a proxy (USE_X_FORWARDED_FOR) it is the last X-Forwarded-For entry, the one our own
    proxy added; the earlier ones are whatever the client claimed.
    """
    if settings.USE_X_FORWARDED_FOR and forwarded_for:
        return forwarded_for.split(",")[-1].strip()
    return peer or "unknown"


async def arate_limit_hits(*hits: tuple[str, str, tuple[int, int]]) -> None:
    """Count one hit for each ``(scope, key, rate)``, all in one round trip to Redis; raise
    RateLimited for the first one past its rate. The same counters as rate_limit_hit()."""
    client = async_client()
    if client is None:
        # The local-memory cache: no I/O, so no reason to leave the loop.
        for scope, key, rate in hits:
            rate_limit_hit(scope, key, rate)
        return
    now = int(time.time())
    pipeline = client.pipeline(transaction=False)
    windows = []
    for scope, key, (limit, window) in hits:
        window_start = now - now % window
        cache_key = cache.make_key(_counter_key(scope, key, window_start))
        pipeline.incr(cache_key)
        pipeline.expire(cache_key, window + 1, nx=True)
        windows.append((limit, window, window_start))
    counts = (await pipeline.execute())[::2]
    for (limit, window, window_start), count in zip(windows, counts, strict=True):
        if count > limit:
            raise RateLimited(retry_after=max(1, window_start + window - now))
