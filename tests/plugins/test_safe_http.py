"""SafeHttpClient against a real local HTTP(S) server on 127.0.0.1.

No test sends a packet anywhere but 127.0.0.1: host names are answered by a fake
``socket.getaddrinfo`` (numeric strings and ``localhost`` are parsed locally), and "public"
addresses are documentation addresses whose connection a patched network backend either records
and refuses or diverts to the local server (the ``dns`` and ``connects`` fixtures,
tests/fakes/network.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import json
import socket
import ssl
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from helpdesk.plugins import safe_http
from helpdesk.plugins.safe_http import (
    BlockedURL,
    FetchError,
    SafeFetchError,
    SafeHttpClient,
    address_problem,
    sniff_charset,
)

MB = 1024 * 1024


# --------------------------------------------------------------------------------------------
# A raw asyncio HTTP/1.1 server in its own thread (full control over lying headers, drips...)
# --------------------------------------------------------------------------------------------


class LocalServer:
    def __init__(self, ssl_context: ssl.SSLContext | None = None):
        self.ssl_context = ssl_context
        self.requests: list[dict] = []
        self.sni: list[str | None] = []
        if ssl_context is not None:
            ssl_context.sni_callback = lambda _obj, name, _ctx: self.sni.append(name)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> LocalServer:
        self.thread.start()
        future = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ssl_context), self.loop
        )
        self.server = future.result(10)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        async def close():
            self.server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            lines = head.decode("latin-1").split("\r\n")
            method, target, _version = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            parts = urlsplit(target)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            self.requests.append({"method": method, "path": parts.path, "headers": headers})
            handler = getattr(self, "route_" + parts.path.strip("/").replace("-", "_"), None)
            if handler is None:
                await respond(writer, 404, "text/plain", b"not found")
            else:
                await handler(writer, query)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError, ssl.SSLError):
            pass
        except asyncio.CancelledError:  # server shutdown; 3.11 streams log a cancelled task
            pass
        finally:
            writer.close()

    # -- routes ------------------------------------------------------------------------------

    async def route_html(self, w, q):
        await respond(w, 200, "text/html; charset=utf-8", b"<html><title>Hello</title></html>")

    async def route_json(self, w, q):
        await respond(w, 200, "application/json", b'{"name": "Trail shoe", "price": 89}')

    async def route_echo(self, w, q):
        host = self.requests[-1]["headers"].get("host", "")
        await respond(w, 200, "application/json", json.dumps({"host": host}).encode())

    async def route_redirect(self, w, q):
        await respond(w, int(q.get("code", 302)), "text/html", b"", {"Location": q["to"]})

    async def route_loop(self, w, q):
        await respond(w, 302, "text/html", b"", {"Location": "/loop"})

    async def route_chain(self, w, q):
        n = int(q["n"])
        location = f"/chain?n={n - 1}" if n > 0 else "html"  # the last one is relative
        await respond(w, 301, "text/html", b"", {"Location": location})

    async def route_status(self, w, q):
        await respond(w, int(q["code"]), "text/html", b"<p>nope</p>")

    async def route_huge_cl(self, w, q):
        await respond_streaming(w, "text/html", 10 * MB, {"Content-Length": str(10 * MB)})

    async def route_huge_lying(self, w, q):
        # Claims 100 bytes that fit the limit, and the limit is what counts: h11 stops at 100.
        await respond_streaming(w, "text/html", 10 * MB, {"Content-Length": "100"})

    async def route_huge_close(self, w, q):
        await respond_streaming(w, "text/html", 10 * MB, {"Connection": "close"})

    async def route_huge_chunked(self, w, q):
        w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * 65536
        for _ in range(10 * MB // len(chunk)):
            w.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await w.drain()
        w.write(b"0\r\n\r\n")
        await w.drain()

    async def route_gzip_bomb(self, w, q):
        body = gzip.compress(b"\0" * (10 * MB))
        await respond(w, 200, "text/html", body, {"Content-Encoding": "gzip"})

    async def route_gzip_ok(self, w, q):
        body = gzip.compress("<title>Zipped ✓</title>".encode())
        await respond(w, 200, "text/html; charset=utf-8", body, {"Content-Encoding": "gzip"})

    async def route_exact(self, w, q):
        await respond(w, 200, "text/html", b"a" * int(q["n"]))

    async def route_drip(self, w, q):
        w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n")
        for _ in range(1000):
            w.write(b"x")
            await w.drain()
            await asyncio.sleep(0.1)

    async def route_stall(self, w, q):
        w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 10\r\n\r\nab")
        await w.drain()
        await asyncio.sleep(30)

    async def route_silent(self, w, q):
        await asyncio.sleep(30)

    async def route_binary(self, w, q):
        w.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
            % (q["type"].encode(), 10 * MB)
        )
        for _ in range(100):  # a slow 10 MB: reading it would take far longer than the test
            w.write(b"\x89PNG" * 256)
            await w.drain()
            await asyncio.sleep(0.1)

    async def route_no_type(self, w, q):
        w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        await w.drain()

    async def route_bytes(self, w, q):
        body = bytes.fromhex(q["hex"])
        await respond(w, 200, q.get("type", "text/html"), body)


async def respond(w, status, content_type, body, extra=None):
    headers = {"Content-Type": content_type, "Content-Length": str(len(body)), **(extra or {})}
    head = f"HTTP/1.1 {status} X\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    w.write(head.encode("latin-1") + b"\r\n" + body)
    await w.drain()


async def respond_streaming(w, content_type, size, extra):
    headers = {"Content-Type": content_type, **extra}
    head = "HTTP/1.1 200 OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    w.write(head.encode("latin-1") + b"\r\n")
    chunk = b"y" * 65536
    for _ in range(size // len(chunk)):
        w.write(chunk)
        await w.drain()


@pytest.fixture(scope="module")
def server():
    srv = LocalServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def srv(server):
    server.requests.clear()
    return server


def loopback_client(**kwargs) -> SafeHttpClient:
    return SafeHttpClient(allow_loopback=True, **kwargs)


# --------------------------------------------------------------------------------------------
# The happy path
# --------------------------------------------------------------------------------------------


async def test_fetches_html_with_headers(srv, connects):
    response = await loopback_client().get(srv.url("/html#frag"))
    assert response.status == 200
    assert response.content_type == "text/html"
    assert response.charset == "utf-8"
    assert response.text() == "<html><title>Hello</title></html>"
    assert response.url == srv.url("/html")
    sent = srv.requests[-1]["headers"]
    assert sent["host"] == f"127.0.0.1:{srv.port}"
    assert sent["user-agent"] == "HelpdeskBot/1.0"
    assert "text/html" in sent["accept"]
    assert connects.hosts == ["127.0.0.1"]


async def test_fetches_json(srv):
    response = await loopback_client(user_agent="Bot/2").get(srv.url("/json"))
    assert response.json() == {"name": "Trail shoe", "price": 89}
    assert srv.requests[-1]["headers"]["user-agent"] == "Bot/2"


async def test_gzip_body_is_decoded(srv):
    response = await loopback_client().get(srv.url("/gzip-ok"))
    assert response.text() == "<title>Zipped ✓</title>"


async def test_environment_proxies_are_ignored(srv, monkeypatch, connects):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://10.9.9.9:3128")
    response = await loopback_client().get(srv.url("/html"))
    assert response.status == 200
    assert connects.hosts == ["127.0.0.1"]


# --------------------------------------------------------------------------------------------
# Blocked before anything connects
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/file",
        "gopher://127.0.0.1:70/_GET%20/",
        "javascript:alert(1)",
        "data:text/html,<script>1</script>",
        "dict://127.0.0.1:11211/stat",
        "//127.0.0.1/no-scheme",
        "/relative/only",
    ],
)
async def test_non_http_schemes_are_blocked(url, connects, dns):
    with pytest.raises(BlockedURL) as info:
        await loopback_client().get(url)
    assert info.value.reason == "scheme"
    assert connects.hosts == []
    assert dns.lookups == []


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.0.0.53",
        "localhost",
        "[::1]",
        "127.1",
        "2130706433",
        "0x7f000001",
        "0x7f.0.0.1",
        "0177.0.0.1",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[::127.0.0.1]",
        "[64:ff9b::127.0.0.1]",
    ],
)
async def test_loopback_is_blocked_by_default(host, srv, connects):
    with pytest.raises(BlockedURL) as info:
        await SafeHttpClient().get(f"http://{host}:{srv.port}/html")
    # httpx refuses to parse "0177.0.0.1" at all; everything else reaches the address check.
    assert info.value.reason in (("invalid_url",) if host == "0177.0.0.1" else ("private_address",))
    assert connects.hosts == []
    assert srv.requests == []


@pytest.mark.parametrize(
    "host",
    [
        "10.0.0.1",
        "10.255.255.254",
        "172.16.0.1",
        "172.31.255.254",
        "192.168.1.1",
        "169.254.169.254",
        "169.254.0.1",
        "0.0.0.0",
        "0",
        "100.64.0.1",
        "100.127.255.254",
        "192.0.0.170",
        "198.18.0.1",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "167772161",  # 10.0.0.1 in decimal
        "0xa9.0xfe.0xa9.0xfe",  # 169.254.169.254 in hex
        "[::]",
        "[fc00::1]",
        "[fd12:3456::1]",
        "[fe80::1]",
        "[fec0::1]",
        "[ff02::1]",
        "[::ffff:10.0.0.1]",
        "[::ffff:169.254.169.254]",
        "[::ffff:0:a9fe:a9fe]",  # IPv4-translated 169.254.169.254
        "[::a9fe:a9fe]",  # IPv4-compatible 169.254.169.254
        "[64:ff9b::a9fe:a9fe]",  # NAT64 169.254.169.254
        "[64:ff9b:1::1]",  # local-use NAT64
        "[2002:a9fe:a9fe::1]",  # 6to4 of 169.254.169.254
        "[2002:0a00:0001::1]",  # 6to4 of 10.0.0.1
        "[2001:0:4136:e378::1]",  # Teredo
        "[100::1]",  # discard-only
    ],
)
@pytest.mark.parametrize("allow_loopback", [False, True])
async def test_private_and_special_addresses_are_blocked(host, allow_loopback, connects):
    client = SafeHttpClient(allow_loopback=allow_loopback)
    with pytest.raises(BlockedURL) as info:
        await client.get(f"http://{host}/latest/meta-data/")
    assert info.value.reason == "private_address"
    assert connects.hosts == []


async def test_a_name_resolving_to_a_private_address_is_blocked(dns, connects):
    dns.add("intranet.test", ["10.1.2.3"])
    with pytest.raises(BlockedURL) as info:
        await SafeHttpClient().get("http://intranet.test/")
    assert info.value.reason == "private_address"
    assert "10.1.2.3" in info.value.detail
    assert connects.hosts == []


async def test_one_private_address_among_public_ones_blocks_the_host(dns, connects):
    dns.add("mixed.test", ["203.0.113.10", "2001:db8::10", "169.254.169.254"])
    with pytest.raises(BlockedURL) as info:
        await SafeHttpClient().get("https://mixed.test/")
    assert info.value.reason == "private_address"
    assert connects.hosts == []


async def test_allow_loopback_admits_loopback_only(srv, dns, connects):
    dns.add("lo.test", ["127.0.0.1"])
    dns.add("lan.test", ["192.168.0.5"])
    client = loopback_client()
    assert (await client.get(srv.url("/html", host="lo.test"))).status == 200
    with pytest.raises(BlockedURL):
        await client.get(srv.url("/html", host="lan.test"))
    assert connects.hosts == ["127.0.0.1"]


def test_address_policy_for_public_addresses():
    for ip in ("8.8.8.8", "203.0.113.10", "2606:4700::1111", "2001:db8::1"):
        assert address_problem(ip) is None, ip
    # An embedded public IPv4 address is as good as the address itself.
    assert address_problem("::ffff:8.8.8.8") is None
    assert address_problem("64:ff9b::808:808") is None
    assert address_problem("2002:808:808::1") is None
    # Loopback only with the switch, and never through an embedding.
    assert address_problem("127.0.0.1")
    assert address_problem("::1")
    assert address_problem("127.0.0.1", allow_loopback=True) is None
    assert address_problem("::1", allow_loopback=True) is None
    assert address_problem("::ffff:127.0.0.1", allow_loopback=True)
    assert address_problem("fe80::1%eth0")


# --------------------------------------------------------------------------------------------
# Redirects: every hop is re-validated before any connection
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "http://10.0.0.1/admin",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "http://0251.0376.0251.0376/",  # octal 169.254.169.254: refused (not even parseable)
        "http://2852039166/",  # decimal 169.254.169.254
        "http://internal.test/",
    ],
)
async def test_redirect_to_a_forbidden_address_is_blocked_without_connecting(
    target, srv, dns, connects
):
    dns.add("internal.test", ["172.20.0.2"])
    with pytest.raises(BlockedURL) as info:
        await loopback_client().get(srv.url(f"/redirect?to={target}"))
    assert info.value.reason in ("private_address", "invalid_url")
    assert connects.hosts == ["127.0.0.1"]  # the first hop only
    assert len(srv.requests) == 1


async def test_redirect_back_to_loopback_is_blocked_when_loopback_is_not_allowed(dns, connects):
    # The first hop is "public" (a documentation address diverted to nothing: it redirects).
    dns.add("shop.test", ["203.0.113.10"])
    server = LocalServer().start()
    try:
        connects.divert["203.0.113.10"] = "127.0.0.1"
        with pytest.raises(BlockedURL) as info:
            await SafeHttpClient().get(
                f"http://shop.test:{server.port}/redirect?to=http://127.0.0.1:{server.port}/html"
            )
        assert info.value.reason == "private_address"
        assert connects.hosts == ["203.0.113.10"]
    finally:
        server.stop()


@pytest.mark.parametrize(
    "location", ["file:///etc/passwd", "gopher://127.0.0.1:25/", "javascript:alert(1)", "ftp://x/"]
)
async def test_redirect_to_a_non_http_scheme_is_blocked(location, srv, connects):
    with pytest.raises(BlockedURL) as info:
        await loopback_client().get(srv.url(f"/redirect?to={location}"))
    assert info.value.reason == "scheme"
    assert connects.hosts == ["127.0.0.1"]


async def test_redirect_loop_is_cut(srv):
    with pytest.raises(FetchError) as info:
        await loopback_client().get(srv.url("/loop"))
    assert info.value.reason == "redirects"
    assert len(srv.requests) == 4  # the first request and max_redirects=3 redirects


async def test_redirect_chain_within_the_limit_is_followed_with_relative_locations(srv):
    response = await loopback_client(max_redirects=3).get(srv.url("/chain?n=2"))
    assert response.url == srv.url("/html")
    assert [r["path"] for r in srv.requests] == ["/chain", "/chain", "/chain", "/html"]
    with pytest.raises(FetchError) as info:
        await loopback_client(max_redirects=3).get(srv.url("/chain?n=3"))
    assert info.value.reason == "redirects"


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
async def test_every_redirect_status_is_followed(code, srv):
    response = await loopback_client().get(srv.url(f"/redirect?code={code}&to=/json"))
    assert response.content_type == "application/json"
    assert [r["method"] for r in srv.requests] == ["GET", "GET"]


# --------------------------------------------------------------------------------------------
# Host allow-list
# --------------------------------------------------------------------------------------------


async def test_host_not_on_the_allow_list_is_blocked_before_resolving(dns, connects):
    client = SafeHttpClient(allow_hosts=["shop.example.com", "*.cdn.example.com"])
    for url in (
        "http://evil.test/",
        "http://example.com/",
        "http://cdn.example.com/",  # "*.cdn.example.com" means sub-domains only
        "http://badcdn.example.com/",
        "http://shop.example.com.evil.test/",
        "http://203.0.113.10/",
    ):
        with pytest.raises(BlockedURL) as info:
            await client.get(url)
        assert info.value.reason == "host_not_allowed", url
    assert dns.lookups == []
    assert connects.hosts == []


async def test_allow_list_matches_exact_and_wildcard_hosts(srv, dns):
    dns.add("shop.example.com", ["127.0.0.1"])
    dns.add("img.eu.cdn.example.com", ["127.0.0.1"])
    client = loopback_client(allow_hosts=["SHOP.example.com.", "*.cdn.example.com"])
    assert (await client.get(srv.url("/echo", host="shop.example.com"))).json() == {
        "host": f"shop.example.com:{srv.port}"
    }
    assert (await client.get(srv.url("/html", host="Img.EU.cdn.example.com"))).status == 200


async def test_redirect_off_the_allow_list_is_blocked(srv, dns, connects):
    dns.add("shop.example.com", ["127.0.0.1"])
    client = loopback_client(allow_hosts=["shop.example.com"])
    with pytest.raises(BlockedURL) as info:
        await client.get(
            srv.url(f"/redirect?to=http://127.0.0.1:{srv.port}/html", host="shop.example.com")
        )
    assert info.value.reason == "host_not_allowed"
    assert connects.hosts == ["127.0.0.1"]


def test_invalid_allow_list_entries_are_rejected():
    for entry in ("*", "shop.*.com", "a b/c", ""):
        with pytest.raises(ValueError, match="allow-list"):
            SafeHttpClient(allow_hosts=[entry])


async def test_ip_literals_on_the_allow_list(srv, connects):
    client = loopback_client(allow_hosts=["127.0.0.1", "[::1]"])
    assert (await client.get(srv.url("/html"))).status == 200
    with pytest.raises(BlockedURL) as info:
        await client.get(srv.url("/html", host="127.0.0.2"))
    assert info.value.reason == "host_not_allowed"
    with pytest.raises(ValueError, match="allow-list"):
        SafeHttpClient(allow_hosts="shop.test")  # type: ignore[arg-type]


async def test_empty_allow_list_allows_nothing(dns):
    with pytest.raises(BlockedURL) as info:
        await SafeHttpClient(allow_hosts=[]).get("http://shop.test/")
    assert info.value.reason == "host_not_allowed"


# --------------------------------------------------------------------------------------------
# DNS rebinding: one lookup per hop, and the connection goes to the address that was checked
# --------------------------------------------------------------------------------------------


async def test_rebinding_name_is_resolved_once_and_the_checked_ip_is_used(srv, dns, connects):
    # A rebinding DNS server: an allowed address first, a private one on any later lookup.
    dns.add("rebind.test", ["127.0.0.1"], ["10.0.0.1"])
    response = await loopback_client().get(srv.url("/echo", host="rebind.test"))
    assert response.json() == {"host": f"rebind.test:{srv.port}"}
    assert dns.count("rebind.test") == 1  # nobody (httpx, httpcore, anyio) looked it up again
    assert connects.hosts == ["127.0.0.1"]


async def test_rebinding_between_hops_is_caught_by_the_next_hops_own_check(srv, dns, connects):
    dns.add("rebind.test", ["127.0.0.1"], ["10.0.0.1"])
    with pytest.raises(BlockedURL) as info:
        await loopback_client().get(
            srv.url(f"/redirect?to=http://rebind.test:{srv.port}/html", host="rebind.test")
        )
    assert info.value.reason == "private_address"
    assert dns.count("rebind.test") == 2  # exactly one lookup per hop
    assert connects.hosts == ["127.0.0.1"]


async def test_public_name_connects_to_the_validated_ip_with_the_original_host_header(
    srv, dns, connects
):
    # Loopback is NOT allowed: the name resolves (once) to a documentation "public" address; the
    # patched backend proves the socket is opened to exactly that IP, and diverts it to the test
    # server so that we can see what was sent.
    dns.add("shop.test", ["203.0.113.10"], ["127.0.0.1"])
    connects.divert["203.0.113.10"] = "127.0.0.1"
    response = await SafeHttpClient().get(f"http://shop.test:{srv.port}/echo")
    assert response.json() == {"host": f"shop.test:{srv.port}"}
    assert response.url == f"http://shop.test:{srv.port}/echo"
    assert connects.hosts == ["203.0.113.10"]
    assert dns.count("shop.test") == 1


async def test_next_validated_address_is_tried_when_one_refuses(srv, dns, connects):
    dns.add("multi.test", ["127.0.0.2", "127.0.0.1"])  # nothing listens on 127.0.0.2:port
    response = await loopback_client().get(srv.url("/html", host="multi.test"))
    assert response.status == 200
    assert connects.hosts == ["127.0.0.2", "127.0.0.1"]


# --------------------------------------------------------------------------------------------
# TLS: SNI and certificate verification use the original host name, the socket the checked IP
# --------------------------------------------------------------------------------------------


def make_certificates(hostname: str) -> tuple[bytes, bytes, bytes]:
    """A throw-away CA and a server certificate for ``hostname`` (PEM: ca, cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return ca.public_bytes(pem), cert.public_bytes(pem), key_pem


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    ca_pem, cert_pem, key_pem = make_certificates("shop.test")
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert_pem)
    (folder / "key.pem").write_bytes(key_pem)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    srv = LocalServer(server_context).start()
    srv.client_context = ssl.create_default_context(cadata=ca_pem.decode())
    yield srv
    srv.stop()


