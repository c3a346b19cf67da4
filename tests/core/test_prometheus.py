"""/metrics: who may read it, what it says, and that several processes add up."""

import importlib
import os
import subprocess
import sys
import textwrap

import pytest
from django.core.cache import cache
from prometheus_client import values
from prometheus_client.parser import text_string_to_metric_families

from helpdesk.ai.breaker import CircuitBreaker
from helpdesk.conversations import lifecycle
from helpdesk.conversations.handoff_reasons import KEYWORD, handoff_reason
from helpdesk.conversations.services import Sender, message_post
from helpdesk.core import prometheus
from tests.conftest import REPO_ROOT
from tests.factories import BotConfigFactory, ConversationFactory, InboxFactory

TOKEN = "s3cret-metrics-token"


def sample(name: str, labels: dict | None = None) -> float:
    return prometheus.REGISTRY.get_sample_value(name, labels or {}) or 0.0


def scrape(client, token: str | None = TOKEN):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
    return client.get("/metrics", **headers)


def parsed(response) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


# --- The view ---------------------------------------------------------------------------------


def test_without_a_token_configured_metrics_do_not_exist(client, settings):
    settings.METRICS_TOKEN = ""
    assert scrape(client).status_code == 404
    assert scrape(client, token=None).status_code == 404


@pytest.mark.parametrize("token", [None, "", "wrong", TOKEN + "x"])
def test_a_missing_or_wrong_token_is_refused(client, settings, token):
    settings.METRICS_TOKEN = TOKEN
    response = scrape(client, token=token)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"helpdesk_" not in response.content


def test_the_token_gets_the_text_exposition_format(client, settings):
    settings.METRICS_TOKEN = TOKEN
    response = scrape(client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    names = {family.name for family in text_string_to_metric_families(response.content.decode())}
    assert {
        "helpdesk_open_connections",
        "helpdesk_messages",
        "helpdesk_message_delivery_seconds",
        "helpdesk_handoffs",
        "helpdesk_bot_first_token_seconds",
        "helpdesk_bot_reply_seconds",
        "helpdesk_llm_errors",
        "helpdesk_llm_breakers_open",
        "helpdesk_webhook_deliveries",
        "helpdesk_webhook_duration_seconds",
        "helpdesk_job_queue_depth",
    } <= names


def test_a_failing_collection_is_a_503_not_a_500(client, settings, monkeypatch):
    settings.METRICS_TOKEN = TOKEN

    def broken(registry):
        raise RuntimeError("boom")

    monkeypatch.setattr(prometheus, "generate_latest", broken)
    assert scrape(client).status_code == 503


def test_an_unreachable_broker_leaves_the_queue_series_out(client, settings, monkeypatch):
    settings.METRICS_TOKEN = TOKEN
    monkeypatch.setattr("helpdesk.core.jobs.uses_broker", lambda: True)
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    prometheus._redis_clients.clear()
    response = scrape(client)
    assert response.status_code == 200
    assert b"helpdesk_job_queue_depth{" not in response.content
    prometheus._redis_clients.clear()


def test_the_in_process_queue_depth_is_reported(client, settings):
    settings.METRICS_TOKEN = TOKEN
    if settings.CELERY_BROKER_URL:
        pytest.skip("embedded mode only")
    found = parsed(scrape(client))
    assert ("helpdesk_job_queue_depth", (("queue", "in_process"),)) in found


# --- Instrumentation ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_posting_a_message_counts_it_by_sender(conversation, django_capture_on_commit_callbacks):
    contact_before = sample("helpdesk_messages_total", {"sender": "contact"})
    bot_before = sample("helpdesk_messages_total", {"sender": "bot"})
    latency_before = sample("helpdesk_message_delivery_seconds_count")
    with django_capture_on_commit_callbacks(execute=True):
        message_post(
            tenant=conversation.tenant,
            conversation_id=conversation.pk,
            sender=Sender.contact(),
            text="hello",
        )
    with django_capture_on_commit_callbacks(execute=True):
        message_post(
            tenant=conversation.tenant,
            conversation_id=conversation.pk,
            sender=Sender.bot(),
            text="hi there",
        )
    assert sample("helpdesk_messages_total", {"sender": "contact"}) == contact_before + 1
    assert sample("helpdesk_messages_total", {"sender": "bot"}) == bot_before + 1
    # Only a customer's message is timed to the agents.
    assert sample("helpdesk_message_delivery_seconds_count") == latency_before + 1


@pytest.mark.django_db
def test_a_rolled_back_message_is_not_counted(conversation, django_capture_on_commit_callbacks):
    before = sample("helpdesk_messages_total", {"sender": "contact"})
    with django_capture_on_commit_callbacks(execute=False):
        message_post(
            tenant=conversation.tenant,
            conversation_id=conversation.pk,
            sender=Sender.contact(),
            text="hello",
        )
    assert sample("helpdesk_messages_total", {"sender": "contact"}) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("reason", "label"),
    [
        (handoff_reason(KEYWORD, "refund please"), "keyword"),
        ("bot_unavailable:timeout after 30 s", "bot_unavailable"),
        ("no bot answers this inbox", "other"),  # free text: no label per wording
    ],
)
def test_a_handoff_is_counted_by_its_reason_code(
    tenant, reason, label, django_capture_on_commit_callbacks
):
    inbox = InboxFactory(tenant=tenant, bot=BotConfigFactory(tenant=tenant))
    conversation = ConversationFactory(tenant=tenant, inbox=inbox, status="bot")
    before = sample("helpdesk_handoffs_total", {"reason": label})
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.conversation_handoff(
            tenant=tenant, conversation_id=conversation.pk, reason=reason
        )
    assert sample("helpdesk_handoffs_total", {"reason": label}) == before + 1


