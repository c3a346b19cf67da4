"""Plugin instances and what they are handed: lifecycle and injection.

Each process keeps one instance per (tenant, plugin), built for one configuration version:
``setup()`` runs once when the instance is built, ``teardown()`` when a newer version (or a
disabled or deleted configuration) replaces it, and for all instances when the process stops.
The framework — not the plugin — builds the plugin's HTTP client, cache and logger.
"""

import hashlib
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache as default_cache

from helpdesk.core.asyncdb import off_loop
from helpdesk.plugins import metrics
from helpdesk.plugins.base import BasePlugin, PluginContext
from helpdesk.plugins.config import validate_config
from helpdesk.plugins.registry import registry
from helpdesk.plugins.safe_http import SafeHttpClient

if TYPE_CHECKING:
    from helpdesk.plugins.models import PluginConfig
    from helpdesk.tenants.models import Tenant

logger = logging.getLogger(__name__)

# A plugin whose set-up failed (or that is not installed) is tried again after this long, even
# without a configuration change: the cause may have been passing.
SETUP_RETRY_SECONDS = 60.0

_MISSING = object()


class PluginCache:
    """The Django cache, with every key inside this tenant's, plugin's and version's space.

    A new configuration version starts with an empty cache (e.g. facts fetched with an old API
    URL are not reused). Long or odd keys are hashed, so any string is a valid key.
    """

    def __init__(self, *, tenant_id: int, plugin_id: str, version: int, backend=None):
        self.prefix = f"plugins:t{tenant_id}:{plugin_id}:v{version}:"
        self._backend = backend or default_cache

    def key(self, key: str) -> str:
        if len(key) > 120 or not key.isprintable() or any(c.isspace() for c in key):
            key = "h:" + hashlib.sha256(key.encode()).hexdigest()
        return self.prefix + key

    def get(self, key: str, default: Any = None) -> Any:
        return self._backend.get(self.key(key), default)

    def set(self, key: str, value: Any, timeout: float | None = None) -> None:
        self._backend.set(self.key(key), value, timeout)

    def delete(self, key: str) -> None:
        self._backend.delete(self.key(key))

    # Not Django's cache.aget() and friends: from an event loop that is not a request's, they
    # all queue on one shared thread (see helpdesk.core.asyncdb.off_loop).
    async def aget(self, key: str, default: Any = None) -> Any:
        return await off_loop(self.get)(key, default)

    async def aset(self, key: str, value: Any, timeout: float | None = None) -> None:
        await off_loop(self.set)(key, value, timeout)

    async def adelete(self, key: str) -> None:
        await off_loop(self.delete)(key)


class _TenantLogAdapter(logging.LoggerAdapter):
    def process(self, msg, kwargs):
        kwargs["extra"] = {**self.extra, **(kwargs.get("extra") or {})}
        return f"[tenant {self.extra['tenant']}] {msg}", kwargs


def plugin_logger(plugin_id: str, tenant: "Tenant") -> logging.LoggerAdapter:
    return _TenantLogAdapter(
        logging.getLogger(f"helpdesk.plugins.{plugin_id}"),
        {"tenant": tenant.pk, "plugin": plugin_id},
    )


def plugin_http_client(plugin_class: type[BasePlugin], config: Mapping[str, Any]) -> SafeHttpClient:
    # Loopback is a test-only switch, and only ever comes from settings, never from a tenant.
    return SafeHttpClient(
        allow_hosts=list(plugin_class.http_allow_hosts(config)),
        allow_loopback=settings.PLUGIN_HTTP_ALLOW_LOOPBACK,
    )


def build_context(
    plugin_class: type[BasePlugin], *, tenant: "Tenant", config: dict, version: int
) -> PluginContext:
    return PluginContext(
        tenant=tenant,
        config=MappingProxyType(config),
        version=version,
        http=plugin_http_client(plugin_class, config),
        cache=PluginCache(tenant_id=tenant.pk, plugin_id=plugin_class.id, version=version),
        logger=plugin_logger(plugin_class.id, tenant),
    )


@dataclass
class _Slot:
    row_id: int
    version: int
    instance: BasePlugin | None
    failed_at: float | None = None


