import threading

from django.core.cache import cache

from helpdesk.plugins.runtime import PluginCache


class ThreadRecordingCache:
    """The cache, noting which thread each call ran on."""

    def __init__(self):
        self.threads: list[str] = []

    def get(self, key, default=None):
        self.threads.append(threading.current_thread().name)
        return cache.get(key, default)

    def set(self, key, value, timeout=None):
        self.threads.append(threading.current_thread().name)
        cache.set(key, value, timeout)

    def delete(self, key):
        self.threads.append(threading.current_thread().name)
        cache.delete(key)


async def test_the_async_cache_calls_run_on_the_shared_blocking_pool():
    """Not on Django's one thread for async cache calls, which every reply would queue on."""
    backend = ThreadRecordingCache()
    plugin_cache = PluginCache(tenant_id=1, plugin_id="p", version=1, backend=backend)

    await plugin_cache.aset("k", "v")
    assert await plugin_cache.aget("k") == "v"
    await plugin_cache.adelete("k")

    assert len(backend.threads) == 3
    assert all(name.startswith("helpdesk-db") for name in backend.threads), backend.threads
