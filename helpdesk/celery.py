"""The Celery application. Only used when a broker is configured (service mode)."""

import os

from celery import Celery
from celery.signals import worker_init, worker_ready, worker_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


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
