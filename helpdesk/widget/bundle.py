"""Bundle the widget's ES modules into the one classic script a tenant embeds.

A tenant's page loads ``static/helpdesk/widget.js`` with one ``<script>`` tag, so the modules
under ``static/helpdesk/widget/`` (and the shared ``static/helpdesk/shared/i18n.js``) become one
IIFE. Each module keeps its own function scope, so names private to a module never collide:

    const __mod_widget_config = (function () {
    const { gettext } = __mod_shared_i18n;
    ...the module's code...
    return { config, debug };
    })();

Only the subset of module syntax the widget needs is accepted, and anything else is refused
with an error naming the file and line rather than bundled wrongly:

- ``import { a, b as c } from "./relative.js";`` (the braces may span lines);
- ``export function`` / ``export async function`` / ``export class`` / ``export const NAME``.

Refused: default exports, ``export *``, export lists and re-exports, ``export let`` and
``export var`` (the bundle hands importers a copy of each binding, so a reassignment would not
reach them), imports of packages or absolute URLs, namespace / default / side-effect imports,
dynamic ``import()`` and ``import.meta``, and import cycles.

The scan is line-based: a statement starts at the beginning of a line, as the widget's code
is written (and formatted).
"""

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

IDENTIFIER = r"[A-Za-z_$][\w$]*"
IMPORT_STATEMENT = re.compile(
    r"^import[ \t]*\{(?P<names>[^}]*)\}[ \t]*from[ \t]*"
    r"(?P<quote>[\"'])(?P<source>[^\"'\n]+)(?P=quote)[ \t]*;?[ \t]*$",
    re.M,
)
IMPORT_NAME = re.compile(rf"^(?P<name>{IDENTIFIER})(?:\s+as\s+(?P<alias>{IDENTIFIER}))?$")
STATEMENT_START = re.compile(r"^(?P<indent>[ \t]*)(?P<keyword>import|export)\b", re.M)
DYNAMIC_IMPORT = re.compile(r"\bimport\s*\(|\bimport\.meta\b")
EXPORT_DECLARATION = re.compile(
    rf"^export\s+(?:(?:async\s+)?function\*?\s*|class\s+|const\s+)(?P<name>{IDENTIFIER})\b"
)
REFUSED_EXPORTS = [
    (re.compile(r"^export\s+default\b"), "default exports are not supported"),
    (re.compile(r"^export\s*\*"), "`export *` is not supported"),
    (re.compile(r"^export\s*\{"), "export lists and re-exports are not supported"),
    (
        re.compile(r"^export\s+(?:let|var)\b"),
        "`export let` / `export var` are not supported: importers would not see a "
        "reassignment; export a const or a function",
    ),
]


# The widget, relative to the static directory: its entry module and the file tenants embed.
WIDGET_ENTRY = Path("helpdesk/widget/main.js")
WIDGET_OUTPUT = Path("helpdesk/widget.js")


class BundleError(Exception):
    """The sources cannot be bundled; the message names the file (and line) to fix."""


@dataclass
class Import:
    source: Path
    names: list[tuple[str, str]]  # (exported name, local name)
    line: int


@dataclass
class Module:
    path: Path
    body: str
    imports: list[Import] = field(default_factory=list)
    exports: list[str] = field(default_factory=list)


def build_widget(static_dir: Path) -> bool:
    """Bring the widget's bundle in ``static_dir`` up to date; whether it was rewritten."""
    return build(static_dir / WIDGET_ENTRY, static_dir / WIDGET_OUTPUT)


def build(entry: Path, output: Path) -> bool:
    """Write the bundle of ``entry`` to ``output`` unless it holds exactly that already.

    Returns whether the file was (re)written. The write is atomic: a page or a test reading the
    file meanwhile sees the old bundle or the new one, never half of one.
    """
    text = bundle(entry)
    if output.is_file() and output.read_text(encoding="utf-8") == text:
        return False
    temporary = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, output)
    return True


def bundle(entry: Path) -> str:
    entry = entry.resolve()
    modules = in_dependency_order(entry)
    root = Path(os.path.commonpath([m.path.parent for m in modules]))
    names = module_variables(modules, root)
    parts = [
        f"/*! Helpdesk chat widget. Built by `manage.py build_widget` from {display(entry, root)} "
        "and the modules it imports: edit those, not this file. */\n",
        '(function () {\n"use strict";\n',
    ]
    for module in modules:
        parts.append(wrapped(module, names, root))
    parts.append("})();\n")
    return "".join(parts)