@pytest.mark.asyncio
@pytest.mark.django_db
async def test_the_breaker_gauge_follows_opening_and_closing():
    breaker = CircuitBreaker(
        tenant_id=1, endpoint="openai:https://x.test", threshold=2, cooldown=60
    )
    await cache.adelete_many([breaker.failures_key, breaker.opened_key, breaker.trial_key])
    before = sample("helpdesk_llm_breakers_open")
    await breaker.record_failure()
    assert sample("helpdesk_llm_breakers_open") == before
    await breaker.record_failure()
    assert sample("helpdesk_llm_breakers_open") == before + 1
    await breaker.record_failure()  # already open: no second count
    assert sample("helpdesk_llm_breakers_open") == before + 1
    await breaker.record_success()
    assert sample("helpdesk_llm_breakers_open") == before
    await breaker.record_success()  # already closed
    assert sample("helpdesk_llm_breakers_open") == before


def test_llm_error_kinds_are_a_small_vocabulary():
    import openai

    from helpdesk.ai.providers.base import ProviderError

    def caused(error: BaseException) -> ProviderError:
        try:
            raise ProviderError("the endpoint failed") from error
        except ProviderError as wrapped:
            return wrapped

    request = __import__("httpx").Request("POST", "https://x.test")
    assert prometheus.llm_error_kind(caused(openai.APITimeoutError(request=request))) == "timeout"
    assert (
        prometheus.llm_error_kind(caused(openai.APIConnectionError(request=request)))
        == "connection"
    )
    assert prometheus.llm_error_kind(ProviderError("no complete reply within 90 s")) == "deadline"
    assert prometheus.llm_error_kind(ProviderError("the stream broke off")) == "provider"
    assert prometheus.llm_error_kind(KeyError("x")) == "internal"


# --- Several processes ---------------------------------------------------------------------------


@pytest.fixture
def multiprocess_dir(tmp_path, monkeypatch):
    """This process in multiprocess mode, writing to a fresh directory, for the test only."""
    directory = tmp_path / "prometheus"
    monkeypatch.setenv(prometheus.MULTIPROC_ENV, str(directory))
    importlib.reload(prometheus)
    assert values.ValueClass is not values.MutexValue
    yield directory
    monkeypatch.delenv(prometheus.MULTIPROC_ENV)
    importlib.reload(prometheus)
    assert values.ValueClass is values.MutexValue


