"""A real HTTP server on 127.0.0.1 for web sources, whose pages each test sets.

A test module takes its fixtures with ``site_server, site = web.site_server, web.site``.
Loopback is reachable only where a test allows it, as an operator would: the ``site`` fixture
puts 127.0.0.0/8 in KNOWLEDGE_ALLOWED_INTERNAL_HOSTS, and the tests of the address guard take it
out again.
"""

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Answer:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    # Sent in pieces without a Content-Length: a body whose size is only known by reading it.
    streamed: bool = False


class Site:
    def __init__(self, url: str):
        self.url = url
        self.answers: dict[str, Answer] = {}
        self.hits: Counter = Counter()

    def serve(self, path: str, body: bytes | str = b"", **answer) -> str:
        """Answer GET ``path`` so from now on; returns the page's full URL."""
        if isinstance(body, str):
            body = body.encode()
        self.answers[path] = Answer(body, **answer)
        return self.url + path

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        return self.serve(path, status=status, headers={"Location": location})


class _Handler(BaseHTTPRequestHandler):
    site: Site

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.site.hits[self.path] += 1
        answer = self.site.answers.get(self.path)
        if answer is None:
            answer = Answer(b"not here", "text/plain", 404)
        time.sleep(answer.delay)
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        if answer.streamed:
            self.end_headers()
            try:
                for start in range(0, len(answer.body), 65536):
                    self.wfile.write(answer.body[start : start + 65536])
            except OSError:
                return  # the client stopped reading, as it should past its limit
            return
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        try:
            self.wfile.write(answer.body)
        except OSError:
            return


@pytest.fixture(scope="module")
def site_server():
    handler = type("Handler", (_Handler,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler
    server.shutdown()
    server.server_close()


@pytest.fixture
def site(site_server, settings):
    """The local site, with no pages yet; loopback allowed for this test."""
    server, handler = site_server
    handler.site = Site(f"http://127.0.0.1:{server.server_address[1]}")
    settings.KNOWLEDGE_ALLOWED_INTERNAL_HOSTS = ["127.0.0.0/8"]
    return handler.site