async def test_https_uses_sni_and_verifies_the_original_host_name(tls_server, dns, connects):
    tls_server.requests.clear()
    tls_server.sni.clear()
    dns.add("shop.test", ["127.0.0.1"], ["10.0.0.1"])
    client = loopback_client(ssl_context=tls_server.client_context)
    response = await client.get(tls_server.url("/echo", host="shop.test"))
    assert response.json() == {"host": f"shop.test:{tls_server.port}"}
    assert tls_server.sni == ["shop.test"]
    assert connects.hosts == ["127.0.0.1"]
    assert dns.count("shop.test") == 1


async def test_https_certificate_for_another_name_is_refused(tls_server, dns):
    # Same IP, different name: the certificate (for shop.test) must not be accepted, which shows
    # the certificate is checked against the requested name rather than the IP we connect to.
    dns.add("other.test", ["127.0.0.1"])
    client = loopback_client(ssl_context=tls_server.client_context)
    with pytest.raises(FetchError) as info:
        await client.get(tls_server.url("/html", host="other.test"))
    assert info.value.reason == "connect"
    assert "certif" in info.value.detail.lower() or "hostname" in info.value.detail.lower()


def test_ssl_context_without_hostname_checks_is_refused():
    context = ssl.create_default_context()
    context.check_hostname = False
    with pytest.raises(ValueError, match="check_hostname"):
        SafeHttpClient(ssl_context=context)


