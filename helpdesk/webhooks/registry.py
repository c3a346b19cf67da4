"""Which tenants have an active webhook for which event, known in memory by every process.

Announcing a domain change (helpdesk/conversations/announcements.py) asks :func:`wants` first,
on the realtime hot path, so it answers from a per-process frozenset of ``(tenant_id, event)``
pairs. The set is reloaded from the database when the webhooks' *generation* in the cache has
moved: saving or deleting a webhook bumps it once the transaction commits (and drops this
process's copy at once). A process looks at the generation at most every
WEBHOOK_ACTIVE_CACHE_SECONDS, so another process hears of a new webhook within that time.
When no tenant has a webhook for an event, announcing it costs one set lookup.
"""

import asyncio
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from helpdesk.conversations.announcements import ConversationChange
from helpdesk.webhooks.events import EVENT_FOR_CHANGE

GENERATION_KEY = "webhooks:active:generation"

_lock = threading.Lock()
_state: dict = {"checked": float("-inf"), "generation": None, "active": frozenset()}


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def active_pairs(*, refresh: bool = True) -> frozenset[tuple[int, str]] | None:
    """The (tenant_id, event) pairs with an active webhook; None when stale and ``refresh`` is
    off (async callers may not wait on the cache or the database)."""
    if time.monotonic() - _state["checked"] < settings.WEBHOOK_ACTIVE_CACHE_SECONDS:
        return _state["active"]
    if not refresh:
        return None
    with _lock:
        generation = cache.get(GENERATION_KEY)
        if generation is None:
            generation = time.time_ns()
            cache.add(GENERATION_KEY, generation, timeout=None)
            generation = cache.get(GENERATION_KEY, generation)
        if generation != _state["generation"]:
            _state["active"] = _load()
            _state["generation"] = generation
        _state["checked"] = time.monotonic()
        return _state["active"]


def _load() -> frozenset[tuple[int, str]]:
    from helpdesk.webhooks.models import Webhook

    pairs = set()
    for tenant_id, events in Webhook.objects.filter(
        is_active=True, tenant__is_active=True
    ).values_list("tenant_id", "events"):
        for event in events or ():
            pairs.add((tenant_id, event))
    return frozenset(pairs)


def wants(change: ConversationChange) -> bool:
    """Whether a webhook of the change's tenant listens to its event (from memory)."""
    event = EVENT_FOR_CHANGE.get(change.change)
    if event is None:
        return False
    pairs = active_pairs(refresh=not _in_event_loop())
    if pairs is None:
        return True  # stale in async code: the handler decides, off the loop
    return (change.tenant_id, event) in pairs


def webhooks_changed() -> None:
    """A webhook was saved or deleted: forget this process's copy now, and tell the others once
    the change is committed."""
    _state["checked"] = float("-inf")
    _state["generation"] = None

    def bump() -> None:
        cache.set(GENERATION_KEY, time.time_ns(), timeout=None)
        _state["checked"] = float("-inf")

    transaction.on_commit(bump, robust=True)
