"""Which network addresses the server may connect to on behalf of a tenant, checked at connect
time.

Every outbound URL a tenant configures (a bot's endpoint, a plugin's fetch; webhooks and
knowledge sources later) may name any host. Left alone, a tenant admin could aim the server at
169.254.169.254 (cloud metadata), at 10.0.0.1:6379 or at 127.0.0.1 and read the answers in the
bot's replies. This module holds the one policy for that and two ways to apply it:

* :func:`resolve_allowed` resolves a host **once** and checks **every** address it got (one
  forbidden address refuses the host), so the caller connects to exactly what was checked
  (``helpdesk/plugins/safe_http.py`` pins the request to the returned IP literal);
* :class:`GuardedTransport` is an httpx transport whose network backend does the same inside
  ``connect_tcp``: httpcore asks it for a connection to ``host:port``, it resolves, checks and
  connects the socket to a checked IP. httpcore still thinks it talks to ``host``, so the
  ``Host`` header, TLS SNI and certificate verification use the name. A name that resolved to a
  public address when it was saved and resolves to 127.0.0.1 now (DNS rebinding) is refused
  now: a check made earlier, with another lookup, proves nothing about this connection.

The default policy refuses every non-public address; an :class:`AddressPolicy` built by the
operator (never by a tenant) may admit loopback, named hosts or networks.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass

import httpcore
import httpx

__all__ = [
    "PRIVATE_ADDRESS",
    "AddressPolicy",
    "AddressRefused",
    "GuardedNetworkBackend",
    "GuardedTransport",
    "address_problem",
    "check_addresses",
    "resolve",
    "resolve_allowed",
    "resolve_sync",
]

# The stable code of a refusal (plugins, logs and the bot's handoff reason rely on it).
PRIVATE_ADDRESS = "private_address"


class AddressRefused(Exception):
    """``host`` resolved to an address the policy forbids; nothing was sent to it.

    Not an httpx/httpcore error on purpose: a client must not mistake it for a network failure
    worth retrying.
    """

    code = PRIVATE_ADDRESS

    def __init__(self, host: str, detail: str):
        self.host = host
        self.detail = detail
        super().__init__(f"{host}: {detail}")


# --------------------------------------------------------------------------------------------
# Address policy
# --------------------------------------------------------------------------------------------

_V4_BLOCKED = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",  # "this network", includes 0.0.0.0
        "10.0.0.0/8",  # RFC 1918
        "100.64.0.0/10",  # CGNAT shared address space
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, cloud metadata (169.254.169.254)
        "172.16.0.0/12",  # RFC 1918
        "192.0.0.0/24",  # IETF protocol assignments
        "192.88.99.0/24",  # 6to4 relay anycast (deprecated)
        "192.168.0.0/16",  # RFC 1918
        "198.18.0.0/15",  # benchmarking
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, includes 255.255.255.255
    )
)
_V6_BLOCKED = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::/128",  # unspecified
        "::1/128",  # loopback
        "::/96",  # IPv4-compatible (deprecated)
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments (Teredo, ORCHID, ...)
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
_V4_LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_V4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # RFC 2765 IPv4-translated


def address_problem(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address | str, *, allow_loopback: bool = False
) -> str | None:
    """Why ``ip`` must not be connected to, or ``None`` when it may.

    Loopback, RFC 1918 / unique-local, link-local (cloud metadata), unspecified, multicast,
    reserved, CGNAT, benchmarking, IETF special-purpose blocks and IPv6 addresses that embed a
    forbidden IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4) are refused.
    Documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32) are not:
    they are not routed anywhere, and tests use them as stand-ins for public addresses.
    ``allow_loopback`` admits 127.0.0.0/8 and ::1 only, never an embedded loopback address.
    """
    if isinstance(ip, str):
        ip = ipaddress.ip_address(ip)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            ip = ipaddress.IPv6Address(ip.packed)
        embedded: ipaddress.IPv4Address | None = None
        how = ""
        if ip.ipv4_mapped is not None:
            embedded, how = ip.ipv4_mapped, "IPv4-mapped"
        elif ip in _V4_TRANSLATED or ip in _NAT64:
            embedded, how = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), "NAT64/translated"
        elif ip.sixtofour is not None:
            embedded, how = ip.sixtofour, "6to4"
        if embedded is not None:
            problem = address_problem(embedded, allow_loopback=False)
            return f"{ip} is {how} {embedded}, which {problem}" if problem else None
        if ip == ipaddress.IPv6Address("::1"):
            return None if allow_loopback else f"{ip} is loopback"
        for net in _V6_BLOCKED:
            if ip in net:
                return f"{ip} is in the forbidden range {net}"
        if ip.is_reserved or ip.is_multicast or ip.is_link_local or ip.is_site_local:
            return f"{ip} is a reserved/special-purpose address"
        return None
    if ip in _V4_LOOPBACK:
        return None if allow_loopback else f"{ip} is loopback"
    for net in _V4_BLOCKED:
        if ip in net:
            return f"{ip} is in the forbidden range {net}"
    if ip.is_reserved or ip.is_multicast or ip.is_link_local or ip.is_unspecified:
        return f"{ip} is a reserved/special-purpose address"
    return None


_HOSTNAME = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*")
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class AddressPolicy:
    """What may be connected to beyond public addresses. The default admits nothing more.

    ``allowed_hosts`` admits those host names whatever they resolve to (the operator trusts
    their DNS); ``allowed_networks`` admits those addresses whatever name led to them.
    """

    allow_loopback: bool = False
    allowed_hosts: frozenset[str] = frozenset()
    allowed_networks: tuple[_Network, ...] = ()

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> AddressPolicy:
        """A policy from an operator's list: host names, IP addresses or networks in CIDR
        notation (``ollama.internal``, ``10.0.0.7``, ``10.1.0.0/16``, ``::1``).

        Raises ``ValueError`` naming the first entry that is none of these.
        """
        hosts: set[str] = set()
        networks: list[_Network] = []
        for raw in entries:
            entry = str(raw).strip().lower()
            if not entry:
                continue
            literal = entry.removeprefix("[").removesuffix("]")
            try:
                # strict: "10.0.0.7/8" is a typo for a network or for a host; ask which.
                networks.append(ipaddress.ip_network(literal, strict=True))
                continue
            except ValueError as exc:
                if "/" in literal or ":" in literal or literal.replace(".", "").isdigit():
                    raise ValueError(f"{raw!r} is not a valid address or network ({exc})") from None
            name = entry.rstrip(".")
            if not _HOSTNAME.fullmatch(name):
                raise ValueError(f"{raw!r} is not a host name, an IP address or a network")
            hosts.add(name)
        return cls(allowed_hosts=frozenset(hosts), allowed_networks=tuple(networks))

    def problem(self, host: str, address: str) -> str | None:
        """Why connecting to ``address`` (which ``host`` resolved to) is refused, or ``None``."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return f"{address!r} is not an IP address"
        if host.lower().rstrip(".") in self.allowed_hosts:
            return None
        if any(ip.version == net.version and ip in net for net in self.allowed_networks):
            return None
        return address_problem(ip, allow_loopback=self.allow_loopback)


