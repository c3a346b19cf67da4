"""The Celery application. Only used when a broker is configured (service mode)."""

import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _check_services_on_worker_start(**_kwargs) -> None:
    from helpdesk.core.startup import verify_services

    verify_services()
    # Load the AI side now rather than inside the first customer's reply (the openai SDK alone
    # takes a good part of a second to import).
    import helpdesk.ai.pipeline  # noqa: F401
