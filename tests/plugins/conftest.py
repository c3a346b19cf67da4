"""Fixtures for plugin tests: installing test plugins, configuring them, a clean runtime."""

import pytest

from helpdesk.plugins import metrics
from helpdesk.plugins.registry import registry
from helpdesk.plugins.runtime import runtime
from helpdesk.plugins.services import plugin_config_set


@pytest.fixture(autouse=True)
def _clean_plugin_runtime():
    """Every test starts with no running instances and no counted failures."""
    runtime.teardown_all()
    metrics.reset()
    yield
    runtime.teardown_all()


@pytest.fixture
def install():
    """Register plugin classes for one test: ``install(PluginA, PluginB)``."""
    added = []

    def add(*plugin_classes):
        for plugin_class in plugin_classes:
            registry.add(plugin_class)
            added.append(plugin_class.id)
        return plugin_classes

    yield add
    for plugin_id in added:
        registry.remove(plugin_id)


@pytest.fixture
def configure(tenant):
    """``configure("plugin_id", order=1, **config)`` for the ``tenant`` fixture (or tenant=)."""

    def make(plugin_id, *, order=0, enabled=True, tenant=tenant, **config):
        return plugin_config_set(
            tenant=tenant, plugin_id=plugin_id, config=config, enabled=enabled, order=order
        )

    return make
