"""Fetching pages and sitemaps from a real local HTTP server, through the address guard.

``site`` allows loopback the way an operator allows an internal host; the guard tests take it
away. Host names come from the fake resolver (``dns``), and ``connects`` fails a test that
opens a connection anywhere but 127.0.0.1.
"""

import gzip
import time
import tracemalloc

import pytest

from helpdesk.ai.knowledge.extract import SourceError
from helpdesk.ai.knowledge.fetch import Fetcher, url_check_address, url_validate
from tests.ai.knowledge import web
from tests.ai.knowledge.documents import gzip_bomb, pdf

site_server, site = web.site_server, web.site

PAGE = (
    "<html><head><title>Returns</title></head><body><h1>Returns</h1><p>30 days.</p></body></html>"
)


def fetch(url: str):
    with Fetcher() as fetcher:
        return fetcher.page(url)


def fetch_error(url: str) -> SourceError:
    with pytest.raises(SourceError) as caught:
        fetch(url)
    return caught.value


def sitemap_of(url: str) -> list[str]:
    with Fetcher() as fetcher:
        return fetcher.sitemap(url)


def urlset(*locations: str) -> str:
    entries = "".join(f"<url><loc>{location}</loc></url>" for location in locations)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
    )


def sitemap_index(*locations: str) -> str:
    entries = "".join(f"<sitemap><loc>{location}</loc></sitemap>" for location in locations)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}'
        "</sitemapindex>"
    )


# --- URLs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/file.pdf",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "example.com/page",
        "http://",
        "https://user:secret@example.com/",
        "https://example.com/" + "a" * 2000,
    ],
)
def test_only_plain_http_and_https_urls_are_accepted(url):
    with pytest.raises(SourceError) as caught:
        url_validate(url)

    assert caught.value.code == "invalid_url"


def test_a_valid_url_comes_back_trimmed():
    assert url_validate("  https://example.com/faq?lang=en \n") == "https://example.com/faq?lang=en"


@pytest.mark.parametrize(
    ("host", "addresses"),
    [
        ("metadata.test", ["169.254.169.254"]),
        ("intranet.test", ["10.0.0.7"]),
        ("mixed.test", ["203.0.113.10", "192.168.1.1"]),
        ("localhost.test", ["127.0.0.1"]),
    ],
)
def test_the_early_check_refuses_a_host_on_an_internal_network(dns, settings, host, addresses):
    settings.KNOWLEDGE_ALLOWED_INTERNAL_HOSTS = []
    dns.add(host, addresses)

    with pytest.raises(SourceError) as caught:
        url_check_address(f"https://{host}/faq")

    assert caught.value.code == "private_address"
    assert "internal network" in caught.value.message


def test_the_early_check_passes_public_and_unresolvable_hosts(dns, settings):
    settings.KNOWLEDGE_ALLOWED_INTERNAL_HOSTS = []
    dns.add("shop.test", ["203.0.113.10"])

    url_check_address("https://shop.test/faq")
    url_check_address("https://no-such-host.invalid/faq")  # the fetch will say it failed


def test_an_operator_may_allow_an_internal_host(dns, settings):
    settings.KNOWLEDGE_ALLOWED_INTERNAL_HOSTS = ["wiki.internal"]
    dns.add("wiki.internal", ["10.0.0.7"])

    url_check_address("http://wiki.internal/handbook")


# --- Pages -------------------------------------------------------------------------------------


def test_a_page_is_fetched_with_its_type_and_charset(site):
    url = site.serve("/returns.html", PAGE.encode("gbk"), content_type="text/html; charset=GBK")

    page = fetch(url)

    assert (page.url, page.content_type, page.charset, page.body) == (
        url,
        "text/html",
        "gbk",
        PAGE.encode("gbk"),
    )


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("text/plain", b"plain"), ("text/markdown", b"# md"), ("application/pdf", pdf("PDF page"))],
)
def test_text_markdown_and_pdf_pages_are_accepted(site, content_type, body):
    assert fetch(site.serve("/doc", body, content_type=content_type)).body == body