class PluginRuntime:
    """The process's plugin instances, keyed by (tenant id, plugin id)."""

    def __init__(self):
        self._slots: dict[tuple[int, str], _Slot] = {}
        # Plugin ids with a slot, per tenant: prune() runs on every hook call.
        self._by_tenant: dict[int, set[str]] = {}
        self._lock = threading.Lock()
        self._key_locks: dict[tuple[int, str], threading.Lock] = {}

    def instance(self, tenant: "Tenant", row: "PluginConfig") -> BasePlugin | None:
        """The set-up instance for ``row``'s version, or None if it cannot run (logged)."""
        key = (tenant.pk, row.plugin_id)
        found = self._current(key, row)
        if found is not _MISSING:
            return found
        with self._key_lock(key):
            found = self._current(key, row)
            if found is not _MISSING:
                return found
            old = self._pop(key)
            if old is not None and old.instance is not None:
                self._teardown(old.instance)
            instance = self._build(tenant, row)
            self._slots[key] = _Slot(
                row.pk, row.version, instance, None if instance is not None else time.monotonic()
            )
            with self._lock:
                self._by_tenant.setdefault(tenant.pk, set()).add(row.plugin_id)
            return instance

    def _current(self, key: tuple[int, str], row: "PluginConfig"):
        slot = self._slots.get(key)
        version = row.version
        if slot is None or slot.row_id != row.pk:
            return _MISSING
        if slot.version > version and slot.instance is not None:
            # A reader that loaded the row just before a save: the newer instance serves it.
            return slot.instance
        if slot.version != version:
            return _MISSING
        if slot.instance is not None:
            return slot.instance
        if time.monotonic() - (slot.failed_at or 0) < SETUP_RETRY_SECONDS:
            return None
        return _MISSING

    def _pop(self, key: tuple[int, str]) -> _Slot | None:
        slot = self._slots.pop(key, None)
        with self._lock:
            self._by_tenant.get(key[0], set()).discard(key[1])
        return slot

    def _key_lock(self, key: tuple[int, str]) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())

    def _build(self, tenant: "Tenant", row: "PluginConfig") -> BasePlugin | None:
        plugin_class = registry.get(row.plugin_id)
        if plugin_class is None:
            metrics.record_failure(row.plugin_id, "setup", "missing")
            logger.warning(
                "Tenant %s configures plugin %r, which is not installed; skipped.",
                tenant.pk,
                row.plugin_id,
            )
            return None
        try:
            config = validate_config(plugin_class, row.config, row.secrets)
            context = build_context(plugin_class, tenant=tenant, config=config, version=row.version)
            instance = plugin_class(context)
            instance.setup()
        except Exception:
            metrics.record_failure(row.plugin_id, "setup", "setup")
            logger.exception(
                "Plugin %r (tenant %s, config v%s) failed to set up; skipped.",
                row.plugin_id,
                tenant.pk,
                row.version,
            )
            return None
        return instance

    def _teardown(self, instance: BasePlugin) -> None:
        try:
            instance.teardown()
        except Exception:
            metrics.record_failure(instance.id, "teardown", "teardown")
            logger.exception("Plugin %r failed to tear down.", instance.id)

    def prune(self, tenant_id: int, keep: set[str]) -> None:
        """Tear down the tenant's instances whose configuration is gone or disabled."""
        gone = [
            (tenant_id, plugin_id)
            for plugin_id in list(self._by_tenant.get(tenant_id, ()))
            if plugin_id not in keep
        ]
        for key in gone:
            with self._key_lock(key):
                slot = self._pop(key)
            if slot is not None and slot.instance is not None:
                self._teardown(slot.instance)

    def teardown_all(self) -> None:
        """Tear every instance down (process shutdown, tests)."""
        for key in list(self._slots):
            with self._key_lock(key):
                slot = self._pop(key)
            if slot is not None and slot.instance is not None:
                self._teardown(slot.instance)

    def instances(self) -> dict[tuple[int, str], BasePlugin | None]:
        return {key: slot.instance for key, slot in list(self._slots.items())}


runtime = PluginRuntime()
