"""Fixed-window rate limits kept in the cache (Redis in service mode, so shared by all nodes)."""

import time

from django.conf import settings
from django.core.cache import cache

from helpdesk.core.errors import RateLimited


def rate_limit_hit(scope: str, key: str, rate: tuple[int, int]) -> None:
    """Count one hit for ``key``; raise RateLimited once ``rate`` = (limit, seconds) is passed."""
    limit, window = rate
    now = int(time.time())
    window_start = now - now % window
    cache_key = f"rl:{scope}:{key}:{window_start}"
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


def client_address(forwarded_for: str | None, peer: str | None) -> str:
    """The address per-IP limits count against, the same for every transport.

    Behind a proxy (USE_X_FORWARDED_FOR) it is the last X-Forwarded-For entry, the one our own
    proxy added; the earlier ones are whatever the client claimed.
    """
    if settings.USE_X_FORWARDED_FOR and forwarded_for:
        return forwarded_for.split(",")[-1].strip()
    return peer or "unknown"