@pytest.mark.parametrize(
    "content_type", ["image/png", "application/octet-stream", "application/json", ""]
)
def test_other_types_are_refused_before_the_body_is_read(site, content_type):
    url = site.serve("/thing", b"\x89PNG....", content_type=content_type)

    error = fetch_error(url)

    assert error.code == "unsupported_type"


def test_an_error_status_is_a_clear_error(site):
    error = fetch_error(site.url + "/missing")

    assert error.code == "http_status"
    assert "404" in error.message


def test_a_gzip_compressed_page_is_inflated(site):
    url = site.serve("/zipped", gzip.compress(PAGE.encode()), headers={"Content-Encoding": "gzip"})

    assert fetch(url).body == PAGE.encode()


def test_a_body_past_the_limit_stops_the_fetch(site, settings):
    settings.KNOWLEDGE_FETCH_MAX_BYTES = 64 * 1024
    url = site.serve("/huge", b"<p>" + b"x" * 10_000_000, streamed=True)

    error = fetch_error(url)

    assert error.code == "too_large"
    assert "0.0625 MB" in error.message


def test_a_declared_length_past_the_limit_is_refused_unread(site, settings):
    settings.KNOWLEDGE_FETCH_MAX_BYTES = 1000

    assert fetch_error(site.serve("/big", b"x" * 5000)).code == "too_large"


def test_a_gzip_bomb_stops_at_the_limit_not_in_memory(site, settings):
    settings.KNOWLEDGE_FETCH_MAX_BYTES = 1024 * 1024
    bomb = gzip_bomb(200 * 1024 * 1024)
    url = site.serve("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    assert len(bomb) < settings.KNOWLEDGE_FETCH_MAX_BYTES

    tracemalloc.start()
    try:
        error = fetch_error(url)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert error.code == "too_large"
    assert peak < 16 * 1024 * 1024  # the page limit and change, not the 200 MB it inflates to


def test_a_slow_page_times_out(site, settings):
    settings.KNOWLEDGE_FETCH_TIMEOUT_SECONDS = 1
    url = site.serve("/slow", PAGE, delay=3)
    started = time.monotonic()

    error = fetch_error(url)

    assert error.code == "timeout"
    assert time.monotonic() - started < 2.5


def test_a_source_gets_one_time_budget_for_all_its_pages(site, settings):
    settings.KNOWLEDGE_FETCH_TIMEOUT_SECONDS = 5
    settings.KNOWLEDGE_FETCH_BUDGET_SECONDS = 1
    slow = site.serve("/slow", PAGE, delay=3)
    fast = site.serve("/fast", PAGE)

    with Fetcher() as fetcher:
        with pytest.raises(SourceError) as first:
            fetcher.page(slow)
        with pytest.raises(SourceError) as second:
            fetcher.page(fast)

    assert (first.value.code, second.value.code) == ("timeout", "time_budget")
    assert site.hits["/fast"] == 0


def test_redirects_are_followed(site):
    site.serve("/new", PAGE)
    url = site.redirect("/old", "/new", status=301)

    page = fetch(url)

    assert (page.url, page.body) == (site.url + "/new", PAGE.encode())


def test_at_most_five_redirects_are_followed(site):
    for hop in range(6):
        site.redirect(f"/hop{hop}", f"/hop{hop + 1}")
    site.serve("/hop6", PAGE)

    assert fetch(site.url + "/hop1").body == PAGE.encode()  # five redirects
    error = fetch_error(site.url + "/hop0")  # six

    assert error.code == "too_many_redirects"
    assert site.hits["/hop6"] == 1


def test_a_redirect_to_another_scheme_is_refused(site):
    error = fetch_error(site.redirect("/ftp", "ftp://example.com/file"))

    assert error.code == "invalid_url"


# --- The address guard -------------------------------------------------------------------------


def test_loopback_is_refused_unless_the_operator_allows_it(site, settings):
    url = site.serve("/returns.html", PAGE)
    settings.KNOWLEDGE_ALLOWED_INTERNAL_HOSTS = []

    error = fetch_error(url)

    assert error.code == "private_address"
    assert "127.0.0.1 is loopback" in error.message
    assert site.hits["/returns.html"] == 0


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/latest/meta-data/", "http://metadata.test/latest/meta-data/"],
)
def test_cloud_metadata_is_never_reached(dns, connects, settings, url):
    settings.KNOWLEDGE_ALLOWED_INTERNAL_HOSTS = []
    dns.add("metadata.test", ["169.254.169.254"])

    error = fetch_error(url)

    assert error.code == "private_address"
    assert "169.254.169.254" in error.message
    assert connects.hosts == []