# --------------------------------------------------------------------------------------------
# Size, time, type, status
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/huge-cl", "/huge-close", "/huge-chunked", "/gzip-bomb"])
async def test_huge_bodies_are_refused_quickly(path, srv):
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        await loopback_client().get(srv.url(path))
    assert info.value.reason == "too_large"
    assert time.monotonic() - started < 3


async def test_lying_small_content_length_yields_only_what_it_declared(srv):
    response = await loopback_client().get(srv.url("/huge-lying"))
    assert len(response.body) == 100


async def test_size_limit_is_exact(srv):
    client = loopback_client(max_bytes=1000)
    assert len((await client.get(srv.url("/exact?n=1000"))).body) == 1000
    with pytest.raises(FetchError) as info:
        await client.get(srv.url("/exact?n=1001"))
    assert info.value.reason == "too_large"
    with pytest.raises(FetchError) as info:
        await client.get(srv.url("/huge-close"))  # no Content-Length at all
    assert info.value.reason == "too_large"


async def test_drip_fed_body_hits_the_total_deadline(srv):
    client = loopback_client(read_timeout=5.0, total_timeout=1.0)
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        await client.get(srv.url("/drip"))
    elapsed = time.monotonic() - started
    assert info.value.reason == "timeout"
    assert 0.9 <= elapsed < 2.0


