import json
import time
import urllib.error
import urllib.request

import pytest
import redis
from django.conf import settings

from helpdesk.core.health import CHECK_TIMEOUT
from tests.conftest import free_port, start_server, stop_process


def get(url: str) -> tuple[int, dict, float]:
    """Status, JSON body and seconds taken of a GET to a server this test started."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    return status, json.loads(body), time.monotonic() - started


def test_liveness_answers_without_asking_any_service(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_ready_when_every_service_of_the_mode_answers(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    expected = {"database": "ok", "channel_layer": "ok", "cache": "ok"}
    if settings.CELERY_BROKER_URL:
        expected["broker"] = "ok"
    assert response.json() == {"status": "ready", "checks": expected}


@pytest.mark.django_db
def test_not_ready_naming_an_amqp_broker_that_does_not_answer(client, settings):
    settings.CELERY_BROKER_URL = f"amqp://helpdesk:s3cret@127.0.0.1:{free_port()}//"

    response = client.get("/readyz")

    assert response.status_code == 503
    # Refused at once, not retried until the check's time runs out.
    assert response.json()["checks"]["broker"] == "failed: OperationalError"
    assert "s3cret" not in response.content.decode()


@pytest.mark.slow
@pytest.mark.parametrize(
    "database_url",
    [
        "postgres://helpdesk:s3cret-password@127.0.0.1:{dead_port}/helpdesk",
        "sqlite:////nonexistent-directory/s3cret-password/db.sqlite3",
    ],
    ids=["postgresql", "sqlite"],
)
def test_not_ready_naming_the_database_when_it_does_not_answer(database_url):
    port = free_port()
    server = start_server(port, DATABASE_URL=database_url.format(dead_port=free_port()))
    try:
        status, body, seconds = get(f"http://127.0.0.1:{port}/readyz")
    finally:
        stop_process(server)

    assert status == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["database"].startswith("failed")
    assert body["checks"]["channel_layer"] == "ok"
    assert "s3cret" not in json.dumps(body)
    assert seconds < CHECK_TIMEOUT + 2


@pytest.mark.slow
def test_not_ready_naming_redis_checks_once_redis_stops(redis_server):
    port = free_port()
    server = start_server(port, REDIS_URL=redis_server.url, CELERY_BROKER_URL=redis_server.url)
    try:
        url = f"http://127.0.0.1:{port}/readyz"
        status, body, _ = get(url)
        assert (status, body["status"]) == (200, "ready"), body
        assert set(body["checks"]) == {"database", "channel_layer", "cache", "broker"}

        # Polled every few seconds, the check reuses the process's connections.
        stats = redis.Redis.from_url(redis_server.url)
        connections_before = stats.info("stats")["total_connections_received"]
        for _ in range(20):
            assert get(url)[0] == 200
        assert stats.info("stats")["total_connections_received"] == connections_before
        stats.close()

        redis_server.stop()
        status, body, seconds = get(url)
    finally:
        stop_process(server)

    assert status == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    for check in ("channel_layer", "cache", "broker"):
        assert body["checks"][check].startswith("failed"), body
    assert seconds < CHECK_TIMEOUT + 2
