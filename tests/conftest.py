import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

from tests.factories import (
    ContactFactory,
    ConversationFactory,
    InboxFactory,
    MembershipFactory,
    TenantFactory,
)
from tests.support.layers import Listener

REPO_ROOT = Path(__file__).resolve().parent.parent

# fake_llm / fake_llm_server: the OpenAI-compatible test server, for any test that needs it;
# dns / connects: a fake resolver and a connection recorder (tests/fakes/network.py).
pytest_plugins = ["tests.fakes.fixtures", "tests.fakes.network"]


def service_mode() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and bool(
        settings.REDIS_URL
    )


SERVICES_REASON = (
    "service mode only: set DATABASE_URL=postgres://... and REDIS_URL=redis://... "
    "(`make test` runs this pass itself when PostgreSQL and Redis are up)"
)


def pytest_configure(config):
    # Git keeps only the .po files; build the .mo files before any test translates (a clone
    # has none, and an edited .po is newer than its .mo).
    from helpdesk.core.catalogs import catalogs_compile

    catalogs_compile(locale_dirs=settings.LOCALE_PATHS)


def pytest_report_header(config):
    mode = "services (PostgreSQL + Redis + Celery)" if service_mode() else "embedded"
    return f"helpdesk mode: {mode}"


def pytest_collection_modifyitems(config, items):
    if service_mode():
        return
    skip = pytest.mark.skip(reason=SERVICES_REASON)
    for item in items:
        if "services" in item.keywords:
            item.add_marker(skip)


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.02):
    """Poll ``predicate`` until it returns something truthy; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout}s")
        time.sleep(interval)


def fresh_rate_window(window: int, spare: float = 15) -> None:
    """Wait, if need be, until the current rate-limit window (helpdesk/core/ratelimit.py counts
    per window of the clock) has ``spare`` seconds left: requests that straddle its end would be
    counted in two windows, and a test of the limit would pass them all."""
    while time.time() % window > window - spare:
        time.sleep(0.5)


@pytest.fixture(scope="session", autouse=True)
def _widget_is_built():
    """static/helpdesk/widget.js is built from static/helpdesk/widget/ and kept out of git; the
    pages tests load embed it, so bring it up to date first (whoever runs pytest, however)."""
    from helpdesk.widget.bundle import build_widget

    build_widget(settings.BASE_DIR / "static")


@pytest.fixture(scope="session", autouse=True)
def _no_queue_outlives_the_run():
    """Jobs this run queued that no worker took (a queue reminder due in minutes, jobs of tests
    without a worker) stay in Redis under this run's own queue name (tests/settings.py), one
    more queue with every run. Remove the queue and what kombu keeps about it at the end."""
    yield
    broker_url = settings.CELERY_BROKER_URL or ""
    if not broker_url.startswith(("redis:", "rediss:")):
        return
    import json

    import redis
    from kombu.transport.redis import Channel

    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    lists = [queue, *(f"{queue}{Channel.sep}{step}" for step in Channel.priority_steps if step)]
    bindings = [Channel.keyprefix_queue % queue, Channel.keyprefix_binding_permanent % queue]
    client = redis.Redis.from_url(broker_url)
    try:
        client.delete(*lists, *bindings)
        # Taken by a worker that was stopped before it acknowledged them (reminders it held
        # until their time): another worker would put them back into the queue.
        for tag, entry in client.hscan_iter(Channel.unacked_key):
            if json.loads(entry)[2] == queue:  # [message, exchange, routing key]
                client.hdel(Channel.unacked_key, tag)
                client.zrem(Channel.unacked_index_key, tag)
    finally:
        client.close()


@pytest.fixture(scope="session", autouse=True)
def _no_upload_outlives_the_run():
    """Attachments of this run go to its own MEDIA_ROOT (tests/settings.py), removed at the end."""
    yield
    import shutil

    if "test_helpdesk_" in str(settings.MEDIA_ROOT):
        shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def _no_delayed_job_outlives_the_run(django_db_setup):
    """An in-process job due later (a queue reminder, minutes away) must not start once the
    test database is gone: it would fail, and its traceback would end the run's output."""
    yield
    from helpdesk.core.jobs import cancel_delayed_jobs

    cancel_delayed_jobs()


