"""The Redis broker transport survives Redis going away under a busy worker.

Each test puts a kombu connection in the state a busy Celery worker is in (a job delivered and
not yet acknowledged, the next BRPOP waiting for a reply, and the remote-control mailbox on a
channel of its own), breaks the connection for real, and then tears it down the way Celery's
consumer does when it loses the broker (celery/worker/consumer/consumer.py,
on_connection_error_after_connected): collect(), errors ignored, then close().
"""

import contextlib

import pytest
from kombu import Connection, Consumer, Exchange, Producer, Queue
from kombu.common import ignore_errors

from helpdesk.core.broker import Transport

JOBS = Queue("jobs", Exchange("jobs", type="direct"), routing_key="jobs")
# Like Celery's remote-control mailbox: a fanout queue deleted with its channel.
MAILBOX = Queue("mailbox", Exchange("mailbox", type="fanout"), auto_delete=True)


def busy_connection(url: str, transport) -> Connection:
    """A connection holding one delivered, unacknowledged job, with its next BRPOP waiting."""
    connection = Connection(url, transport=transport)
    channel = connection.default_channel
    Producer(channel).publish(
        {"job": 1}, exchange=JOBS.exchange, routing_key="jobs", declare=[JOBS]
    )
    delivered = []
    Consumer(
        channel,
        [JOBS],
        callbacks=[lambda body, message: delivered.append(message)],
        accept=["json"],
    ).consume()
    Consumer(
        connection.channel(), [MAILBOX], callbacks=[lambda body, message: None], accept=["json"]
    ).consume()
    # A drain may also return for the mailbox's subscription; drain until the job came and
    # then until a drain times out, the next BRPOP left waiting.
    for _ in range(20):
        try:
            connection.drain_events(timeout=0.2)
        except TimeoutError:
            if delivered:
                break
    assert len(delivered) == 1
    assert channel._in_poll, "the next BRPOP should be waiting"
    return connection


def lose_broker(connection: Connection) -> None:
    """What Celery's consumer does with its connection once the broker is gone."""
    with contextlib.suppress(Exception):
        connection.collect(socket_timeout=5)
    ignore_errors(connection, connection.close)


def jobs_waiting(url: str) -> int:
    with Connection(url, transport=Transport) as connection:
        return connection.default_channel.client.llen("jobs")


def test_a_worker_survives_redis_going_away_with_a_job_unacknowledged(redis_server):
    connection = busy_connection(redis_server.url, Transport)
    redis_server.stop()

    lose_broker(connection)  # raised AttributeError ('NoneType' ... 'hostname') before the fix


def test_a_broken_connection_puts_the_unacknowledged_job_back_while_redis_is_up(redis_server):
    connection = busy_connection(redis_server.url, Transport)
    assert jobs_waiting(redis_server.url) == 0
    with Connection(redis_server.url, transport=Transport) as admin:
        admin.default_channel.client.client_kill_filter(_type="normal", skipme=True)

    lose_broker(connection)

    assert jobs_waiting(redis_server.url) == 1


def test_kombus_own_transport_still_needs_the_fix(redis_server):
    """When this fails, kombu closes such a channel properly: helpdesk/core/broker.py can go."""
    connection = busy_connection(redis_server.url, "redis")
    redis_server.stop()

    with pytest.raises(AttributeError, match="hostname"):
        lose_broker(connection)
