"""Fetching a tenant's web sources: one page, or the pages a sitemap lists.

A tenant chooses the URL, so every connection goes through the address guard
(``helpdesk/core/netguard.py``): the host is resolved and checked as each connection opens,
redirects included, and only public addresses (plus the internal hosts an operator listed in
KNOWLEDGE_ALLOWED_INTERNAL_HOSTS) are reached. Redirects are followed by hand, at most
MAX_REDIRECTS, and only to http(s); a redirect's body is never read.

Each page is bounded: KNOWLEDGE_FETCH_TIMEOUT_SECONDS for everything from connecting to the last
byte, KNOWLEDGE_FETCH_MAX_BYTES of body, counted as it streams in and again once decompressed
(a gzip bomb stops at the limit, not in memory), and only the types the extractor reads. A
source's fetches together get KNOWLEDGE_FETCH_BUDGET_SECONDS, and a sitemap at most
KNOWLEDGE_FETCH_MAX_PAGES pages of its own host. Sitemaps are parsed by defusedxml, which
refuses the entity tricks (billion laughs, external entities) that expand a small file into
gigabytes or read local files.
"""

import asyncio
import functools
import time
import zlib
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

import httpx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from django.conf import settings
from django.utils.translation import gettext as _

from helpdesk.ai.knowledge.extract import HTML, MARKDOWN, PDF, PLAIN, SourceError, megabytes
from helpdesk.core.netguard import (
    PRIVATE_ADDRESS,
    AddressPolicy,
    AddressRefused,
    GuardedTransport,
    check_addresses,
    resolve_sync,
)

PAGE_TYPES = frozenset({HTML, PLAIN, MARKDOWN, PDF})
# text/plain too: servers that do not know .xml send it.
SITEMAP_TYPES = frozenset({"application/xml", "text/xml", PLAIN})
MAX_REDIRECTS = 5
MAX_URL_LENGTH = 2000  # KnowledgeSource.url and KnowledgeChunk.url
USER_AGENT = "HelpdeskKnowledgeBot/1.0"


@dataclass(frozen=True)
class Page:
    url: str  # where the body came from, after redirects
    content_type: str  # the bare media type, lower-case
    charset: str | None  # as the server declared it
    body: bytes


def url_validate(url: str) -> str:
    """``url`` without surrounding spaces, if it is one a source may have; raises
    ``SourceError("invalid_url")``."""
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise _invalid_url(
            _("The URL is longer than %(limit)s characters.") % {"limit": MAX_URL_LENGTH}
        )
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError, UnicodeError) as exc:
        raise _invalid_url(_("This is not a valid URL.")) from exc
    if parsed.scheme not in ("http", "https"):
        raise _invalid_url(_("The URL must start with http:// or https://."))
    if not parsed.host:
        raise _invalid_url(_("The URL has no host name."))
    if parsed.userinfo:
        raise _invalid_url(_("The URL must not contain a user name or password."))
    return url


def url_check_address(url: str) -> None:
    """Refuse, early and clearly, a URL whose host is on an internal network now.

    Only a first line, for the admin's form: every connection is checked again as it opens, so
    a name that changes its address later is refused then. A name that does not resolve passes;
    the fetch will say so.
    """
    parsed = httpx.URL(url_validate(url))
    host = parsed.raw_host.decode("ascii")
    try:
        addresses = resolve_sync(host, parsed.port or (443 if parsed.scheme == "https" else 80))
    except (OSError, UnicodeError):
        return
    try:
        check_addresses(host, addresses, fetch_policy())
    except AddressRefused as refused:
        raise _refused(url, refused) from None


def fetch_policy() -> AddressPolicy:
    return _policy(tuple(settings.KNOWLEDGE_ALLOWED_INTERNAL_HOSTS))


@functools.cache
def _policy(entries: tuple[str, ...]) -> AddressPolicy:
    return AddressPolicy.from_entries(entries)


