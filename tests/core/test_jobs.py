import logging
import threading
import uuid

import pytest
from celery import shared_task
from django.core.cache import cache
from django.db import transaction

from helpdesk.core import jobs
from tests.conftest import wait_until
from tests.factories import TenantFactory
from tests.support.tasks import remember_tenant_name

_released = threading.Event()


@shared_task(name="tests.wait_for_release")
def wait_for_release(key: str) -> None:
    _released.wait(timeout=10)
    cache.set(key, "released")


@shared_task(name="tests.explode")
def explode() -> None:
    raise RuntimeError("boom")


@pytest.fixture
def in_process(settings):
    """The embedded dispatcher, whatever mode the suite runs in."""
    settings.CELERY_BROKER_URL = None
    yield
    assert jobs.wait_for_in_process_jobs(timeout=10)


def new_key() -> str:
    return f"job-{uuid.uuid4().hex}"


@pytest.mark.django_db(transaction=True)
def test_in_process_job_runs_after_commit_and_sees_committed_rows(in_process):
    key = new_key()
    with transaction.atomic():
        tenant = TenantFactory(name="Committed Co")
        jobs.enqueue(remember_tenant_name, key, tenant.pk)
        assert not jobs._pending, "the job must not start before the commit"

    assert jobs.wait_for_in_process_jobs(timeout=10)
    assert cache.get(key) == "Committed Co"


@pytest.mark.django_db(transaction=True)
def test_rolled_back_transaction_never_starts_the_job(in_process):
    key = new_key()

    def enqueue_then_fail():
        with transaction.atomic():
            tenant = TenantFactory()
            jobs.enqueue(remember_tenant_name, key, tenant.pk)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        enqueue_then_fail()

    assert jobs.wait_for_in_process_jobs(timeout=10)
    assert cache.get(key) is None


@pytest.mark.django_db(transaction=True)
def test_in_process_job_does_not_block_the_caller(in_process):
    key = new_key()
    _released.clear()

    jobs.enqueue(wait_for_release, key)

    assert cache.get(key) is None, "enqueue returned before the job finished"
    _released.set()
    wait_until(lambda: cache.get(key) == "released")


@pytest.mark.django_db(transaction=True)
def test_failing_in_process_job_is_logged_and_contained(in_process, caplog):
    with caplog.at_level(logging.ERROR, logger="helpdesk.core.jobs"):
        jobs.enqueue(explode)
        assert jobs.wait_for_in_process_jobs(timeout=10)

    assert "tests.explode failed" in caplog.text
    assert "boom" in caplog.text


def test_without_a_broker_the_dispatcher_runs_in_process(settings):
    settings.CELERY_BROKER_URL = None
    assert jobs.uses_broker() is False


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_with_a_broker_jobs_run_on_a_real_celery_worker(celery_worker):
    assert jobs.uses_broker()
    key = new_key()
    with transaction.atomic():
        tenant = TenantFactory(name="Worker Co")
        jobs.enqueue(remember_tenant_name, key, tenant.pk)

    assert not jobs._pending, "service mode must not use the in-process pool"
    assert wait_until(lambda: cache.get(key), timeout=20) == "Worker Co"


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_with_a_broker_a_rolled_back_job_never_reaches_the_worker(celery_worker):
    key, committed_key = new_key(), new_key()

    def enqueue_then_fail():
        with transaction.atomic():
            jobs.enqueue(remember_tenant_name, key, TenantFactory().pk)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        enqueue_then_fail()
    # A job enqueued afterwards runs; the worker has had every chance to run the first one.
    jobs.enqueue(remember_tenant_name, committed_key, TenantFactory(name="After").pk)

    assert wait_until(lambda: cache.get(committed_key), timeout=20) == "After"
    assert cache.get(key) is None


@pytest.mark.django_db(transaction=True)
def test_a_delayed_job_runs_at_its_time_unless_cancelled(in_process):
    tenant = TenantFactory(name="Later Co")
    due, cancelled = new_key(), new_key()

    jobs.enqueue_later(remember_tenant_name, 0.2, due, tenant.pk)
    wait_until(lambda: cache.get(due) == "Later Co", timeout=5)
    jobs.enqueue_later(remember_tenant_name, 0.5, cancelled, tenant.pk)

    # Earlier tests' reminders, due in minutes, may be waiting too.
    assert jobs.cancel_delayed_jobs() >= 1
    threading.Event().wait(1.0)
    assert cache.get(cancelled) is None
    assert jobs.cancel_delayed_jobs() == 0