@pytest.mark.parametrize("path", ["/stall", "/silent"])
async def test_read_timeout(path, srv):
    client = loopback_client(read_timeout=0.5, total_timeout=5.0)
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        await client.get(srv.url(path))
    assert info.value.reason == "timeout"
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("content_type", ["image/png", "application/octet-stream"])
async def test_binary_content_types_are_refused_before_the_body_is_read(content_type, srv):
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        await loopback_client().get(srv.url(f"/binary?type={content_type}"))
    assert info.value.reason == "content_type"
    assert time.monotonic() - started < 2  # the slow 10 MB body would take 10 s


async def test_missing_content_type_is_refused(srv):
    with pytest.raises(FetchError) as info:
        await loopback_client().get(srv.url("/no-type"))
    assert info.value.reason == "content_type"


async def test_allowed_content_types_are_configurable(srv):
    response = await loopback_client(allowed_content_types=["image/png"]).get(
        srv.url("/bytes?type=image/png&hex=89504e47")
    )
    assert response.body == b"\x89PNG"


@pytest.mark.parametrize("code", [404, 500, 204 + 96])
async def test_error_statuses(code, srv):
    with pytest.raises(FetchError) as info:
        await loopback_client().get(srv.url(f"/status?code={code}"))
    assert info.value.reason == "status"
    assert info.value.status == code


