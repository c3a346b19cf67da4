"""Which plugins are installed: the ones shipped in ``plugins/`` and pip-installed ones.

Shipped plugins register with ``@register`` on their class. Third-party packages declare an
entry point in the ``helpdesk.plugins`` group (``pip install`` is enough for the admin to list
them)::

    [project.entry-points."helpdesk.plugins"]
    my_plugin = "my_package.plugin:MyPlugin"

The registry loads lazily, on first use, once per process. A package or entry point that fails
to import is logged, counted and left out; every other plugin still loads.
"""

import importlib
import logging
import pkgutil
import re
import sys
import threading
import traceback
from collections.abc import Iterable
from importlib.metadata import entry_points
from types import ModuleType

from helpdesk.plugins import metrics
from helpdesk.plugins.base import BasePlugin

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "helpdesk.plugins"
SHIPPED_PACKAGES = ("plugins",)
PLUGIN_ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_MARK = "__helpdesk_plugin__"


class PluginRegistry:
    def __init__(
        self,
        packages: Iterable[str] = SHIPPED_PACKAGES,
        group: str = ENTRY_POINT_GROUP,
    ):
        self.packages = tuple(packages)
        self.group = group
        self._plugins: dict[str, type[BasePlugin]] = {}
        # Where loading failed ("package plugins.x" or "entry point name") -> the error.
        self.load_errors: dict[str, str] = {}
        self._loaded = False
        self._lock = threading.RLock()

    # --- registration ------------------------------------------------------------------------

    def add(self, plugin_class: type[BasePlugin]) -> type[BasePlugin]:
        check_plugin_class(plugin_class)
        with self._lock:
            existing = self._plugins.get(plugin_class.id)
            if existing is not None and _qualified(existing) != _qualified(plugin_class):
                raise ValueError(
                    f"plugin id {plugin_class.id!r} is taken by {_qualified(existing)}; "
                    f"{_qualified(plugin_class)} needs another id"
                )
            self._plugins[plugin_class.id] = plugin_class
        return plugin_class

    def remove(self, plugin_id: str) -> None:
        with self._lock:
            self._plugins.pop(plugin_id, None)

    # --- lookup ------------------------------------------------------------------------------

    def get(self, plugin_id: str) -> type[BasePlugin] | None:
        self.load()
        return self._plugins.get(plugin_id)

    def __contains__(self, plugin_id: str) -> bool:
        return self.get(plugin_id) is not None

    def all(self) -> list[type[BasePlugin]]:
        self.load()
        return sorted(self._plugins.values(), key=lambda cls: (cls.name.lower(), cls.id))

    def choices(self) -> list[tuple[str, str]]:
        return [(cls.id, f"{cls.name} ({cls.id})") for cls in self.all()]

    # --- discovery ---------------------------------------------------------------------------

    def load(self, *, force: bool = False) -> None:
        """Import the shipped packages and the entry points (once, unless ``force``)."""
        if self._loaded and not force:
            return
        with self._lock:
            if self._loaded and not force:
                return
            for package in self.packages:
                self._load_package(package)
            self._load_entry_points()
            self._loaded = True

    def _load_package(self, package_name: str) -> None:
        try:
            package = importlib.import_module(package_name)
        except Exception:
            self._failed(f"package {package_name}", package_name)
            return
        modules = [package]
        for info in pkgutil.iter_modules(getattr(package, "__path__", []), f"{package_name}."):
            try:
                modules.append(importlib.import_module(info.name))
            except Exception:
                self._failed(f"package {info.name}", info.name)
        # Modules a plugin package imported itself (e.g. plugins.x.plugin) count too.
        prefix = f"{package_name}."
        modules += [m for name, m in list(sys.modules.items()) if name.startswith(prefix) and m]
        for module in modules:
            self._add_marked(module)

    def _load_entry_points(self) -> None:
        try:
            found = entry_points(group=self.group)
        except Exception:  # a corrupt *.dist-info somewhere on sys.path
            self._failed(f"entry points of group {self.group}", "?")
            return
        for entry_point in found:
            source = f"entry point {entry_point.name} = {entry_point.value}"
            try:
                loaded = entry_point.load()
                if isinstance(loaded, ModuleType):
                    found = self._add_marked(loaded, any_subclass=True)
                    if not found:
                        raise TypeError(f"module {loaded.__name__} defines no plugin class")
                elif isinstance(loaded, type) and issubclass(loaded, BasePlugin):
                    self.add(loaded)
                else:
                    raise TypeError(f"{loaded!r} is not a BasePlugin subclass")
            except Exception:
                self._failed(source, entry_point.name)

    def _add_marked(self, module: ModuleType, *, any_subclass: bool = False) -> int:
        found = 0
        for value in list(vars(module).values()):
            is_plugin = (
                isinstance(value, type)
                and issubclass(value, BasePlugin)
                and value.__module__ == module.__name__
                and (value.__dict__.get(_MARK) or (any_subclass and "id" in value.__dict__))
            )
            if is_plugin:
                try:
                    self.add(value)
                    found += 1
                except Exception:
                    self._failed(f"plugin class {_qualified(value)}", getattr(value, "id", "?"))
        return found

    def _failed(self, source: str, plugin_id: str) -> None:
        error = traceback.format_exc(limit=5)
        self.load_errors[source] = error
        metrics.record_failure(plugin_id, "load", "import")
        logger.error("Plugin %s could not be loaded and is left out:\n%s", source, error)


def check_plugin_class(plugin_class: type) -> None:
    if not (isinstance(plugin_class, type) and issubclass(plugin_class, BasePlugin)):
        raise TypeError(f"{plugin_class!r} is not a BasePlugin subclass")
    plugin_id = getattr(plugin_class, "id", None)
    if not isinstance(plugin_id, str) or not PLUGIN_ID_RE.fullmatch(plugin_id):
        raise ValueError(
            f"{_qualified(plugin_class)}.id must be lower_snake_case (a-z, 0-9, _), "
            f"at most 64 characters; got {plugin_id!r}"
        )
    # A lazily translated name is not evaluated here: plugins register while modules import,
    # possibly before translations can load.
    name = getattr(plugin_class, "name", None)
    if name is None or (isinstance(name, str) and not name.strip()):
        raise ValueError(f"{_qualified(plugin_class)} needs a name")
    names = [f.name for f in plugin_class.config_fields]
    if len(names) != len(set(names)):
        raise ValueError(f"{_qualified(plugin_class)} declares a config field twice")


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


registry = PluginRegistry()


def register(plugin_class: type[BasePlugin]) -> type[BasePlugin]:
    """Class decorator for plugins shipped in ``plugins/``."""
    check_plugin_class(plugin_class)
    setattr(plugin_class, _MARK, True)
    return registry.add(plugin_class)
