"""A real HTTP receiver on 127.0.0.1 for webhook deliveries, allowed by the operator setting
WEBHOOK_ALLOWED_INTERNAL_HOSTS as an operator would allow an internal host."""

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from helpdesk.core.jobs import cancel_delayed_jobs, wait_for_in_process_jobs
from helpdesk.webhooks.models import Webhook


class Received:
    def __init__(self, headers: dict[str, str], body: bytes):
        self.headers = headers
        self.body = body

    @property
    def json(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """Records every POST; ``answers`` is a list of status codes (or ``"slow"``) used in turn,
    then 200 for ever."""

    def __init__(self):
        self.received: list[Received] = []
        self.answers: list = []
        self.slow_seconds = 2.0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    answer = receiver.answers.pop(0) if receiver.answers else 200
                    receiver.received.append(Received(dict(self.headers.items()), body))
                if answer == "slow":
                    time.sleep(receiver.slow_seconds)
                    answer = 200
                try:
                    self.send_response(answer)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def types(self) -> list[str]:
        return [r.json["type"] for r in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def _webhook_settings(settings, monkeypatch):
    # The deliveries run as in-process jobs in both modes, so that these settings (which a
    # worker process would not see) apply; tests/webhooks/test_worker.py runs a real worker.
    monkeypatch.setattr("helpdesk.core.jobs.uses_broker", lambda: False)
    settings.WEBHOOK_ALLOWED_INTERNAL_HOSTS = ["127.0.0.0/8"]
    settings.WEBHOOK_RETRY_SECONDS = [0.2, 0.2, 0.2]
    settings.WEBHOOK_TIMEOUT_SECONDS = 2.0
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 20
    yield
    wait_for_in_process_jobs(timeout=10)
    cancel_delayed_jobs()


@pytest.fixture
def make_webhook(tenant):
    def make(url: str, events=("message.created",), **kwargs) -> Webhook:
        return Webhook.objects.create(
            tenant=kwargs.pop("tenant", tenant), url=url, events=list(events), **kwargs
        )

    return make


def settle(predicate: Callable[[], object], timeout: float = 10.0):
    """Wait for the in-process jobs (and their delayed retries) until ``predicate`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        wait_for_in_process_jobs(timeout=timeout)
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout}s")
        time.sleep(0.05)
