"""An SSRF-safe HTTP GET client that the plugin runner injects into plugins.

Plugins never build their own HTTP clients and never read settings: they get a
``SafeHttpClient`` and call ``await client.get(url)``. Every request it makes obeys these rules:

* only ``http`` and ``https`` URLs, optionally only to hosts on an allow-list
  (``"shop.example.com"`` exactly, ``"*.example.com"`` for any sub-domain of example.com);
* the host is resolved **once per hop** (``getaddrinfo`` on the event loop's executor) and
  **every** returned address is checked by the address policy the bots' endpoints share
  (``helpdesk/core/netguard.py``, :func:`address_problem`): loopback, RFC 1918 / unique-local,
  link-local (cloud metadata at 169.254.169.254), unspecified, multicast, reserved, CGNAT,
  benchmarking, IETF special-purpose blocks and IPv6 addresses that embed a forbidden IPv4
  address (IPv4-mapped, IPv4-compatible, NAT64, 6to4) are refused. One forbidden address
  refuses the whole host. Numeric oddities (``127.1``, ``2130706433``, ``0x7f000001``,
  ``0x7f.0.0.1``) are parsed by ``getaddrinfo`` itself, so what is checked is exactly the
  address the operating system would use (httpx refuses to parse dotted quads with octal parts
  such as ``0177.0.0.1``: reason ``"invalid_url"``);
* redirects are followed by hand (at most ``max_redirects``); each ``Location`` is resolved
  against the current URL and goes through every check above before anything connects to it;
* connect and read timeouts per network operation, plus a total deadline for the whole call
  (resolution, every hop, the body);
* the content type is checked before any of the body is read; the body is streamed and refused
  as soon as it grows past ``max_bytes`` (whatever ``Content-Length`` says, or when it is
  absent); ``gzip``/``deflate`` bodies are decompressed with the same bound, so a compression
  bomb stops at ``max_bytes`` too;
* text is decoded with the charset from the header, a BOM or ``<meta charset>``, falling back
  to UTF-8, always with ``errors="replace"``.

Why this is safe against DNS rebinding
--------------------------------------
The classic hole is "validate ``host``, then let the HTTP library resolve ``host`` again and
connect": a hostile DNS server answers the first lookup with a public address and the second
with 127.0.0.1. Here the HTTP library never sees a host name it could resolve: after validating
the addresses, the request URL handed to httpx has the **validated IP literal** as its host, so
httpcore's ``connect_tcp`` gets a numeric address (its own ``getaddrinfo`` call on a numeric
string is a parse, not a DNS query). The original name is kept where it belongs:

* the ``Host`` header is set explicitly to the original ``host[:port]`` (httpx only adds a
  ``Host`` header when there is none);
* for https, the documented httpx/httpcore request extension ``sni_hostname`` makes httpcore
  call ``start_tls(server_hostname=<original host>)``, so the TLS SNI is the original name
  **and** the certificate is verified against it (the SSL context has ``check_hostname`` on),
  not against the IP.

The request is handed straight to an ``httpx.AsyncHTTPTransport`` (no ``AsyncClient``): no
environment proxies (a proxy would resolve the name itself), no cookies, no .netrc or URL
credentials, no redirect logic of its own. Each hop gets its own transport without keep-alive,
so a TLS connection verified for one host name is never reused for another name that happens to
share its IP.
"""

from __future__ import annotations

import asyncio
import codecs
import ipaddress
import json
import re
import ssl
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from django.utils.translation import gettext

from helpdesk.core.netguard import (
    PRIVATE_ADDRESS,
    AddressPolicy,
    AddressRefused,
    address_problem,
    resolve_allowed,
)

__all__ = [
    "BlockedURL",
    "FetchError",
    "SafeFetchError",
    "SafeHttpClient",
    "SafeResponse",
    "address_problem",
]

# Stable reason codes (plugins and logs may rely on them).
SCHEME = "scheme"
INVALID_URL = "invalid_url"
HOST_NOT_ALLOWED = "host_not_allowed"
DNS = "dns"
TOO_LARGE = "too_large"
CONTENT_TYPE = "content_type"
TIMEOUT = "timeout"
REDIRECTS = "redirects"
STATUS = "status"
CONNECT = "connect"

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DEFAULT_CONTENT_TYPES = ("text/html", "application/json", "application/xhtml+xml")


