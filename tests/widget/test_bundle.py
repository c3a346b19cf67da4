"""The widget's bundler (helpdesk/widget/bundle.py) and ``manage.py build_widget``."""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from helpdesk.widget.bundle import WIDGET_ENTRY, WIDGET_OUTPUT, BundleError, build, bundle

STATIC_DIR = settings.BASE_DIR / "static"


def write_modules(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "main.js"


def module_block(text: str, variable: str) -> str:
    """The text of one module's function scope in a bundle."""
    match = re.search(
        rf"^const {variable} = \(function \(\) {{\n(.*?)^}}\)\(\);$", text, re.M | re.S
    )
    assert match, f"{variable} is not in the bundle"
    return match[1]


def test_modules_come_after_the_modules_they_import(tmp_path):
    entry = write_modules(
        tmp_path,
        {
            "main.js": 'import { b } from "./b.js";\nimport { a } from "./a.js";\nb(a);\n',
            "b.js": 'import { a } from "./a.js";\nexport function b() { return a; }\n',
            "a.js": "export const a = 1;\n",
        },
    )
    text = bundle(entry)
    order = re.findall(r"^const (__mod_\w+) = \(function", text, re.M)
    assert order == ["__mod_a", "__mod_b", "__mod_main"]
    assert text.startswith("/*! ")
    assert text.rstrip().endswith("})();")


def test_each_module_has_its_own_scope_and_imports_by_destructuring(tmp_path):
    entry = write_modules(
        tmp_path,
        {
            "main.js": (
                'import { shown as visible, helper } from "./lib/one.js";\n'
                'import { other } from "./lib/two.js";\n'
                "const secret = visible + helper() + other;\n"
            ),
            "lib/one.js": (
                "const secret = 1;\n"
                "export const shown = secret;\n"
                "export async function helper() {}\n"
            ),
            "lib/two.js": "const secret = 2;\nexport class other {}\n",
        },
    )
    text = bundle(entry)
    one = module_block(text, "__mod_lib_one")
    assert "const secret = 1;" in one
    assert "export" not in one
    assert one.rstrip().endswith("return { shown, helper };")
    assert module_block(text, "__mod_lib_two").rstrip().endswith("return { other };")
    main = module_block(text, "__mod_main")
    assert "const { shown: visible, helper } = __mod_lib_one;" in main
    assert "const { other } = __mod_lib_two;" in main
    assert "import" not in main
    assert main.rstrip().endswith("return {};")


def test_an_import_may_span_lines(tmp_path):
    entry = write_modules(
        tmp_path,
        {
            "main.js": 'import {\n  a,\n  b,\n} from "./a.js";\na(b);\n',
            "a.js": "export function a() {}\nexport const b = 2;\n",
        },
    )
    assert "const { a, b } = __mod_a;" in bundle(entry)


@pytest.mark.parametrize(
    ("source", "complaint"),
    [
        ("export default function () {}\n", "default exports"),
        ('export * from "./a.js";\n', "export *"),
        ("const x = 1;\nexport { x };\n", "export lists and re-exports"),
        ('export { a } from "./a.js";\n', "export lists and re-exports"),
        ("export let counter = 0;\n", "export let"),
        ("export var counter = 0;\n", "export let"),
        ('const lazy = () => import("./a.js");\n', "dynamic import"),
        ("const here = import.meta.url;\n", "import.meta"),
        ('import a from "./a.js";\n', "unsupported import"),
        ('import * as a from "./a.js";\n', "unsupported import"),
        ('import "./a.js";\n', "unsupported import"),
        ('import { a } from "lodash";\n', "only relative imports"),
        ('import { a } from "./missing.js";\n', "does not exist"),
        ('import { nothing } from "./a.js";\n', "'nothing' is not exported by a.js"),
        ("function f() {\n  export const inner = 1;\n}\n", "top level"),
    ],
)
def test_unsupported_syntax_is_refused_naming_file_and_line(tmp_path, source, complaint):
    entry = write_modules(
        tmp_path, {"main.js": "// the entry\n" + source, "a.js": "export const a = 1;\n"}
    )
    with pytest.raises(BundleError) as refused:
        bundle(entry)
    message = str(refused.value)
    assert complaint in message
    statement = next(
        n for n, text in enumerate(source.splitlines(), 1) if re.search(r"\b(im|ex)port\b", text)
    )
    assert f"main.js:{statement + 1}:" in message


def test_an_import_cycle_is_refused_with_its_path(tmp_path):
    entry = write_modules(
        tmp_path,
        {
            "main.js": 'import { a } from "./a.js";\na();\n',
            "a.js": 'import { b } from "./b.js";\nexport function a() { return b; }\n',
            "b.js": 'import { a } from "./a.js";\nexport const b = a;\n',
        },
    )
    with pytest.raises(BundleError, match=r"import cycle: a\.js → b\.js → a\.js"):
        bundle(entry)


def test_a_stale_bundle_is_rebuilt_and_a_current_one_left_alone(tmp_path):
    entry = write_modules(tmp_path, {"main.js": "const x = 1;\n"})
    output = tmp_path / "widget.js"
    output.write_text("/* an older build */\n", encoding="utf-8")

    assert build(entry, output) is True
    assert output.read_text(encoding="utf-8") == bundle(entry)
    assert build(entry, output) is False

    (tmp_path / "main.js").write_text("const x = 2;\n", encoding="utf-8")
    assert build(entry, output) is True
    assert "const x = 2;" in output.read_text(encoding="utf-8")


def test_the_widget_file_is_what_its_sources_give():
    # tests/conftest.py builds it before the run, as `manage.py build_widget` does.
    built = (STATIC_DIR / WIDGET_OUTPUT).read_text(encoding="utf-8")
    assert built == bundle(STATIC_DIR / WIDGET_ENTRY)
    assert "const __mod_shared_i18n = (function () {" in built
    assert "window.HelpdeskWidget = publicApi;" in built


def test_build_widget_command_reports_an_up_to_date_bundle():
    out = StringIO()
    call_command("build_widget", stdout=out)
    assert out.getvalue().strip().endswith("widget.js: up to date")


def test_every_widget_string_is_marked_with_a_literal_msgid():
    # makemessages -d djangojs extracts only calls whose first argument is a string literal.
    sources = sorted((STATIC_DIR / WIDGET_ENTRY).parent.glob("*.js"))
    calls = 0
    for path in sources:
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"\b(n?gettext)\(\s*(\S)", text):
            calls += 1
            assert match[2] in "\"'", f"{path.name}: {match[1]}() without a literal msgid"
    assert calls > 40
