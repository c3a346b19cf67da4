import os
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

REPO_ROOT = Path(__file__).resolve().parent.parent


def service_mode() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and bool(
        settings.REDIS_URL
    )


SERVICES_REASON = (
    "service mode only: set DATABASE_URL=postgres://... and REDIS_URL=redis://... "
    "(`make test` runs this pass itself when PostgreSQL and Redis are up)"
)


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


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and presence live in the cache; each test starts without them."""
    from django.core.cache import cache

    cache.clear()


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


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker):
    """A real Celery worker process against this run's test database and broker."""
    if not settings.CELERY_BROKER_URL:
        pytest.skip("needs a broker (REDIS_URL)")
    from django.db import connection

    test_db = connection.settings_dict["NAME"]
    database_url = urlunsplit(urlsplit(settings.DATABASE_URL)._replace(path=f"/{test_db}"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url,
        "CELERY_TASK_DEFAULT_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
    }
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "helpdesk", "worker",
            "--pool=threads", "--concurrency=4", "--loglevel=WARNING",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "-Q", settings.CELERY_TASK_DEFAULT_QUEUE,
        ],
        cwd=REPO_ROOT,
        env=env,
    )  # fmt: skip
    from helpdesk.celery import app

    try:
        wait_until(lambda: app.control.ping(timeout=0.5), timeout=30, interval=0.2)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def tenant_admin_client(client, tenant_admin):
    """The test client, logged in as ``tenant``'s admin."""
    client.force_login(tenant_admin)
    return client