async def test_connection_refused(dns):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(FetchError) as info:
        await loopback_client().get(f"http://127.0.0.1:{port}/")
    assert info.value.reason == "connect"


async def test_unresolvable_name(dns):
    with pytest.raises(FetchError) as info:
        await SafeHttpClient().get("http://does-not-exist.test/")
    assert info.value.reason == "dns"


async def test_errors_share_a_base_class():
    assert issubclass(BlockedURL, SafeFetchError)
    assert issubclass(FetchError, SafeFetchError)
    error = BlockedURL("scheme", "no")
    assert (error.reason, str(error)) == ("scheme", "scheme: no")


# --------------------------------------------------------------------------------------------
# Charsets
# --------------------------------------------------------------------------------------------


async def fetch_bytes(srv, body: bytes, content_type: str):
    url = srv.url(f"/bytes?type={content_type.replace(' ', '%20')}&hex={body.hex()}")
    return await loopback_client().get(url)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/html; charset=x-made-up",
        "text/html; charset=undefined",
        "text/html; charset=idna",
        "text/html; charset=rot13",
        "text/html; charset=base64",
        'text/html; charset="utf-8',
    ],
)
async def test_unknown_or_unusable_charsets_fall_back_to_utf8(content_type, srv):
    response = await fetch_bytes(srv, "Café ✓".encode(), content_type)
    assert response.charset == "utf-8"
    assert response.text() == "Café ✓"