def in_dependency_order(entry: Path) -> list[Module]:
    """The entry and every module it imports, each after the modules it imports."""
    done: dict[Path, Module] = {}
    order: list[Module] = []
    visiting: list[Path] = []

    def visit(path: Path) -> Module:
        if path in done:
            return done[path]
        if path in visiting:
            cycle = visiting[visiting.index(path) :] + [path]
            base = Path(os.path.commonpath([p.parent for p in cycle]))
            raise BundleError("import cycle: " + " → ".join(display(p, base) for p in cycle))
        visiting.append(path)
        module = parse(path)
        for imported in module.imports:
            target = visit(imported.source)
            for name, _local in imported.names:
                if name not in target.exports:
                    raise BundleError(
                        f"{path}:{imported.line}: {name!r} is not exported by {target.path.name}"
                    )
        visiting.pop()
        done[path] = module
        order.append(module)
        return module

    visit(entry)
    return order


def parse(path: Path) -> Module:
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BundleError(f"{path}: no such module") from None
    imports = []
    import_spans = []
    for match in IMPORT_STATEMENT.finditer(source):
        line = line_of(source, match.start())
        imports.append(
            Import(
                source=resolve_import(path, line, match["source"]),
                names=import_names(path, line, match["names"]),
                line=line,
            )
        )
        import_spans.append((match.start(), match.end()))
    import_starts = {start for start, _end in import_spans}

    exports = []
    for match in STATEMENT_START.finditer(source):
        line = line_of(source, match.start())
        if match["keyword"] == "import":
            if match["indent"] or match.start() not in import_starts:
                raise BundleError(
                    f"{path}:{line}: unsupported import; use "
                    '`import { name } from "./module.js";` at the top level'
                )
            continue
        if match["indent"]:
            raise BundleError(f"{path}:{line}: export must be at the top level")
        end = source.find("\n", match.start())
        statement = source[match.start() : end if end >= 0 else len(source)]
        exports.append(export_name(path, line, statement))
    for number, text in enumerate(source.splitlines(), start=1):
        if DYNAMIC_IMPORT.search(text) and not text.lstrip().startswith(("//", "*", "/*")):
            raise BundleError(
                f"{path}:{number}: dynamic import() and import.meta are not supported"
            )
    duplicates = {name for name in exports if exports.count(name) > 1}
    if duplicates:
        raise BundleError(f"{path}: exported twice: {', '.join(sorted(duplicates))}")

    body = without_spans(source, import_spans)
    body = re.sub(r"^export\s+", "", body, flags=re.M)
    return Module(path=path, body=body, imports=imports, exports=exports)


def export_name(path: Path, line: int, statement: str) -> str:
    for pattern, reason in REFUSED_EXPORTS:
        if pattern.match(statement):
            raise BundleError(f"{path}:{line}: {reason}")
    declaration = EXPORT_DECLARATION.match(statement)
    if not declaration:
        raise BundleError(
            f"{path}:{line}: unsupported export; use `export function NAME`, "
            "`export class NAME` or `export const NAME = ...`"
        )
    return declaration["name"]


def import_names(path: Path, line: int, names: str) -> list[tuple[str, str]]:
    pairs = []
    for item in names.split(","):
        item = " ".join(item.split())
        if not item:
            continue
        match = IMPORT_NAME.match(item)
        if not match:
            raise BundleError(f"{path}:{line}: cannot read the imported name {item!r}")
        pairs.append((match["name"], match["alias"] or match["name"]))
    if not pairs:
        raise BundleError(f"{path}:{line}: an import must name what it imports")
    return pairs


def resolve_import(path: Path, line: int, specifier: str) -> Path:
    if not specifier.startswith(("./", "../")) or not specifier.endswith(".js"):
        raise BundleError(
            f"{path}:{line}: only relative imports of .js files can be bundled, not {specifier!r}"
        )
    target = (path.parent / specifier).resolve()
    if not target.is_file():
        raise BundleError(f"{path}:{line}: {specifier!r} does not exist ({target})")
    return target


def module_variables(modules: list[Module], root: Path) -> dict[Path, str]:
    variables: dict[Path, str] = {}
    for module in modules:
        stem = display(module.path, root).removesuffix(".js")
        name = "__mod_" + re.sub(r"[^\w$]", "_", stem)
        candidate, number = name, 2
        while candidate in variables.values():
            candidate, number = f"{name}_{number}", number + 1
        variables[module.path] = candidate
    return variables


def wrapped(module: Module, names: dict[Path, str], root: Path) -> str:
    lines = [f"\n// {display(module.path, root)}", f"const {names[module.path]} = (function () {{"]
    for imported in module.imports:
        bindings = ", ".join(
            name if name == local else f"{name}: {local}" for name, local in imported.names
        )
        lines.append(f"const {{ {bindings} }} = {names[imported.source]};")
    lines.append(module.body.strip("\n"))
    lines.append(f"return {{ {', '.join(module.exports)} }};" if module.exports else "return {};")
    lines.append("})();\n")
    return "\n".join(lines)


def without_spans(text: str, spans: list[tuple[int, int]]) -> str:
    kept, position = [], 0
    for start, end in spans:
        kept.append(text[position:start])
        position = end
    kept.append(text[position:])
    return "".join(kept)


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def display(path: Path, base: Path) -> str:
    return path.relative_to(base).as_posix() if path.is_relative_to(base) else str(path)
