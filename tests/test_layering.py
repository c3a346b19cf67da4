"""Lower layers never import upper ones.

The domain (helpdesk/conversations) and the base (helpdesk/core) announce what happened through
registries that the AI and the plugins fill at start (helpdesk/conversations/followers.py); they
never import those apps, not even inside a function to dodge an import cycle.
"""

import ast
from pathlib import Path

import pytest

HELPDESK = Path(__file__).resolve().parent.parent / "helpdesk"

LOWER = ("conversations", "core")
UPPER = ("helpdesk.ai", "helpdesk.plugins", "helpdesk.webhooks", "helpdesk.api")


def imported_modules(source: str) -> list[tuple[int, str]]:
    """Every module an ``import`` or ``from … import`` names, with its line, wherever it stands."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # ``from helpdesk import ai`` names the app as an imported name.
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def is_upper(module: str) -> bool:
    return any(module == upper or module.startswith(f"{upper}.") for upper in UPPER)


def upward_imports(package: Path) -> list[str]:
    offences = []
    for path in sorted(package.rglob("*.py")):
        for line, module in imported_modules(path.read_text(encoding="utf-8")):
            if is_upper(module):
                offences.append(f"{path.relative_to(HELPDESK.parent)}:{line} imports {module}")
    return offences


@pytest.mark.parametrize("package", LOWER)
def test_the_lower_layers_import_neither_the_ai_nor_the_plugins(package):
    offences = upward_imports(HELPDESK / package)

    assert offences == []


def test_the_check_sees_imports_at_any_depth_and_in_any_form():
    source = (
        "from helpdesk.ai.models import TokenUsage\n"
        "def job():\n"
        "    import helpdesk.plugins.runner\n"
        "    from helpdesk import ai\n"
        "    from helpdesk.aiding import x\n"
    )
    assert imported_modules(source) == [
        (1, "helpdesk.ai.models.TokenUsage"),
        (3, "helpdesk.plugins.runner"),
        (4, "helpdesk.ai"),
        (5, "helpdesk.aiding.x"),
    ]
    assert [is_upper(module) for _line, module in imported_modules(source)] == [
        True,
        True,
        True,
        False,
    ]
