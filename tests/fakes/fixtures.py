"""pytest fixtures for the fake LLM server.

Use them from a conftest.py (or a test module)::

    from tests.fakes.fixtures import fake_llm, fake_llm_server  # noqa: F401

``fake_llm_server`` is one server for the whole session (started once, on a free port);
``fake_llm`` hands it to a test with its script, rules, queue, recorded requests and counters
reset, and restarts it (same port) if a previous test stopped it.
"""

from collections.abc import Iterator

import pytest

from tests.fakes.llm_server import FakeLLMServer


@pytest.fixture(scope="session")
def fake_llm_server() -> Iterator[FakeLLMServer]:
    server = FakeLLMServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake_llm(fake_llm_server: FakeLLMServer) -> Iterator[FakeLLMServer]:
    if not fake_llm_server.running:
        fake_llm_server.start()
    fake_llm_server.reset()
    yield fake_llm_server
    if not fake_llm_server.running:
        fake_llm_server.start()
    fake_llm_server.reset()
