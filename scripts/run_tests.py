"""The checks behind ``make test``, each reported with its time and, for pytest, its counts.

1. ``ruff check`` and ``ruff format --check``.
2. ``manage.py makemigrations --check --dry-run``: the models and the migrations agree.
3. pytest in embedded mode: SQLite, the in-memory channel layer, in-process jobs.
4. pytest in service mode: PostgreSQL, Redis and Celery at ``TEST_DATABASE_URL`` and
   ``TEST_REDIS_URL`` (defaults below). When they do not answer, this pass fails if ``CI`` is
   true; anywhere else it is skipped with a loud ``SERVICE MODE SKIPPED: <reason>`` line.
5. With the services, the load test's smoke run (deploy/loadtest/run.py): 500 sockets, 100
   messages a second, 10 s, on daphne and on uvicorn; any message lost fails it.

Every check runs even when an earlier one failed; the exit status is 1 when any failed. A pytest
pass that collects no test (pytest's exit status 5) or passes none counts as failed. Arguments
given to this script go to both pytest passes (``make test PYTEST_ARGS="-k demo"``).

Run it with the project's virtualenv Python: ``.venv/bin/python scripts/run_tests.py``.
"""

import os
import re
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/helpdesk"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
PYTEST_NO_TESTS_COLLECTED = 5
# 500 sockets over two web processes, 100 messages a second for 10 s: every message acked and
# every agent event delivered, or the check fails (deploy/loadtest/run.py exits 1).
SMOKE_ARGS = ["--connections", "500", "--rate", "100", "--duration", "10"]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
PYTEST_SUMMARY = re.compile(r"^=+ .* in [0-9.]+s")
COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected)\b")


@dataclass
class Result:
    name: str
    status: str  # "ok", "FAILED" or "SKIPPED"
    seconds: float
    detail: str = ""
    counts: dict[str, int] = field(default_factory=dict)


def main(pytest_args: list[str]) -> int:
    sys.stdout.reconfigure(line_buffering=True)
    (ROOT / "var").mkdir(exist_ok=True)  # VAR_DIR: SQLite files live here; a clone has none
    database_url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("TEST_REDIS_URL") or DEFAULT_REDIS_URL

    # Empty rather than unset, so that a developer's .env cannot switch this pass to services
    # (settings read .env only for variables the environment does not have).
    embedded = {"DATABASE_URL": "", "REDIS_URL": "", "CELERY_BROKER_URL": ""}
    services = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
    }

    results = [
        lint(),
        check_migrations(embedded),
        pytest_pass("pytest, embedded mode", embedded, pytest_args),
    ]
    problem = services_problem(database_url, redis_url)
    if problem is None:
        results.append(pytest_pass("pytest, service mode", services, pytest_args))
        if not pytest_args:  # a chosen subset of tests runs without the load test
            results.append(load_smoke(database_url, redis_url))
    elif os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
        banner("pytest, service mode")
        print(
            f"SERVICE MODE FAILED: {problem}. CI must run the suite against PostgreSQL and "
            "Redis: start them, or point TEST_DATABASE_URL / TEST_REDIS_URL at them."
        )
        results.append(Result("pytest, service mode", "FAILED", 0.0, problem))
    else:
        banner("pytest, service mode")
        print("!" * 78)
        print(f"SERVICE MODE SKIPPED: {problem}")
        print("  Start PostgreSQL and Redis, or set TEST_DATABASE_URL / TEST_REDIS_URL, to run")
        print("  the suite against real services too (CI=true turns this skip into a failure).")
        print("!" * 78)
        results.append(Result("pytest, service mode", "SKIPPED", 0.0, problem))
    return summarize(results)


def banner(title: str) -> None:
    print(f"\n==> {title}")


def child_env(overrides: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, **overrides}
    # pytest-django prefers this variable to pyproject's tests.settings; manage.py must use
    # the real settings. Neither may inherit a value from the caller's shell.
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def run(command: list[str], env: dict[str, str] | None = None) -> tuple[int, list[str]]:
    """Run ``command`` in the repository, showing its output; return its status and its last
    lines, with pytest's summary line among them wherever it stood (a thread's traceback
    printed at exit must not push it out)."""
    tail: deque[str] = deque(maxlen=40)
    summary = None
    with subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        for line in process.stdout:
            sys.stdout.write(line)
            clean = ANSI.sub("", line).rstrip("\n")
            tail.append(clean)
            if PYTEST_SUMMARY.match(clean):
                summary = clean
    if summary is not None and summary not in tail:
        tail.appendleft(summary)
    return process.returncode, list(tail)


