"""Finding plugins: the shipped package with @register, and pip-installed entry points.

Entry points are discovered exactly as for a pip-installed package: importlib.metadata reads a
``*.dist-info`` directory on sys.path. The test writes one into a temporary directory, next to
the example package's source (tests/plugins/example_pkg, which ``pip install`` also accepts).
"""

import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync

from helpdesk.plugins import metrics
from helpdesk.plugins.base import BasePlugin
from helpdesk.plugins.registry import PluginRegistry, registry
from helpdesk.plugins.runner import collect_ai_context, run_customer_message_hooks

EXAMPLE_PKG = Path(__file__).parent / "example_pkg"


def write_dist_info(site: Path, name: str, entry_points: dict[str, str]) -> None:
    """What ``pip install`` leaves behind that importlib.metadata reads."""
    dist_info = site / f"{name.replace('-', '_')}-0.1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    lines = [f"{key} = {value}" for key, value in entry_points.items()]
    (dist_info / "entry_points.txt").write_text("[helpdesk.plugins]\n" + "\n".join(lines) + "\n")


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A directory on sys.path, like site-packages, with the example package importable."""
    monkeypatch.syspath_prepend(str(EXAMPLE_PKG))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith(("helpdesk_example_plugin", "tmp_"))]:
        del sys.modules[name]


def test_shipped_plugins_register_with_the_decorator():
    ids = [plugin_class.id for plugin_class in registry.all()]

    assert "product_links" in ids
    assert "sensitive_words" in ids
    assert registry.load_errors == {}


def test_an_installed_package_is_found_through_its_entry_point(site):
    write_dist_info(
        site, "helpdesk-example-plugin", {"greeting": "helpdesk_example_plugin:GreetingPlugin"}
    )
    found = PluginRegistry()

    found.load()

    greeting = found.get("greeting")
    assert greeting is not None
    assert greeting.__module__ == "helpdesk_example_plugin"
    assert ("greeting", "Greeting (greeting)") in found.choices()
    assert found.get("sensitive_words") is not None  # the shipped ones are there too
    assert found.load_errors == {}


@pytest.mark.django_db(transaction=True)
def test_an_entry_point_plugin_runs_like_any_other(site, tenant, conversation, install, configure):
    write_dist_info(
        site, "helpdesk-example-plugin", {"greeting": "helpdesk_example_plugin:GreetingPlugin"}
    )
    found = PluginRegistry()
    install(found.get("greeting"))
    configure("greeting", line="Say hi back.")
    from helpdesk.conversations.services import Sender, message_post

    message = message_post(
        tenant=tenant, conversation_id=conversation.pk, sender=Sender.contact(), text="Hello!"
    ).message

    assert async_to_sync(run_customer_message_hooks)(tenant=tenant, message=message) is True
    message.refresh_from_db()
    assert message.metadata == {"greeted": True}
    context = async_to_sync(collect_ai_context)(
        tenant=tenant, conversation=conversation, context=[]
    )
    assert context == ["Say hi back."]


def test_an_entry_point_naming_a_module_registers_the_plugins_defined_in_it(site):
    module = f"tmp_module_{uuid.uuid4().hex[:8]}"
    (site / f"{module}.py").write_text(
        textwrap.dedent(
            """
            from helpdesk.plugins.base import BasePlugin

            class ModulePlugin(BasePlugin):
                id = "module_plugin"
                name = "Module plugin"
            """
        )
    )
    write_dist_info(site, "tmp-module-dist", {"mod": module})

    found = PluginRegistry()

    assert found.get("module_plugin") is not None


def test_plugins_that_fail_to_load_are_left_out_and_counted(site):
    write_dist_info(
        site,
        "tmp-broken-dist",
        {
            "missing": "tmp_no_such_module_anywhere:Plugin",
            "not_a_plugin": "json:dumps",
            "greeting": "helpdesk_example_plugin:GreetingPlugin",
        },
    )
    found = PluginRegistry()

    found.load()

    assert found.get("greeting") is not None
    assert sorted(found.load_errors) == [
        "entry point missing = tmp_no_such_module_anywhere:Plugin",
        "entry point not_a_plugin = json:dumps",
    ]
    assert "ModuleNotFoundError" in found.load_errors[next(iter(sorted(found.load_errors)))]
    assert metrics.failure_count(hook="load", reason="import") == 2


def test_a_shipped_module_that_fails_to_import_does_not_stop_the_others(site):
    package = f"tmp_shipped_{uuid.uuid4().hex[:8]}"
    (site / package).mkdir()
    (site / package / "__init__.py").write_text("")
    (site / package / "good.py").write_text(
        textwrap.dedent(
            f"""
            from helpdesk.plugins.base import BasePlugin
            from helpdesk.plugins.registry import register

            @register
            class Good(BasePlugin):
                id = "{package}_good"
                name = "Good"
            """
        )
    )
    (site / package / "bad.py").write_text("raise ImportError('a dependency is missing')\n")
    found = PluginRegistry(packages=[package])

    try:
        found.load()

        assert [cls.id for cls in found.all()] == [f"{package}_good"]
        assert list(found.load_errors) == [f"package {package}.bad"]
        assert "a dependency is missing" in found.load_errors[f"package {package}.bad"]
    finally:
        registry.remove(f"{package}_good")  # @register also put it in the global registry


def test_plugin_classes_are_checked_when_registered():
    found = PluginRegistry(packages=[])

    class NoName(BasePlugin):
        id = "no_name"

    class BadId(BasePlugin):
        id = "Bad-Id"
        name = "Bad"

    class First(BasePlugin):
        id = "same"
        name = "First"

    class Second(BasePlugin):
        id = "same"
        name = "Second"

    with pytest.raises(ValueError, match="needs a name"):
        found.add(NoName)
    with pytest.raises(ValueError, match="lower_snake_case"):
        found.add(BadId)
    with pytest.raises(TypeError):
        found.add(object)
    found.add(First)
    found.add(First)  # the same class again (a re-import) is fine
    with pytest.raises(ValueError, match="taken by"):
        found.add(Second)
