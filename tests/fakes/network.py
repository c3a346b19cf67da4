"""A fake resolver and a recording network backend, so that no test reaches past 127.0.0.1.

``dns`` answers host names from a table (numeric hosts and ``localhost`` go to the real libc,
which parses them without a query); ``connects`` records every TCP connection httpcore makes and
fails the test on one to a non-loopback address unless it is diverted to a local one. Both are
fixtures for every test (``tests/conftest.py`` loads this module as a plugin).
"""

import socket

import httpcore
import pytest


class FakeDNS:
    """Answers names from a table; numeric hosts and localhost are parsed by the real libc."""

    def __init__(self):
        self.table: dict[str, list] = {}  # name -> list of answers, one per successive lookup
        self.lookups: list[str] = []
        self.real = socket.getaddrinfo

    def add(self, name: str, *answers: list[str]):
        self.table[name] = list(answers)

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else str(host)
        self.lookups.append(name)
        if name in self.table:
            answers = self.table[name]
            ips = answers.pop(0) if len(answers) > 1 else answers[0]
            return [
                (
                    socket.AF_INET6 if ":" in ip else socket.AF_INET,
                    socket.SOCK_STREAM,
                    socket.IPPROTO_TCP,
                    "",
                    (ip, port, 0, 0) if ":" in ip else (ip, port),
                )
                for ip in ips
            ]
        if name == "localhost":
            return self.real(host, port, family, type, proto, flags)
        return self.real(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)

    def count(self, name: str) -> int:
        return self.lookups.count(name)


@pytest.fixture
def dns(monkeypatch):
    fake = FakeDNS()
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


class ConnectRecorder:
    """Records every TCP connect httpcore makes; optionally diverts an address elsewhere."""

    def __init__(self):
        self.hosts: list[str] = []
        self.divert: dict[str, str] = {}
        self.original = httpcore.AnyIOBackend.connect_tcp

    def install(self, monkeypatch):
        recorder = self

        async def connect_tcp(backend, host, port, *args, **kwargs):
            recorder.hosts.append(host)
            if not host.startswith("127.") and host != "::1" and host not in recorder.divert:
                raise AssertionError(f"test tried to connect to {host}")
            real_host = recorder.divert.get(host, host)
            return await recorder.original(backend, real_host, port, *args, **kwargs)

        monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", connect_tcp)
        return self


@pytest.fixture
def connects(monkeypatch):
    return ConnectRecorder().install(monkeypatch)