class Fetcher:
    """Fetches the pages of one source, from synchronous code (a job's thread), within the
    source's time budget. Use as a context manager; connections are reused between pages.

    It runs its own event loop on the calling thread: the job loop that the bots' replies
    stream on must not wait for a slow web site.
    """

    def __init__(self):
        self._deadline = time.monotonic() + settings.KNOWLEDGE_FETCH_BUDGET_SECONDS
        self._loop = asyncio.new_event_loop()
        self._client = httpx.AsyncClient(
            transport=GuardedTransport(fetch_policy()),
            # An environment proxy would resolve the host itself, past the guard.
            trust_env=False,
            follow_redirects=False,
            timeout=settings.KNOWLEDGE_FETCH_TIMEOUT_SECONDS,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
        )

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc_info) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()

    def page(self, url: str) -> Page:
        """The body of ``url``, if it is a page of a type the extractor reads."""
        return self._loop.run_until_complete(self._get(url_validate(url), PAGE_TYPES))

    def sitemap(self, url: str) -> list[str]:
        """The page URLs a sitemap lists, in its order, without repeats: those on the sitemap's
        own host, at most KNOWLEDGE_FETCH_MAX_PAGES. A sitemap index's sitemaps are read (one
        level deep: an index inside an index is ignored)."""
        url = url_validate(url)
        host = _host(url)
        kind, locations = self._sitemap(url)
        if kind == "urlset":
            pages = self._same_host(locations, host)
        else:
            pages, first_error = [], None
            for child in self._same_host(locations, host):
                try:
                    child_kind, child_locations = self._sitemap(child)
                except SourceError as error:
                    first_error = first_error or error
                    continue
                if child_kind == "urlset":
                    pages.extend(self._same_host(child_locations, host))
                if len(set(pages)) >= settings.KNOWLEDGE_FETCH_MAX_PAGES:
                    break
            if not pages and first_error is not None:
                raise first_error
        pages = list(dict.fromkeys(pages))[: settings.KNOWLEDGE_FETCH_MAX_PAGES]
        if not pages:
            raise SourceError(
                "empty_sitemap",
                _("The sitemap %(url)s lists no pages of its own site.") % {"url": url},
            )
        return pages

    def _sitemap(self, url: str) -> tuple[str, list[str]]:
        page = self._loop.run_until_complete(self._get(url, SITEMAP_TYPES))
        try:
            # No DTD at all: a sitemap never needs one, and entity expansion lives there.
            root = fromstring(page.body, forbid_dtd=True)
        except (ParseError, DefusedXmlException) as exc:
            raise SourceError(
                "invalid_sitemap",
                _("%(url)s is not an XML sitemap (%(detail)s).") % {"url": url, "detail": exc},
            ) from exc
        kind = _local_name(root)
        entry = {"urlset": "url", "sitemapindex": "sitemap"}.get(kind)
        if entry is None:
            raise SourceError(
                "invalid_sitemap",
                _("%(url)s is not a sitemap: it has no <urlset> or <sitemapindex>.") % {"url": url},
            )
        return kind, [loc for child in root if _local_name(child) == entry if (loc := _loc(child))]

    @staticmethod
    def _same_host(urls: list[str], host: str) -> list[str]:
        kept = []
        for url in urls:
            try:
                if _host(url_validate(url)) == host:
                    kept.append(url.strip())
            except SourceError:
                continue
        return kept

    async def _get(self, url: str, accepted: frozenset[str]) -> Page:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise SourceError(
                "time_budget",
                _("Fetching this source took longer than the %(seconds)s seconds allowed.")
                % {"seconds": settings.KNOWLEDGE_FETCH_BUDGET_SECONDS},
            )
        seconds = min(settings.KNOWLEDGE_FETCH_TIMEOUT_SECONDS, left)
        try:
            async with asyncio.timeout(seconds):
                return await self._follow(url, accepted)
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise SourceError(
                "timeout",
                _("%(url)s did not answer within %(seconds)s seconds.")
                % {"url": url, "seconds": round(seconds)},
            ) from exc
        except AddressRefused as refused:
            raise _refused(url, refused) from None
        except httpx.HTTPError as exc:
            raise SourceError(
                "fetch_failed",
                _("%(url)s could not be fetched (%(detail)s).")
                % {"url": url, "detail": str(exc) or type(exc).__name__},
            ) from exc

    async def _follow(self, url: str, accepted: frozenset[str]) -> Page:
        request = self._client.build_request("GET", url)
        for _hop in range(MAX_REDIRECTS + 1):
            response = await self._client.send(request, stream=True)
            try:
                if not response.has_redirect_location:
                    return await _read(response, accepted)
                request = response.next_request
            finally:
                await response.aclose()
            if request.url.scheme not in ("http", "https"):
                raise _invalid_url(
                    _("%(url)s redirects to %(target)s, which is not an http(s) URL.")
                    % {"url": url, "target": request.url}
                )
        raise SourceError(
            "too_many_redirects",
            _("%(url)s redirects more than %(limit)s times.")
            % {"url": url, "limit": MAX_REDIRECTS},
        )