def test_a_redirect_to_a_private_address_is_refused(site, dns, connects):
    dns.add("intranet.test", ["10.0.0.7"])
    url = site.redirect("/away", "http://intranet.test/admin")

    error = fetch_error(url)

    assert error.code == "private_address"
    assert "10.0.0.7" in error.message
    assert connects.hosts == ["127.0.0.1"]  # the site itself, never the intranet


# --- Sitemaps ----------------------------------------------------------------------------------


def test_a_sitemap_lists_its_own_hosts_pages_once_each_in_order(site):
    own = [site.url + "/a", site.url + "/b", site.url + "/c"]
    url = site.serve(
        "/sitemap.xml",
        urlset(own[0], "https://elsewhere.example/x", own[1], own[0], "ftp://x/y", own[2]),
        content_type="application/xml",
    )

    assert sitemap_of(url) == own


def test_a_sitemap_gives_at_most_the_page_limit(site, settings):
    settings.KNOWLEDGE_FETCH_MAX_PAGES = 2
    pages = urlset(*(f"{site.url}/p{n}" for n in range(5)))
    url = site.serve("/sitemap.xml", pages, content_type="application/xml")

    assert sitemap_of(url) == [site.url + "/p0", site.url + "/p1"]


def test_a_sitemap_index_is_read_one_level_deep(site):
    site.serve("/one.xml", urlset(site.url + "/a", site.url + "/b"), content_type="text/xml")
    site.serve("/two.xml", urlset(site.url + "/c"), content_type="text/xml")
    site.serve("/nested.xml", sitemap_index(site.url + "/deeper.xml"), content_type="text/xml")
    site.serve("/deeper.xml", urlset(site.url + "/never"), content_type="text/xml")
    url = site.serve(
        "/index.xml",
        sitemap_index(
            site.url + "/one.xml",
            site.url + "/missing.xml",
            site.url + "/nested.xml",
            "https://elsewhere.example/sitemap.xml",
            site.url + "/two.xml",
        ),
        content_type="text/xml",
    )

    assert sitemap_of(url) == [site.url + "/a", site.url + "/b", site.url + "/c"]
    assert site.hits["/deeper.xml"] == 0


def test_a_sitemap_without_pages_of_its_site_is_an_error(site):
    url = site.serve("/sitemap.xml", urlset("https://elsewhere.example/x"), content_type="text/xml")

    with pytest.raises(SourceError) as caught:
        sitemap_of(url)

    assert caught.value.code == "empty_sitemap"


def test_a_page_that_is_not_a_sitemap_is_an_error(site):
    url = site.serve("/sitemap.xml", "<rss><channel/></rss>", content_type="application/xml")

    with pytest.raises(SourceError) as caught:
        sitemap_of(url)

    assert caught.value.code == "invalid_sitemap"


@pytest.mark.parametrize(
    "document",
    [
        # Billion laughs: a kilobyte that expands to gigabytes.
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        "<urlset><url><loc>&lol3;</loc></url></urlset>",
        # An external entity: reads a local file into the document.
        '<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<urlset><url><loc>&x;</loc></url></urlset>",
        "<urlset><url><loc>unclosed",
    ],
    ids=["billion-laughs", "external-entity", "malformed"],
)
def test_xml_tricks_and_broken_xml_are_refused(site, document):
    url = site.serve("/sitemap.xml", document, content_type="application/xml")

    with pytest.raises(SourceError) as caught:
        sitemap_of(url)

    assert caught.value.code == "invalid_sitemap"