class SafeFetchError(Exception):
    """Base class: ``reason`` is a stable code, ``detail`` a human-readable explanation."""

    def __init__(
        self, reason: str, detail: str = "", *, url: str | None = None, status: int | None = None
    ):
        self.reason = reason
        self.detail = detail
        self.url = url
        self.status = status
        super().__init__(f"{reason}: {detail}" if detail else reason)


class BlockedURL(SafeFetchError):
    """The URL (or a redirect target) is not allowed; nothing was sent to it."""


class FetchError(SafeFetchError):
    """The fetch was allowed but failed (DNS, connection, timeout, size, type, status...)."""


@dataclass(frozen=True)
class SafeResponse:
    url: str  # the final URL, after redirects (with the original host name, not the IP)
    status: int
    content_type: str  # the bare media type, lower-case, e.g. "text/html"
    charset: str  # the charset text() uses (already validated; utf-8 when unknown)
    body: bytes = field(repr=False)

    def text(self) -> str:
        return _decode(self.body, self.charset)

    def json(self) -> Any:
        return json.loads(self.text())


# --------------------------------------------------------------------------------------------
# Host allow-list
# --------------------------------------------------------------------------------------------


_HOSTNAME = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*")


def _normalise_host(host: str) -> str:
    """Lower-case ASCII (IDNA) form with no trailing dot, parsed the way httpx parses it."""
    literal = host.strip().removeprefix("[").removesuffix("]")
    if _is_ip_literal(literal):
        return str(ipaddress.ip_address(literal))
    try:
        raw = httpx.URL(f"http://{host.strip()}/").raw_host.decode("ascii")
    except (httpx.InvalidURL, UnicodeError) as exc:
        raise ValueError(_invalid_host(host)) from exc
    raw = raw.lower().rstrip(".")
    if not _is_ip_literal(raw) and not _HOSTNAME.fullmatch(raw):
        raise ValueError(_invalid_host(host))
    return raw


# The allow-list comes from a tenant's plugin settings, so its errors are shown to the admin.
def _invalid_host(host: str) -> str:
    return gettext("Invalid host in the allow-list: %(host)s") % {"host": repr(host)}


def _compile_allow_hosts(entries: Iterable[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    exact: set[str] = set()
    suffixes: list[str] = []
    for entry in entries:
        entry = str(entry).strip()
        if entry.startswith("*."):
            suffixes.append("." + _normalise_host(entry[2:]))
        elif "*" in entry:
            raise ValueError(
                gettext("Entries of the allow-list are 'host' or '*.domain', not %(entry)s")
                % {"entry": repr(entry)}
            )
        else:
            exact.add(_normalise_host(entry))
    return frozenset(exact), tuple(suffixes)


# --------------------------------------------------------------------------------------------
# Charset handling
# --------------------------------------------------------------------------------------------

# Codecs Python knows that are not web text encodings (or cannot use errors="replace").
_NOT_WEB_CODECS = frozenset(
    {"idna", "punycode", "undefined", "unicode_escape", "raw_unicode_escape", "mbcs", "oem"}
)
# What browsers actually do with these labels (WHATWG Encoding Standard).
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "ascii": "cp1252",
    "latin_1": "cp1252",
    "iso8859-1": "cp1252",
    "big5": "big5hkscs",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
}
_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,512}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]{1,40})""", re.IGNORECASE
)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_.:\-]{1,40})""")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def normalise_charset(label: str | None) -> str | None:
    """A usable Python codec name for a web charset label, or ``None`` if unusable."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError, TypeError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_WEB_CODECS:
        return None
    return _SUPERSETS.get(info.name, info.name)


def sniff_charset(body: bytes, header_charset: str | None = None) -> str:
    """BOM, then the header's charset, then ``<meta charset>``/XML declaration, then UTF-8."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    charset = normalise_charset(header_charset)
    if charset:
        return charset
    head = body[:4096]
    match = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    if match:
        charset = normalise_charset(match.group(1).decode("ascii", "replace"))
        # A page that really is UTF-16 would have had a BOM; a meta tag claiming it is wrong.
        if charset and not charset.startswith("utf_16") and not charset.startswith("utf-16"):
            return charset
    return "utf-8"


