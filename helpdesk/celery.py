"""The Celery application. Only used when a broker is configured (service mode)."""

import os
import time

from celery import Celery
from celery.signals import (
    before_task_publish,
    setup_logging,
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_shutdown,
    worker_ready,
    worker_shutdown,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _use_the_projects_logging(**_kwargs) -> None:
    # Connected, this keeps Celery from putting its own handler and format on the root logger:
    # workers log like the web processes (LOG_FORMAT, with the job id on every line).
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


@worker_init.connect
def _check_services_on_worker_start(**_kwargs) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from helpdesk.core.startup import verify_services

    try:
        verify_services()
    except ImproperlyConfigured as exc:
        # Celery logs an Exception raised by a signal handler and starts the worker anyway,
        # which would then run without its database or broker and never crash-loop. SystemExit
        # is no Exception: it passes through and ends the process with status 1, printing the
        # message (it names the variable) on stderr.
        raise SystemExit(str(exc)) from None
    # Load the AI side now rather than inside the first customer's reply (the openai SDK alone
    # takes a good part of a second to import).
    import helpdesk.ai.pipeline  # noqa: F401


@worker_ready.connect
def _sweep_unanswered_messages(**_kwargs) -> None:
    from helpdesk.ai.unanswered import start_sweeping

    start_sweeping()


@worker_shutdown.connect
def _stop_sweeping(**_kwargs) -> None:
    from helpdesk.ai.unanswered import stop_sweeping

    stop_sweeping()


@worker_process_shutdown.connect
def _mark_pool_process_dead(**_kwargs) -> None:
    # Prefork pool processes leave through os._exit, without atexit (which marks the others,
    # the main worker process included): their live gauges would count on
    # (helpdesk/core/prometheus.py).
    from helpdesk.core.prometheus import mark_process_dead

    mark_process_dead()


@before_task_publish.connect
def _stamp_publish_time(headers=None, **_kwargs) -> None:
    # The job queue's oldest age (/metrics) is read from this header of the oldest message.
    if headers is not None:
        headers["helpdesk_published_at"] = time.time()


@task_prerun.connect
def _log_job_id(task_id=None, **_kwargs) -> None:
    from helpdesk.core import logging as log_context

    log_context.clear()
    log_context.bind(job_id=task_id)


@task_postrun.connect
def _forget_job_id(**_kwargs) -> None:
    from helpdesk.core import logging as log_context

    log_context.clear()