async def _read(response: httpx.Response, accepted: frozenset[str]) -> Page:
    url = str(response.url)
    if not 200 <= response.status_code < 300:
        raise SourceError(
            "http_status",
            _("%(url)s answered with HTTP status %(status)s.")
            % {"url": url, "status": response.status_code},
        )
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in accepted:
        raise SourceError(
            "unsupported_type",
            _("%(url)s is of type %(type)s; only %(accepted)s can be used.")
            % {"url": url, "type": media or _("unknown"), "accepted": ", ".join(sorted(accepted))},
        )
    limit = settings.KNOWLEDGE_FETCH_MAX_BYTES
    declared = response.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(url, limit)
    body = _BoundedBody(response.headers.get("content-encoding", ""), limit, url)
    async for chunk in response.aiter_raw():
        body.feed(chunk)
    return Page(url, media, response.charset_encoding, body.finish())


class _BoundedBody:
    """A body, decompressed as it arrives; past ``limit`` bytes, compressed or not, it is
    refused before the next chunk is read."""

    def __init__(self, encoding: str, limit: int, url: str):
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self._inflate = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            # 32 + MAX_WBITS: a gzip or a zlib header, whichever the server sent.
            self._inflate = zlib.decompressobj(32 + zlib.MAX_WBITS)
        else:
            raise SourceError(
                "fetch_failed",
                _("%(url)s was sent with an unsupported compression (%(encoding)s).")
                % {"url": url, "encoding": encoding},
            )
        self.limit = limit
        self.url = url
        self.received = 0
        self.data = bytearray()

    def feed(self, chunk: bytes) -> None:
        self.received += len(chunk)
        if self.received > self.limit:
            raise _too_large(self.url, self.limit)
        if self._inflate is None:
            self.data += chunk
            return
        room = self.limit - len(self.data)
        try:
            self.data += self._inflate.decompress(chunk, room + 1)
        except zlib.error as exc:
            raise self._corrupt() from exc
        # Output stopped at room + 1 bytes with input left over: it inflates past the limit.
        if len(self.data) > self.limit or self._inflate.unconsumed_tail:
            raise _too_large(self.url, self.limit)

    def finish(self) -> bytes:
        if self._inflate is not None:
            try:
                self.data += self._inflate.flush()
            except zlib.error as exc:
                raise self._corrupt() from exc
            if len(self.data) > self.limit:
                raise _too_large(self.url, self.limit)
        return bytes(self.data)

    def _corrupt(self) -> SourceError:
        return SourceError(
            "fetch_failed", _("%(url)s sent a corrupt compressed body.") % {"url": self.url}
        )


def _host(url: str) -> str:
    return httpx.URL(url).raw_host.decode("ascii").lower().rstrip(".")


def _local_name(element: Element) -> str:
    tag = element.tag if isinstance(element.tag, str) else ""
    return tag.rsplit("}", 1)[-1]


def _loc(entry: Element) -> str:
    for child in entry:
        if _local_name(child) == "loc":
            return (child.text or "").strip()
    return ""


def _invalid_url(message: str) -> SourceError:
    return SourceError("invalid_url", message)


def _refused(url: str, refused: AddressRefused) -> SourceError:
    return SourceError(
        PRIVATE_ADDRESS,
        _(
            "%(url)s leads to an internal network address (%(detail)s). Only public web pages "
            "can be fetched, unless the server's operator allows this host."
        )
        % {"url": url, "detail": refused.detail},
    )


def _too_large(url: str, limit: int) -> SourceError:
    return SourceError(
        "too_large",
        _("%(url)s is larger than the %(limit)s MB allowed for a page.")
        % {"url": url, "limit": megabytes(limit)},
    )