@pytest.fixture(scope="session", autouse=True)
def _no_connection_outlives_the_run(django_db_setup, django_db_blocker):
    """A thread of the run (the blocking-call pool, a background task still finishing) may hold
    a PostgreSQL connection when the run ends; the test database then cannot be dropped, and
    test databases pile up on the server. End those connections first."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def _default_language_again():
    """LocaleMiddleware activates each request's language and leaves it active in the thread:
    a test's Chinese request must not make the next test's strings Chinese."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and presence live in the cache; each test starts without them."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def listen():
    """``listen(*groups)``: a Listener on the channel layer, closed after the test."""
    listeners = []

    def make(*groups):
        listeners.append(Listener(*groups))
        return listeners[-1]

    yield make
    for listener in listeners:
        listener.close()


@pytest.fixture
def tenant():
    return TenantFactory()


@pytest.fixture
def other_tenant():
    return TenantFactory()


@pytest.fixture
def inbox(tenant):
    return InboxFactory(tenant=tenant)


@pytest.fixture
def contact(tenant):
    return ContactFactory(tenant=tenant)


@pytest.fixture
def conversation(tenant, inbox, contact):
    return ConversationFactory(tenant=tenant, inbox=inbox, contact=contact)


@pytest.fixture
def agent(tenant):
    return MembershipFactory(tenant=tenant).user


@pytest.fixture
def tenant_admin(tenant):
    membership = MembershipFactory(tenant=tenant, role="admin", user__is_staff=True)
    return membership.user


@pytest.fixture
def tenant_admin_client(client, tenant_admin):
    """The test client, logged in as ``tenant``'s admin."""
    client.force_login(tenant_admin)
    return client


def child_database_url() -> str:
    """A DATABASE_URL that points other processes at this run's test database."""
    from django.db import connection

    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    return urlunsplit(urlsplit(settings.DATABASE_URL)._replace(path=f"/{name}"))


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a server or worker this run starts: same settings, same test data."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": child_database_url(),
        "CELERY_TASK_DEFAULT_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        **extra,
    }


def stop_process(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A redis-server of a test's own, which the test may stop to see what breaks."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.start()

    def start(self) -> None:
        """Start it (again) on its port, empty, and return once it answers."""
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(self._answers, timeout=10, interval=0.05)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16) == b"+PONG\r\n"
        except OSError:
            return False

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()

    def restart(self, down_seconds: float) -> float:
        """Kill it, keep it down ``down_seconds``, start it again on the same port, empty as a
        server without persistence comes back; the ``time.monotonic()`` it answered again."""
        self.stop()
        time.sleep(down_seconds)
        self.start()
        return time.monotonic()


@pytest.fixture
def redis_server():
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker):
    """A real Celery worker process against this run's test database and broker."""
    if not settings.CELERY_BROKER_URL:
        pytest.skip("needs a broker (REDIS_URL)")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "helpdesk", "worker",
            "--pool=threads", "--concurrency=4", "--loglevel=WARNING",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "-Q", settings.CELERY_TASK_DEFAULT_QUEUE,
        ],
        cwd=REPO_ROOT,
        env=child_env(),
    )  # fmt: skip
    from helpdesk.celery import app

    try:
        wait_until(lambda: app.control.ping(timeout=0.5), timeout=30, interval=0.2)
        yield process
    finally:
        stop_process(process)


SERVER_COMMANDS = {
    "daphne": ["-m", "daphne", "-b", "127.0.0.1", "-p", "{port}", "helpdesk.asgi:application"],
    # The faster option production may run (helpdesk/core/management/commands/serve.py).
    "uvicorn": ["manage.py", "serve", "--host", "127.0.0.1", "--port", "{port}"],
}


def start_server(port: int, server: str = "daphne", **env: str) -> subprocess.Popen:
    """A server process (daphne, or uvicorn through ``manage.py serve``) serving the whole
    ASGI app on ``port``, against this run's test database."""
    arguments = [part.format(port=port) for part in SERVER_COMMANDS[server]]
    process = subprocess.Popen(
        [sys.executable, *arguments],
        cwd=REPO_ROOT,
        env=child_env(**env),
        stderr=subprocess.DEVNULL if not os.environ.get("SERVER_LOGS") else None,
    )  # fmt: skip

    def answering():
        if process.poll() is not None:
            pytest.fail(f"the server on port {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            return False

    wait_until(answering, timeout=30, interval=0.1)
    return process


# Live servers take many connections from one address in a run; their limits are not under test.
LIVE_SERVER_ENV = {"RATE_IP_MESSAGES": "100000/60", "RATE_IP_VISITOR_TOKENS": "100000/60"}


@pytest.fixture(scope="session")
def live_server_url(django_db_setup, django_db_blocker):
    """One real daphne process for the session (socket.io, browsers, cross-process tests)."""
    port = free_port()
    process = start_server(port, **LIVE_SERVER_ENV)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)
