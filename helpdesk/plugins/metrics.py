"""Counters of plugin failures, per process: what was isolated, where, and why.

Each failure is logged where it happens; these counts are for tests, a metrics endpoint or a
health check. ``reason`` is one of: ``import``, ``setup``, ``teardown``, ``error``, ``timeout``,
``invalid_result``, ``missing`` (a configured plugin that is not installed).
"""

import threading
from collections import Counter

_lock = threading.Lock()
_failures: Counter[tuple[str, str, str]] = Counter()


def record_failure(plugin_id: str, hook: str, reason: str) -> None:
    with _lock:
        _failures[(plugin_id, hook, reason)] += 1


def failure_count(plugin_id: str | None = None, hook: str | None = None, reason: str | None = None):
    """How many failures match the given parts (None matches anything)."""
    with _lock:
        return sum(
            count
            for (p, h, r), count in _failures.items()
            if (plugin_id is None or p == plugin_id)
            and (hook is None or h == hook)
            and (reason is None or r == reason)
        )


def failures() -> dict[tuple[str, str, str], int]:
    with _lock:
        return dict(_failures)


def reset() -> None:
    with _lock:
        _failures.clear()
