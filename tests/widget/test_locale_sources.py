"""Locale-aware rendering, checked in the sources (no browser): the widget's bundle carries the
shared formatters and product-card helpers, dates and numbers are formatted only through
static/helpdesk/shared/format.js (whose formatters are made when used, so that they follow a
language that changes), and every font stack we ship has Chinese fonts before its generic family.
tests/browser/test_locale_rendering.py checks what the pages then show."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from helpdesk.widget.bundle import WIDGET_ENTRY, WIDGET_OUTPUT, bundle

REPO_ROOT = Path(settings.BASE_DIR)
STATIC = REPO_ROOT / "static" / "helpdesk"
FORMAT_JS = STATIC / "shared" / "format.js"
CJK_FONTS = ["PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC"]
GENERIC_FAMILIES = {"sans-serif", "serif", "monospace", "system-ui"}


def our_scripts() -> list[Path]:
    return sorted(
        path
        for folder in ("console", "widget", "shared")
        for path in (STATIC / folder).glob("*.js")
    )


def test_the_widget_bundle_carries_the_shared_formatters_and_card_helpers_once():
    text = bundle(REPO_ROOT / "static" / WIDGET_ENTRY)
    order = re.findall(r"^const (__mod_\w+) = \(function", text, re.M)

    for shared in ("__mod_shared_i18n", "__mod_shared_format", "__mod_shared_products"):
        assert order.count(shared) == 1, shared
    # Each after what it imports: products uses format, format uses i18n.
    assert (
        order.index("__mod_shared_i18n")
        < order.index("__mod_shared_format")
        < order.index("__mod_shared_products")
        < order.index("__mod_widget_cards")
    )
    assert "const { formatDate } = __mod_shared_format;" in text
    assert "const { cardTitle, formatPrice, stockInfo } = __mod_shared_products;" in text
    # What tenants embed is that bundle (tests/conftest.py builds it before the run).
    assert (REPO_ROOT / "static" / WIDGET_OUTPUT).read_text(encoding="utf-8") == text


def test_dates_and_numbers_are_formatted_only_by_the_shared_module():
    offenders = []
    for path in our_scripts():
        if path == FORMAT_JS:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if re.search(r"\bIntl\.|\.toLocale(Date|Time)?String\(", line):
                offenders.append(f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_shared_formatters_are_made_when_used_not_when_loaded():
    # A formatter made at load time would keep the language of that moment; the widget's
    # changes once its catalog arrives.
    for number, line in enumerate(FORMAT_JS.read_text(encoding="utf-8").splitlines(), start=1):
        if re.search(r"\bnew (Intl\.|Kind\()", line):
            assert line.startswith("  "), f"format.js:{number} makes a formatter at load time"


def test_product_card_helpers_live_in_one_place():
    helpers = re.compile(
        r"^(export )?function (formatPrice|stockInfo|cardTitle|httpUrl|safeUrl)\b", re.M
    )
    defined = {
        str(path.relative_to(STATIC)): helpers.findall(path.read_text(encoding="utf-8"))
        for path in our_scripts()
    }
    assert {name: found for name, found in defined.items() if found} == {
        "shared/links.js": [("export ", "httpUrl")],
        "shared/products.js": [
            ("export ", "cardTitle"),
            ("export ", "formatPrice"),
            ("export ", "stockInfo"),
        ],
    }


def widget_css() -> str:
    """The widget's CSS as styles.js joins it: its string literals, one after another."""
    source = (STATIC / "widget" / "styles.js").read_text(encoding="utf-8")
    array = source[source.index("export const CSS = [") : source.index('].join("")')]
    return "".join(re.findall(r'^\s*"((?:[^"\\]|\\.)*)",?\s*(?://.*)?$', array, re.M))


def stylesheets() -> list[tuple[str, str]]:
    sheets = [
        ("console.css", (STATIC / "console" / "console.css").read_text(encoding="utf-8")),
        ("widget/styles.js", widget_css()),
    ]
    templates = [*(REPO_ROOT / "templates").rglob("*.html")]
    templates += [*(REPO_ROOT / "helpdesk").glob("*/templates/**/*.html")]
    for path in sorted(templates):
        sheets.append((str(path.relative_to(REPO_ROOT)), path.read_text(encoding="utf-8")))
    return sheets


FONT_DECLARATION = re.compile(r"(?<![\w-])(font-family|font|--font)\s*:\s*([^;}]+)")


def font_stacks() -> list[tuple[str, list[str]]]:
    stacks = []
    for name, text in stylesheets():
        for match in FONT_DECLARATION.finditer(text):
            value = match[2].strip()
            if "," not in value:
                continue  # font: inherit, font: 14px/1.45 var(--font)
            families = [part.strip().strip("'\"") for part in value.split(",")]
            stacks.append((f"{name}: {match[1]}", families))
    return stacks


def test_there_are_font_stacks_to_check():
    names = {name.split(":")[0] for name, _ in font_stacks()}
    assert {"console.css", "widget/styles.js", "templates/widget/visitor_page.html"} <= names


@pytest.mark.parametrize(
    ("where", "families"), [pytest.param(*stack, id=stack[0]) for stack in font_stacks()]
)
def test_every_font_stack_has_chinese_fonts_before_its_generic_family(where, families):
    assert families[-1] in GENERIC_FAMILIES, where
    assert families[-1 - len(CJK_FONTS) : -1] == CJK_FONTS, where