def lint() -> Result:
    name = "ruff check + ruff format --check"
    banner(name)
    start = time.monotonic()
    check, _ = run([sys.executable, "-m", "ruff", "check", "."])
    form, _ = run([sys.executable, "-m", "ruff", "format", "--check", "."])
    failed = [label for label, status in (("check", check), ("format", form)) if status]
    return Result(
        name,
        "FAILED" if failed else "ok",
        time.monotonic() - start,
        f"ruff {' and '.join(failed)} failed" if failed else "",
    )


def check_migrations(env_overrides: dict[str, str]) -> Result:
    name = "makemigrations --check"
    banner(name)
    start = time.monotonic()
    env = child_env({**env_overrides, "SECRET_KEY": "makemigrations-check-only"})
    status, _ = run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"], env=env
    )
    detail = "models changed without a migration" if status else ""
    return Result(name, "FAILED" if status else "ok", time.monotonic() - start, detail)


def pytest_pass(name: str, env_overrides: dict[str, str], pytest_args: list[str]) -> Result:
    banner(name)
    start = time.monotonic()
    color = ["--color=yes"] if sys.stdout.isatty() else []
    status, tail = run(
        [sys.executable, "-m", "pytest", *color, *pytest_args], env=child_env(env_overrides)
    )
    seconds = time.monotonic() - start
    summary = next(
        (
            line.strip("= ")
            for line in reversed(tail)
            if " in " in line and re.search(r" in [0-9.]+s", line)
        ),
        "",
    )
    counts: dict[str, int] = {}
    for number, word in COUNT.findall(summary):
        key = "errors" if word.startswith("error") else word
        counts[key] = counts.get(key, 0) + int(number)
    if status == PYTEST_NO_TESTS_COLLECTED:
        return Result(name, "FAILED", seconds, "no tests collected (pytest exit 5)", counts)
    if status != 0:
        return Result(name, "FAILED", seconds, summary or f"pytest exit {status}", counts)
    if not counts.get("passed"):
        return Result(name, "FAILED", seconds, f"no test passed ({summary})", counts)
    return Result(name, "ok", seconds, summary, counts)


def load_smoke(database_url: str, redis_url: str) -> Result:
    """The load test, short: a change that loses messages under load fails here."""
    name = "load test smoke"
    banner(f"{name}: {' '.join(SMOKE_ARGS)} (daphne and uvicorn)")
    start = time.monotonic()
    parts = urlsplit(redis_url)
    status, tail = run(
        [sys.executable, "deploy/loadtest/run.py", *SMOKE_ARGS, "--server", "daphne", "uvicorn",
         "--database-url", urlunsplit(urlsplit(database_url)._replace(path="/helpdesk_loadtest")),
         "--redis-url", urlunsplit(parts._replace(path="/13"))],
        env=child_env({}),
    )  # fmt: skip
    lost = [line for line in tail if line.startswith("LOST")]
    detail = "; ".join(lost) or (f"exit {status}" if status else "nothing lost")
    return Result(name, "FAILED" if status else "ok", time.monotonic() - start, detail)


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


def services_problem(database_url: str, redis_url: str) -> str | None:
    """Why the service-mode pass cannot run, or None when PostgreSQL and Redis answer."""
    import psycopg
    import redis

    parts = urlsplit(database_url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        return f"TEST_DATABASE_URL is not a PostgreSQL URL: {redact(database_url)}"
    # pytest-django creates test_<name> from the server's "postgres" database (so does Django),
    # so the database the URL names need not exist.
    maintenance = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    try:
        with psycopg.connect(maintenance, connect_timeout=3) as connection:
            row = connection.execute(
                "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL at {redact(database_url)} does not answer ({reason})"
    if not (row and row[0]):
        return (
            f"the PostgreSQL role of {redact(database_url)} may not create databases, and "
            "pytest needs to create the test database"
        )
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    except (redis.RedisError, ValueError) as exc:
        return f"Redis at {redact(redis_url)} does not answer ({exc})"
    finally:
        client.close()
    return None


def summarize(results: list[Result]) -> int:
    banner("summary")
    for result in results:
        print(f"  {result.name:<34} {result.status:<8} {result.seconds:6.1f}s  {result.detail}")
    skipped_services = [r for r in results if r.status == "SKIPPED"]
    for result in skipped_services:
        print(f"SERVICE MODE SKIPPED: {result.detail}")
    total = {
        key: sum(r.counts.get(key, 0) for r in results)
        for key in ("passed", "failed", "errors", "skipped")
    }
    failed = [r.name for r in results if r.status == "FAILED"]
    print(f"make test: {'FAILED (' + ', '.join(failed) + ')' if failed else 'ok'}")
    # The last line in the plain form CI reads: both pytest passes added up.
    print(
        f"total: {total['passed']} passed, {total['failed'] + total['errors']} failed, "
        f"{total['skipped']} skipped"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