def _decode(body: bytes, charset: str) -> str:
    try:
        text = body.decode(charset, errors="replace")
    except (LookupError, UnicodeError, ValueError, TypeError):
        text = body.decode("utf-8", errors="replace")
    return text[1:] if text.startswith("\ufeff") else text


def _parse_content_type(value: str | None) -> tuple[str, str | None]:
    if not value:
        return "", None
    parts = value.split(";")
    media = parts[0].strip().lower()
    charset = None
    for param in parts[1:]:
        name, _, val = param.partition("=")
        if name.strip().lower() == "charset":
            charset = val.strip().strip("\"'") or None
    return media, charset


# --------------------------------------------------------------------------------------------
# Bounded body decoding
# --------------------------------------------------------------------------------------------


class _BoundedDecoder:
    """Content-Encoding decoder that never produces more than the caller allows."""

    def __init__(self, encoding: str | None):
        encoding = (encoding or "identity").strip().lower()
        if encoding in ("", "identity"):
            self._z = None
        elif encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._z = None  # zlib-wrapped or raw: decided on the first bytes
        else:
            raise FetchError(CONTENT_TYPE, f"unsupported Content-Encoding {encoding!r}")
        self._encoding = encoding

    def feed(self, data: bytes, room: int) -> bytes:
        """Decode ``data``; raise too_large if it would yield more than ``room`` bytes."""
        if self._encoding == "deflate" and self._z is None:
            # RFC 9110 says zlib-wrapped, some servers send raw deflate: decide on first bytes.
            looks_zlib = (
                len(data) >= 2 and (data[0] & 0x0F) == 8 and (data[0] << 8 | data[1]) % 31 == 0
            )
            self._z = zlib.decompressobj(zlib.MAX_WBITS if looks_zlib else -zlib.MAX_WBITS)
        if self._z is None:
            out = data
        else:
            try:
                out = self._z.decompress(data, room + 1)
            except zlib.error as exc:
                raise FetchError(CONTENT_TYPE, f"corrupt {self._encoding} body") from exc
        if len(out) > room:
            raise FetchError(TOO_LARGE, "body exceeds the size limit")
        return out

    def flush(self, room: int) -> bytes:
        if self._z is None:
            return b""
        out = self._z.flush()
        if len(out) > room:
            raise FetchError(TOO_LARGE, "body exceeds the size limit")
        return out


# --------------------------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------------------------


@dataclass
class _Hop:
    url: httpx.URL
    host: str  # ASCII host name or IP literal, no brackets, no trailing dot
    port: int


