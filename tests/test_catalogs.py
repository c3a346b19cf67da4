"""The Chinese catalogs are complete: every user-visible string marked in the code has a
reviewed translation, and each translation keeps its placeholders.

makemessages runs over a copy of the project, so the catalogs in git are never rewritten by
the test; a string added to the code without a translation is then an untranslated entry of the
copy's catalog, and the test names it. Run `manage.py makemessages -l zh_Hans` (with the same
options as below) and translate the new entries to fix such a failure.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
LANGUAGE = "zh_Hans"
# What makemessages reads: the server's code and templates, and the JavaScript of the widget and
# the console, without third-party code and the widget's bundle (built from its modules).
SOURCES = ["manage.py", "helpdesk", "plugins", "templates", "static/helpdesk", "locale"]
IGNORED = ["static/helpdesk/vendor/*", "static/helpdesk/widget.js", "var/*"]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\{\s*\w+\s*\}\}|\{\w+\}")

# CI installs gettext (.ci/run), so there a missing xgettext fails the check instead of skipping it.
pytestmark = pytest.mark.skipif(
    shutil.which("xgettext") is None
    and os.environ.get("CI", "").strip().lower() not in {"1", "true", "yes"},
    reason="makemessages needs GNU gettext's xgettext (Debian's gettext; .ci/run installs it)",
)


@pytest.fixture(scope="module")
def fresh_catalogs(tmp_path_factory) -> dict[str, polib.POFile]:
    """The zh_Hans catalogs as makemessages leaves them for today's code."""
    copy = tmp_path_factory.mktemp("project")
    for source in SOURCES:
        path = REPO_ROOT / source
        if path.is_dir():
            shutil.copytree(path, copy / source, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, copy / source)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "SECRET_KEY": "catalog-check-only",
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        "STARTUP_CHECKS": "false",
        "VAR_DIR": str(copy / "var"),
        "PYTHONPATH": str(copy),
    }
    ignores = [f"--ignore={pattern}" for pattern in IGNORED]
    for domain in ("django", "djangojs"):
        subprocess.run(
            [sys.executable, "manage.py", "makemessages", "-l", LANGUAGE, "-d", domain, *ignores],
            cwd=copy,
            env=env,
            check=True,
            capture_output=True,
        )
    folder = copy / "locale" / LANGUAGE / "LC_MESSAGES"
    return {domain: polib.pofile(str(folder / f"{domain}.po")) for domain in ("django", "djangojs")}


def _problems(catalog: polib.POFile) -> list[str]:
    problems = []
    for entry in catalog:
        if entry.obsolete:
            continue
        where = ", ".join(f"{path}:{line}" for path, line in entry.occurrences[:2])
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {entry.msgid!r} ({where})")
        elif not entry.translated():
            problems.append(f"untranslated: {entry.msgid!r} ({where})")
        else:
            translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
            wanted = set(PLACEHOLDER.findall(entry.msgid))
            for translation in translations:
                if set(PLACEHOLDER.findall(translation)) != wanted:
                    problems.append(f"placeholders differ: {entry.msgid!r} -> {translation!r}")
    return problems


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_every_marked_string_has_a_chinese_translation(fresh_catalogs, domain):
    catalog = fresh_catalogs[domain]
    assert len(catalog) > 100, "makemessages found almost no strings: is the copy complete?"
    problems = _problems(catalog)
    assert not problems, f"{len(problems)} {domain} entries need work:\n" + "\n".join(problems)


def test_a_string_added_without_a_translation_is_named(fresh_catalogs):
    catalog = polib.POFile()
    catalog.metadata = fresh_catalogs["django"].metadata
    catalog.append(polib.POEntry(msgid="A new button", occurrences=[("new.py", "1")]))
    catalog.append(polib.POEntry(msgid="Checked", msgstr="已检查", flags=["fuzzy"]))
    catalog.append(polib.POEntry(msgid="Hi %(name)s", msgstr="你好"))

    assert _problems(catalog) == [
        "untranslated: 'A new button' (new.py:1)",
        "fuzzy: 'Checked' ()",
        "placeholders differ: 'Hi %(name)s' -> '你好'",
    ]
