"""Real processes for the fault tests, on a Redis server of the test's own that it may restart.

``fault_redis`` is that server (``.url``, ``.restart(down_seconds)``); ``fault_worker`` a Celery
worker and ``fault_web`` a web server (its base URL), both pointed at it for the broker, the
channel layer and the cache, and at this run's test database. Never the shared Redis: the
tests stop and start this one.
"""

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import (
    LIVE_SERVER_ENV,
    REPO_ROOT,
    RedisServer,
    child_env,
    free_port,
    start_server,
    stop_process,
    wait_until,
)


@pytest.fixture
def fault_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    try:
        yield server
    finally:
        server.stop()


class WorkerProcess:
    """A Celery worker started as deployed (thread pool, gossip, mingle and remote control
    on), with its output in a file the test can read."""

    def __init__(self, redis_url: str, log: Path, **env: str):
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "-A", "helpdesk", "worker",
                    "--pool=threads", "--concurrency=8", "--loglevel=INFO",
                ],
                cwd=REPO_ROOT,
                env=child_env(REDIS_URL=redis_url, CELERY_BROKER_URL=redis_url, **env),
                stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.pid = self.process.pid
        wait_until(self._ready, timeout=30, interval=0.1)

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            pytest.fail(f"the worker exited with {self.process.returncode}:\n{self.output()}")
        return " ready." in self.output()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None


@pytest.fixture
def fault_worker(fault_redis, tmp_path) -> Iterator[WorkerProcess]:
    # The sweep for jobs lost with Redis runs often, so the test need not wait long for it.
    worker = WorkerProcess(
        fault_redis.url,
        tmp_path / "worker.log",
        UNANSWERED_SWEEP_SECONDS="1",
        UNANSWERED_GRACE_SECONDS="3",
    )
    try:
        yield worker
    finally:
        stop_process(worker.process)


@pytest.fixture
def fault_web(fault_redis) -> Iterator[str]:
    """A daphne process on ``fault_redis``: its base URL."""
    port = free_port()
    process = start_server(
        port,
        **LIVE_SERVER_ENV,
        # Fault tests' customers write as fast as they are answered; the limit is not under test.
        RATE_CUSTOMER_MESSAGES="100000/60",
        REDIS_URL=fault_redis.url,
        CELERY_BROKER_URL=fault_redis.url,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)