class SafeHttpClient:
    """Async GET with SSRF protection. Safe to share; it keeps no connections open."""

    def __init__(
        self,
        *,
        allow_hosts: Sequence[str] | None = None,
        allow_loopback: bool = False,
        connect_timeout: float = 3.0,
        read_timeout: float = 5.0,
        total_timeout: float = 8.0,
        max_bytes: int = 1_000_000,
        max_redirects: int = 3,
        allowed_content_types: Iterable[str] = DEFAULT_CONTENT_TYPES,
        user_agent: str = "HelpdeskBot/1.0",
        ssl_context: ssl.SSLContext | None = None,
    ):
        """``allow_hosts=None`` allows any host; an empty list allows none.

        ``allow_loopback=True`` is a test-only switch that admits 127.0.0.0/8 and ::1 (never
        other private ranges). ``ssl_context`` replaces the default verifying context (certifi
        roots); it must keep ``check_hostname`` on.
        """
        if isinstance(allow_hosts, str):
            raise ValueError("allow-list must be a list of host names, not one string")
        self.allow_hosts = None if allow_hosts is None else list(allow_hosts)
        self._exact_hosts, self._host_suffixes = _compile_allow_hosts(allow_hosts or ())
        self.allow_loopback = allow_loopback
        self._policy = AddressPolicy(allow_loopback=allow_loopback)
        self.total_timeout = total_timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.allowed_content_types = frozenset(t.strip().lower() for t in allowed_content_types)
        self.user_agent = user_agent
        self._timeout = httpx.Timeout(
            connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout
        )
        if ssl_context is not None and not ssl_context.check_hostname:
            raise ValueError("ssl_context must verify host names (check_hostname=True)")
        self._ssl_context = ssl_context

    # -- public API --------------------------------------------------------------------------

    async def get(self, url: str) -> SafeResponse:
        try:
            async with asyncio.timeout(self.total_timeout):
                return await self._get(url)
        except TimeoutError as exc:
            raise FetchError(
                TIMEOUT, f"no complete answer within {self.total_timeout}s", url=url
            ) from exc

    # -- steps -------------------------------------------------------------------------------

    async def _get(self, url: str) -> SafeResponse:
        hop = self._check_url(url)
        for _redirects in range(self.max_redirects + 1):
            addresses = await self._resolve(hop)
            response = await self._request(hop, addresses)
            if isinstance(response, SafeResponse):
                return response
            hop = self._check_url(response, base=hop.url)  # a redirect's absolute target
        raise FetchError(REDIRECTS, f"more than {self.max_redirects} redirects", url=str(hop.url))

    def allows(self, url: str) -> bool:
        """Whether a request to ``url`` would pass the scheme, host and allow-list checks (the
        address checks happen when it is resolved)."""
        try:
            self._check_url(url)
        except BlockedURL:
            return False
        return True

    def _check_url(self, url: str | httpx.URL, base: httpx.URL | None = None) -> _Hop:
        shown = str(url)
        try:
            parsed = httpx.URL(url) if base is None else base.join(url)
        except (httpx.InvalidURL, TypeError, ValueError, UnicodeError) as exc:
            scheme = str(url).split(":", 1)[0].strip().lower() if ":" in str(url) else ""
            if scheme and scheme not in ("http", "https") and scheme.isalpha():
                raise BlockedURL(SCHEME, f"scheme {scheme!r} is not http(s)", url=shown) from exc
            raise BlockedURL(INVALID_URL, f"cannot parse URL: {exc}", url=shown) from exc
        if parsed.scheme not in ("http", "https"):
            raise BlockedURL(SCHEME, f"scheme {parsed.scheme!r} is not http(s)", url=shown)
        try:
            host = parsed.raw_host.decode("ascii").lower().rstrip(".")
        except UnicodeError as exc:  # pragma: no cover - httpx always gives ASCII
            raise BlockedURL(INVALID_URL, "non-ASCII host", url=shown) from exc
        if not host or "%" in host:
            raise BlockedURL(INVALID_URL, "missing or malformed host", url=shown)
        if _is_ip_literal(host):
            host = str(ipaddress.ip_address(host))  # canonical form, for the allow-list
        if self.allow_hosts is not None and not self._host_allowed(host):
            raise BlockedURL(HOST_NOT_ALLOWED, f"host {host!r} is not on the allow-list", url=shown)
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        return _Hop(url=parsed.copy_with(fragment=None), host=host, port=port)

    def _host_allowed(self, host: str) -> bool:
        return host in self._exact_hosts or any(host.endswith(s) for s in self._host_suffixes)

    async def _resolve(self, hop: _Hop) -> list[str]:
        """Resolve once and validate every address; the result is what we connect to."""
        try:
            return await resolve_allowed(hop.host, hop.port, self._policy)
        except AddressRefused as exc:
            raise BlockedURL(PRIVATE_ADDRESS, str(exc), url=str(hop.url)) from exc
        except (OSError, UnicodeError) as exc:
            raise FetchError(DNS, f"cannot resolve {hop.host!r}: {exc}", url=str(hop.url)) from exc

    async def _request(self, hop: _Hop, addresses: list[str]) -> SafeResponse | str:
        """GET ``hop`` from the first validated address that accepts a connection.

        Returns the response, or the raw ``Location`` of a redirect. The request goes straight
        to an httpx transport (no ``AsyncClient``): no cookies, no .netrc or URL credentials, no
        environment proxies, no redirect handling of its own; just this one request.
        """
        headers = {
            # Explicit Host: httpx only adds one (from the URL, i.e. the IP) when none is given.
            "Host": hop.url.netloc.decode("ascii"),
            "User-Agent": self.user_agent,
            "Accept": ", ".join([*sorted(self.allowed_content_types), "*/*;q=0.1"]),
            "Accept-Encoding": "gzip, deflate",
        }
        extensions: dict[str, Any] = {"timeout": self._timeout.as_dict()}
        if hop.url.scheme == "https" and not _is_ip_literal(hop.host):
            # httpcore passes this as server_hostname to start_tls: SNI and certificate
            # verification use the original name while the socket goes to the validated IP.
            extensions["sni_hostname"] = hop.host
        shown = str(hop.url)
        last_error: SafeFetchError | None = None
        async with httpx.AsyncHTTPTransport(
            verify=self._ssl_context or _default_ssl_context(),
            trust_env=False,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=0),
        ) as transport:
            for address in addresses:
                # The validated IP literal: nothing below this line resolves a name.
                target = httpx.URL(
                    scheme=hop.url.scheme,
                    host=address,
                    port=hop.url.port,
                    raw_path=hop.url.raw_path,
                )
                request = httpx.Request("GET", target, headers=headers, extensions=extensions)
                try:
                    response = await transport.handle_async_request(request)
                except httpx.ConnectTimeout as exc:
                    last_error = FetchError(TIMEOUT, f"connect to {address} timed out", url=shown)
                    last_error.__cause__ = exc
                    continue
                except httpx.ConnectError as exc:
                    last_error = FetchError(CONNECT, f"connect to {address}: {exc}", url=shown)
                    last_error.__cause__ = exc
                    continue
                except httpx.TimeoutException as exc:
                    raise FetchError(TIMEOUT, type(exc).__name__, url=shown) from exc
                except httpx.HTTPError as exc:
                    raise FetchError(CONNECT, f"{type(exc).__name__}: {exc}", url=shown) from exc
                try:
                    return await self._handle(hop, response)
                except httpx.TimeoutException as exc:
                    raise FetchError(TIMEOUT, type(exc).__name__, url=shown) from exc
                except httpx.HTTPError as exc:
                    raise FetchError(CONNECT, f"{type(exc).__name__}: {exc}", url=shown) from exc
                finally:
                    await response.aclose()
        assert last_error is not None
        raise last_error

    async def _handle(self, hop: _Hop, response: httpx.Response) -> SafeResponse | str:
        shown = str(hop.url)
        status = response.status_code
        if status in REDIRECT_STATUSES:
            location = response.headers.get("location")
            if not location:
                raise FetchError(
                    STATUS, f"redirect {status} without Location", url=shown, status=status
                )
            return location.strip()
        if not 200 <= status < 300:
            raise FetchError(STATUS, f"HTTP {status}", url=shown, status=status)

        media, header_charset = _parse_content_type(response.headers.get("content-type"))
        if media not in self.allowed_content_types:
            raise FetchError(
                CONTENT_TYPE,
                f"content type {media or 'missing'!r} is not allowed",
                url=shown,
                status=status,
            )

        declared = response.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(
                TOO_LARGE, f"Content-Length {declared} > {self.max_bytes}", url=shown, status=status
            )

        decoder = _BoundedDecoder(response.headers.get("content-encoding"))
        body = bytearray()
        received = 0
        try:
            async for chunk in response.aiter_raw():
                received += len(chunk)
                if received > self.max_bytes:
                    raise FetchError(TOO_LARGE, f"body exceeds {self.max_bytes} bytes")
                body += decoder.feed(chunk, self.max_bytes - len(body))
            body += decoder.flush(self.max_bytes - len(body))
        except FetchError as exc:
            exc.url, exc.status = shown, status
            raise
        data = bytes(body)
        return SafeResponse(
            url=shown,
            status=status,
            content_type=media,
            charset=sniff_charset(data, header_charset),
            body=data,
        )


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


_SSL_CONTEXT: ssl.SSLContext | None = None


def _default_ssl_context() -> ssl.SSLContext:
    """One verifying context (certifi roots, check_hostname on) for the process."""
    global _SSL_CONTEXT
    if _SSL_CONTEXT is None:
        _SSL_CONTEXT = httpx.create_ssl_context()
    return _SSL_CONTEXT
