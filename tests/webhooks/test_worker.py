"""Deliveries through a real Celery worker (service mode): the retry is a countdown job that the
worker runs, and the worker refuses what the web process would refuse."""

import subprocess
import sys
import uuid

import pytest
from django.conf import settings

from helpdesk.conversations.services import Sender, message_post
from helpdesk.webhooks.models import WebhookDelivery
from helpdesk.webhooks.tasks import webhook_deliver
from tests.conftest import REPO_ROOT, child_env, stop_process, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]


@pytest.fixture
def worker_queue(monkeypatch):
    """A worker of this module's own on a queue of its own, allowed to reach 127.0.0.1 with
    short retries; this process sends the deliveries' jobs to that queue."""
    queue = f"{settings.CELERY_TASK_DEFAULT_QUEUE}-webhooks-{uuid.uuid4().hex[:6]}"
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "helpdesk", "worker",
            "--pool=threads", "--concurrency=2", "--loglevel=WARNING",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", queue,
        ],
        cwd=REPO_ROOT,
        env=child_env(
            CELERY_TASK_DEFAULT_QUEUE=queue,
            WEBHOOK_ALLOWED_INTERNAL_HOSTS="127.0.0.0/8",
            WEBHOOK_RETRY_SECONDS="0.5,0.5",
        ),
    )  # fmt: skip
    from helpdesk.celery import app

    original = webhook_deliver.apply_async
    monkeypatch.setattr(
        webhook_deliver, "apply_async", lambda *a, **kw: original(*a, **{**kw, "queue": queue})
    )
    monkeypatch.setattr("helpdesk.core.jobs.uses_broker", lambda: True)
    try:
        wait_until(
            lambda: app.control.ping(destination=None, timeout=0.5), timeout=30, interval=0.2
        )
        yield queue
    finally:
        stop_process(process)
        import redis

        client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        client.delete(queue)
        client.close()


def test_a_worker_retries_a_500_and_delivers(worker_queue, receiver, make_webhook, conversation,
                                              agent):  # fmt: skip
    receiver.answers = [500]
    make_webhook(receiver.url)

    message_post(
        tenant=conversation.tenant,
        conversation_id=conversation.pk,
        sender=Sender.agent(agent),
        text="through the worker",
    )

    wait_until(lambda: WebhookDelivery.objects.filter(status="delivered").exists(), timeout=30)
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 2
    assert [r.json["data"]["message"]["text"] for r in receiver.received] == [
        "through the worker"
    ] * 2
