"""Who is connected, counted across tabs and nodes in the cache."""

from django.core.cache import cache

from helpdesk.core.cache import async_client

# A node that dies without saying goodbye leaves a count behind; it fades after this long.
PRESENCE_TTL = 24 * 3600


def contact_presence_key(tenant_id: int, conversation_id: int) -> str:
    """A customer's connections to one conversation (the widget on several tabs)."""
    return f"t{tenant_id}.c{conversation_id}.contact"


def presence_join(key: str) -> bool:
    """Count a connection in; True when it is the first one (the subject just came online)."""
    if cache.add(f"presence:{key}", 1, timeout=PRESENCE_TTL):
        return True
    try:
        return cache.incr(f"presence:{key}") == 1
    except ValueError:
        return cache.add(f"presence:{key}", 1, timeout=PRESENCE_TTL)


def presence_leave(key: str) -> bool:
    """Count a connection out; True when it was the last one (the subject just went offline)."""
    try:
        remaining = cache.decr(f"presence:{key}")
    except ValueError:
        return True
    if remaining <= 0:
        cache.delete(f"presence:{key}")
        return True
    return False


def is_present(key: str) -> bool:
    return bool(cache.get(f"presence:{key}"))


# DECR, and DEL at zero, in one round trip (a leave is otherwise two).
_LEAVE_SCRIPT = """
local remaining = redis.call('DECR', KEYS[1])
if remaining <= 0 then redis.call('DEL', KEYS[1]) end
return remaining
"""


async def apresence_change(key: str, *, online: bool) -> bool:
    """presence_join (``online``) or presence_leave from the event loop, in one round trip."""
    client = async_client()
    if client is None:
        # The local-memory cache: no I/O, so no reason to leave the loop.
        return presence_join(key) if online else presence_leave(key)
    cache_key = cache.make_key(f"presence:{key}")
    if online:
        pipeline = client.pipeline(transaction=False)
        pipeline.incr(cache_key)
        pipeline.expire(cache_key, PRESENCE_TTL)
        count, _ = await pipeline.execute()
        return count == 1
    return await client.eval(_LEAVE_SCRIPT, 1, cache_key) <= 0