async def test_wrong_charset_does_not_crash(srv):
    response = await fetch_bytes(srv, "Café".encode("latin-1"), "text/html; charset=utf-8")
    assert response.text() == "Caf\ufffd"


async def test_meta_charset_is_used_when_the_header_has_none(srv):
    html = '<html><head><meta charset="gbk"><title>运动鞋</title></head></html>'
    response = await fetch_bytes(srv, html.encode("gbk"), "text/html")
    assert response.charset == "gb18030"
    assert "运动鞋" in response.text()


def test_charset_sniffing_rules():
    assert sniff_charset(b"\xef\xbb\xbfabc", "latin-1") == "utf-8"  # BOM wins
    assert sniff_charset(b"abc", "ISO-8859-1") == "cp1252"  # what browsers do
    assert (
        sniff_charset(b'<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">')
        == "cp932"
    )
    assert sniff_charset(b'<?xml version="1.0" encoding="windows-1251"?><html/>') == "cp1251"
    assert sniff_charset(b'<meta charset="utf-16">') == "utf-8"  # without a BOM it cannot be
    assert sniff_charset(b"no hints") == "utf-8"


def test_safe_response_text_strips_a_bom_and_never_raises():
    response = safe_http.SafeResponse(
        "http://x/", 200, "text/html", "utf-16", b"\xff\xfeh\x00i\x00"
    )
    assert response.text() == "hi"
    broken = safe_http.SafeResponse("http://x/", 200, "text/html", "undefined", b"ok")
    assert broken.text() == "ok"


def test_allows_answers_the_clients_own_scheme_and_allow_list_checks():
    client = SafeHttpClient(allow_hosts=["*.example.com", "Bücher.example"])

    assert client.allows("https://api.example.com/p/1")
    assert client.allows("https://xn--bcher-kva.example/")
    assert not client.allows("https://example.org/")
    assert not client.allows("ftp://api.example.com/")