def check_addresses(host: str, addresses: Iterable[str], policy: AddressPolicy) -> None:
    """Raise :class:`AddressRefused` when any address ``host`` resolved to is refused."""
    for address in addresses:
        problem = policy.problem(host, address)
        if problem:
            raise AddressRefused(host, problem)


# --------------------------------------------------------------------------------------------
# Resolution
# --------------------------------------------------------------------------------------------


def _addresses(infos: list) -> list[str]:
    addresses: list[str] = []
    for family, _type, _proto, _canon, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


async def resolve(host: str, port: int) -> list[str]:
    """Every address of ``host``, by one lookup on the loop's executor.

    Numeric oddities (``127.1``, ``2130706433``, ``0x7f000001``) are parsed by ``getaddrinfo``
    itself, so what is checked is exactly what the operating system would connect to. Raises
    ``OSError`` when the name does not resolve. (Tests patch ``socket.getaddrinfo`` under it.)
    """
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return _addresses(infos)


def resolve_sync(host: str, port: int) -> list[str]:
    """:func:`resolve` for synchronous callers (a form's early check)."""
    return _addresses(
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    )


async def resolve_allowed(host: str, port: int, policy: AddressPolicy) -> list[str]:
    """Resolve ``host`` once and check every address; connect only to what this returns.

    Raises ``OSError`` (no such name, or no address) or :class:`AddressRefused`.
    """
    addresses = await resolve(host, port)
    if not addresses:
        raise OSError(f"{host!r} has no address")
    check_addresses(host, addresses, policy)
    return addresses


# --------------------------------------------------------------------------------------------
# Connect-time guard for httpx clients
# --------------------------------------------------------------------------------------------


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, with every TCP connection resolved and checked here."""

    def __init__(self, policy: AddressPolicy, backend: httpcore.AsyncNetworkBackend | None = None):
        self.policy = policy
        self._backend = backend or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await resolve_allowed(host, port, self.policy)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host!r} timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host!r}: {exc}") from exc
        last_error: Exception | None = None
        for address in addresses:
            try:
                # The checked IP literal: nothing below this resolves the name again.
                return await self._backend.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None
        raise last_error

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """``httpx.AsyncHTTPTransport`` whose new connections go through the address policy.

    Give it to an ``httpx.AsyncClient(transport=..., trust_env=False)``: an environment proxy
    would resolve the name itself, past the guard. Redirects a client follows open their
    connections through here too. A pooled connection was checked when it was opened.
    """

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        limits: httpx.Limits | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ):
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        # httpx's transport takes no network backend (encode/httpx#3749 would add one), so this
        # builds the pool it would build, with httpcore's documented network_backend argument;
        # handle_async_request, the context manager and aclose are httpx's own.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedNetworkBackend(policy),
        )