CHILD = textwrap.dedent(
    """
    from helpdesk.core import prometheus

    prometheus.MESSAGES.labels("agent").inc(3)
    prometheus.OPEN_CONNECTIONS.labels("websocket", "agent").inc(2)
    prometheus.BOT_FIRST_TOKEN.observe(0.7)
    print("done", flush=True)
    """
)


def test_scrape_sums_the_counters_of_every_process(client, settings, multiprocess_dir):
    settings.METRICS_TOKEN = TOKEN
    # This process.
    prometheus.MESSAGES.labels("agent").inc(2)
    prometheus.OPEN_CONNECTIONS.labels("websocket", "agent").inc()
    prometheus.BOT_FIRST_TOKEN.observe(0.2)
    # Another process, with the same directory, that ends (and so is marked dead at exit).
    env = {**os.environ, prometheus.MULTIPROC_ENV: str(multiprocess_dir)}
    child = subprocess.run(
        [sys.executable, "-c", CHILD],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.returncode == 0, child.stderr
    assert len(list(multiprocess_dir.glob("counter_*.db"))) == 2  # one file per process

    found = parsed(scrape(client))

    assert found[("helpdesk_messages_total", (("sender", "agent"),))] == 5
    assert found[("helpdesk_bot_first_token_seconds_count", ())] == 2
    assert found[("helpdesk_bot_first_token_seconds_sum", ())] == pytest.approx(0.9)
    # The child is gone: its open connections no longer count, its messages still do.
    assert (
        found[("helpdesk_open_connections", (("side", "agent"), ("transport", "websocket")))] == 1
    )
    assert ("helpdesk_job_queue_depth", (("queue", "in_process"),)) in found or (
        settings.CELERY_BROKER_URL
    )


# --- The dashboard --------------------------------------------------------------------------------


def test_the_grafana_dashboard_uses_only_metrics_that_exist(client, settings):
    import json
    import re

    settings.METRICS_TOKEN = TOKEN
    dashboard = json.loads((REPO_ROOT / "deploy/grafana/helpdesk.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    used = set(re.findall(r"\bhelpdesk_[a-z_]+", " ".join(exprs)))
    exposed = {
        s.name
        for family in text_string_to_metric_families(scrape(client).content.decode())
        for s in family.samples
    }
    # Histograms without observations still expose their buckets; a labelled counter without
    # a child has no sample, so compare by family too.
    families = {
        family.name for family in text_string_to_metric_families(scrape(client).content.decode())
    }
    suffixes = ("_total", "_bucket", "_count", "_sum")
    missing = {
        name
        for name in used
        if name not in exposed
        and name not in families
        and not any(name.endswith(s) and name[: -len(s)] in families for s in suffixes)
    }
    assert len(used) >= 10
    assert missing == set()


async def test_a_streamed_reply_times_its_first_token_and_its_duration(monkeypatch):
    from helpdesk.ai.relay import StreamRelay
    from helpdesk.realtime import events

    class Layer:
        async def group_send(self, group, message):
            pass

    monkeypatch.setattr(events, "get_channel_layer", Layer)

    async def open_message():
        return 1, 1

    def relay():
        return StreamRelay(
            tenant_id=1, conversation_id=1, interval=0.05, filters=[], open_message=open_message
        )

    first_before = sample("helpdesk_bot_first_token_seconds_count")
    complete_before = sample("helpdesk_bot_reply_seconds_count", {"outcome": "complete"})
    interrupted_before = sample("helpdesk_bot_reply_seconds_count", {"outcome": "interrupted"})

    answered = relay()
    answered.start()
    await answered.push("Hello")
    await answered.push(", world")
    assert await answered.finish() == "Hello, world"
    stopped = relay()
    stopped.start()
    await stopped.push("Hel")
    await stopped.abandon()

    assert sample("helpdesk_bot_first_token_seconds_count") == first_before + 2
    assert (
        sample("helpdesk_bot_reply_seconds_count", {"outcome": "complete"}) == complete_before + 1
    )
    assert (
        sample("helpdesk_bot_reply_seconds_count", {"outcome": "interrupted"})
        == interrupted_before + 1
    )


@pytest.mark.services
def test_the_broker_queue_depth_and_oldest_age_are_read_at_scrape_time(client, settings):
    import time
    import uuid

    import redis
    from kombu.transport.redis import Channel

    from helpdesk.celery import app

    settings.METRICS_TOKEN = TOKEN
    queue = f"helpdesk-metrics-test-{uuid.uuid4().hex[:8]}"  # no worker reads it
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        app.send_task("helpdesk.metrics_test.never_run", queue=queue, routing_key=queue)
        time.sleep(1.1)
        app.send_task("helpdesk.metrics_test.never_run", queue=queue, routing_key=queue)
        found = parsed(scrape(client))
        waiting = broker.llen(queue)
    finally:
        broker.delete(
            queue, Channel.keyprefix_queue % queue, Channel.keyprefix_binding_permanent % queue
        )
    # Compared with the broker itself: a Redis restarted meanwhile (by fault tests running on
    # the same server) may have lost the first job.
    assert waiting >= 1
    assert found[("helpdesk_job_queue_depth", (("queue", queue),))] == waiting
    oldest = found[("helpdesk_job_queue_oldest_seconds", (("queue", queue),))]
    assert (1.0 if waiting == 2 else 0.0) <= oldest < 30


@pytest.mark.django_db(transaction=True)
async def test_bot_replies_and_llm_errors_are_counted(tenant, fake_llm):
    from channels.db import database_sync_to_async

    from helpdesk.ai.pipeline import bot_reply
    from helpdesk.ai.providers import openai_compat
    from tests.factories import ModelBotFactory

    openai_compat._features.clear()
    openai_compat._clients.clear()
    bot = await database_sync_to_async(ModelBotFactory)(
        tenant=tenant,
        base_url=fake_llm.base_url,
        request_timeout_seconds=2,
        max_retries=0,
        breaker_failure_threshold=1,
        breaker_cooldown_seconds=60,
        delta_interval_ms=50,
    )
    inbox = await database_sync_to_async(InboxFactory)(tenant=tenant, bot=bot)

    async def one_reply():
        conversation = await database_sync_to_async(ConversationFactory)(tenant=tenant, inbox=inbox)
        posted = await database_sync_to_async(message_post)(
            tenant=tenant, conversation_id=conversation.pk, sender=Sender.contact(), text="hello"
        )
        return await bot_reply(posted.message)

    answered = sample("helpdesk_bot_replies_total", {"outcome": "answered"})
    fallbacks = sample("helpdesk_bot_replies_total", {"outcome": "fallback"})
    server_errors = sample("helpdesk_llm_errors_total", {"kind": "server_error"})
    breaker_open = sample("helpdesk_llm_errors_total", {"kind": "breaker_open"})
    try:
        fake_llm.script(reply="Hello there.")
        assert (await one_reply()).status == "answered"
        fake_llm.reset()
        fake_llm.script(fail=500)
        assert (await one_reply()).status == "fallback"  # the call fails: the breaker opens
        assert (await one_reply()).status == "fallback"  # no call: the breaker is open
    finally:
        openai_compat._features.clear()
        openai_compat._clients.clear()

    assert sample("helpdesk_bot_replies_total", {"outcome": "answered"}) == answered + 1
    assert sample("helpdesk_bot_replies_total", {"outcome": "fallback"}) == fallbacks + 2
    assert sample("helpdesk_llm_errors_total", {"kind": "server_error"}) == server_errors + 1
    assert sample("helpdesk_llm_errors_total", {"kind": "breaker_open"}) == breaker_open + 1
