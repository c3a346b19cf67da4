"""A circuit breaker per tenant and endpoint, shared by every process through the cache.

Closed: calls go through and failures are counted. After ``threshold`` consecutive failures it
opens: no call is made until ``cooldown`` has passed. Then it is half-open: exactly one caller
(across all processes — cache.add is the arbiter) gets to try; success closes the breaker,
failure opens it for another cooldown. A caller that is allowed must record a success or a
failure: an unresolved trial keeps every other caller out for a cooldown.
"""

import hashlib
import time

from django.core.cache import cache

from helpdesk.core import prometheus
from helpdesk.core.asyncdb import off_loop


class CircuitBreaker:
    def __init__(self, *, tenant_id: int, endpoint: str, threshold: int, cooldown: int):
        digest = hashlib.sha256(endpoint.encode()).hexdigest()[:16]
        prefix = f"t{tenant_id}:breaker:{digest}"
        self.failures_key = f"{prefix}:failures"
        self.opened_key = f"{prefix}:opened"
        self.trial_key = f"{prefix}:trial"
        self.threshold = threshold
        self.cooldown = cooldown

    @classmethod
    def for_bot(cls, bot) -> "CircuitBreaker":
        """The breaker of ``bot``'s endpoint: the bot's replies and the agents' assist share it,
        so an endpoint that is down costs neither a wait the other has already paid."""
        return cls(
            tenant_id=bot.tenant_id,
            endpoint=f"{bot.provider}:{bot.base_url}",
            threshold=bot.breaker_failure_threshold,
            cooldown=bot.breaker_cooldown_seconds,
        )

    async def allow(self) -> bool:
        return await off_loop(self._allow)()

    async def record_success(self) -> None:
        await off_loop(self._record_success)()

    async def record_failure(self) -> None:
        await off_loop(self._record_failure)()

    def _allow(self) -> bool:
        opened_at = cache.get(self.opened_key)
        if opened_at is None:
            return True
        if time.time() - opened_at < self.cooldown:
            return False
        # Half-open: one trial call at a time, across all processes.
        return cache.add(self.trial_key, 1, timeout=self.cooldown)

    def _record_success(self) -> None:
        # The opened key's own delete says whether this closed an open breaker (the metric).
        if cache.delete(self.opened_key):
            prometheus.breaker_closed()
        cache.delete_many([self.failures_key, self.trial_key])

    def _record_failure(self) -> None:
        if cache.add(self.failures_key, 1, timeout=None):
            failures = 1
        else:
            try:
                failures = cache.incr(self.failures_key)
            except ValueError:
                cache.set(self.failures_key, 1, timeout=None)
                failures = 1
        half_open_trial_failed = cache.get(self.trial_key) is not None
        if failures >= self.threshold or half_open_trial_failed:
            if not half_open_trial_failed and cache.get(self.opened_key) is None:
                prometheus.breaker_opened()
            cache.set(self.opened_key, time.time(), timeout=None)
            cache.delete(self.trial_key)
