"""Settings come from the environment: every variable is documented, and bad values fail at
start naming the variable.

The start-up cases run ``django.setup()`` in a subprocess with a controlled environment, as a
server or worker would start; they need no database (the unreachable ones point at port 1).
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SETTINGS = REPO_ROOT / "helpdesk" / "settings.py"
CONFIGURATION_DOC = REPO_ROOT / "docs" / "configuration.md"

# Variables the tests set or clear themselves; a developer's shell must not leak into them.
_CLEARED = (
    "DEBUG",
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "STARTUP_CHECKS",
    "DJANGO_SETTINGS_MODULE",
    "VAR_DIR",
    "OPENAI_BASE_URL",
)


def variables_read_by_settings() -> set[str]:
    source = SETTINGS.read_text(encoding="utf-8")
    # Helpers such as _url_variable(name, ...) read the variable their first argument names.
    helpers = re.findall(r"^def (\w+)\(\s*name\b", source, flags=re.MULTILINE)
    readers = [r"env(?:\.\w+)?", r"os\.environ\.get", r"os\.getenv", *map(re.escape, helpers)]
    calls = re.finditer(rf"(?<!def )\b(?:{'|'.join(readers)})\(\s*([^,)]*)", source)
    found, unreadable = set(), []
    for call in calls:
        argument = call[1].strip()
        literal = re.fullmatch(r"""["']([A-Z][A-Z0-9_]*)["']""", argument)
        if literal:
            found.add(literal[1])
        elif argument == "name" or call[0].startswith("env.db_url_config"):
            continue  # inside a helper, or parsing a value already read
        else:
            unreadable.append(call[0])
    found |= set(re.findall(r"""os\.environ\[\s*["']([A-Z][A-Z0-9_]*)["']""", source))
    assert not unreadable, (
        f"settings.py reads the environment in a way this test cannot follow: {unreadable}; "
        "pass the variable's name as a string literal"
    )
    return found


def variables_in_doc_table() -> dict[str, list[str]]:
    """The rows of the one table in docs/configuration.md, by variable."""
    rows: dict[str, list[str]] = {}
    for line in CONFIGURATION_DOC.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.lstrip().startswith("|") and len(cells) >= 3:
            name = re.fullmatch(r"`([A-Z][A-Z0-9_]*)`", cells[0])
            if name:
                rows[name[1]] = cells[1:]
    return rows


def test_configuration_doc_lists_exactly_the_variables_settings_reads():
    read = variables_read_by_settings()
    documented = variables_in_doc_table()

    assert len(read) >= 20, f"the pattern found too few variables to be trusted: {sorted(read)}"
    assert sorted(read - documented.keys()) == [], "read by settings.py, missing in the table"
    assert sorted(documented.keys() - read) == [], "in the table, not read by settings.py"
    assert all(default and meaning for default, meaning, *_ in documented.values())


def start(code: str, tmp_path, **variables: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in _CLEARED}
    env.update(
        DJANGO_SETTINGS_MODULE="helpdesk.settings", VAR_DIR=str(tmp_path), PYTHONPATH=str(REPO_ROOT)
    )
    if (REPO_ROOT / ".env").exists():
        # settings.py reads a developer's .env for variables the environment lacks; an empty
        # value, which settings treat as unset, keeps that file out of these cases.
        env.update(dict.fromkeys(set(_CLEARED) - {"DJANGO_SETTINGS_MODULE", "VAR_DIR"}, ""))
    env.update(variables)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def failure_line(result: subprocess.CompletedProcess) -> str:
    """The exception line the process died with (the traceback's source lines would also
    contain variable names, so only the last line counts)."""
    assert result.returncode != 0, result.stdout
    return result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"DEBUG": "false"}, "SECRET_KEY"),
        ({"SECRET_KEY": "k", "DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"SECRET_KEY": "k", "DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"SECRET_KEY": "k", "REDIS_URL": "http://x"}, "REDIS_URL"),
        ({"SECRET_KEY": "k", "CELERY_BROKER_URL": "amqp://x"}, "CELERY_BROKER_URL"),
        ({"SECRET_KEY": "k", "RATE_CUSTOMER_MESSAGES": "lots"}, "RATE_CUSTOMER_MESSAGES"),
        ({"SECRET_KEY": "k", "LOGIN_FAILURE_LIMIT": "0"}, "LOGIN_FAILURE_LIMIT"),
        (
            {"SECRET_KEY": "k", "AI_ALLOWED_INTERNAL_HOSTS": "10.0.0.7/8"},
            "AI_ALLOWED_INTERNAL_HOSTS",
        ),
    ],
    ids=[
        "no-secret-key",
        "mysql-database-url",
        "garbage-database-url",
        "http-redis-url",
        "broker-without-redis",
        "malformed-rate",
        "zero-login-failure-limit",
        "malformed-internal-hosts",
    ],
)
def test_bad_configuration_fails_at_start_naming_the_variable(tmp_path, variables, named):
    line = failure_line(start("", tmp_path, **variables))

    assert line.startswith("django.core.exceptions.ImproperlyConfigured")
    assert named in line


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        # The pool waits DATABASE_POOL_TIMEOUT for a connection; keep the test short.
        (
            {"DATABASE_URL": "postgres://postgres@127.0.0.1:1/x", "DATABASE_POOL_TIMEOUT": "1"},
            "DATABASE_URL",
        ),
        ({"REDIS_URL": "redis://127.0.0.1:1/0"}, "REDIS_URL"),
    ],
    ids=["database", "redis"],
)
def test_unreachable_service_fails_the_startup_check_naming_the_variable(
    tmp_path, variables, named
):
    code = "from helpdesk.core.startup import verify_services; verify_services()"
    line = failure_line(start(code, tmp_path, SECRET_KEY="k", **variables))

    assert line.startswith("django.core.exceptions.ImproperlyConfigured")
    assert line.split(":", 2)[1].strip() == named


def test_nothing_but_a_secret_key_runs_embedded(tmp_path):
    code = (
        "import json; from django.conf import settings as s; print(json.dumps(["
        "s.DATABASES['default']['ENGINE'], s.CHANNEL_LAYERS['default']['BACKEND'],"
        "s.CACHES['default']['BACKEND'], s.CELERY_BROKER_URL, s.DEBUG]))"
    )
    result = start(code, tmp_path, SECRET_KEY="k")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        "django.db.backends.sqlite3",
        "helpdesk.realtime.layers.HubChannelLayer",
        "django.core.cache.backends.locmem.LocMemCache",
        None,
        False,
    ]
