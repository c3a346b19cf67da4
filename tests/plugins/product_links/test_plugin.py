"""The product-links plugin end to end at the runner level, against a local HTTP server.

Loopback is reachable only because tests/settings.py turns PLUGIN_HTTP_ALLOW_LOOPBACK on.
"""

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from asgiref.sync import async_to_sync
from django.db.backends.utils import CursorWrapper
from django.urls import reverse

from helpdesk.conversations.services import Sender, message_post
from helpdesk.plugins import metrics
from helpdesk.plugins.models import PluginConfig
from helpdesk.plugins.runner import collect_ai_context, run_customer_message_hooks
from helpdesk.realtime.events import conversation_group
from tests.factories import ConversationFactory

# The runner's async hooks reach the database from pool threads (helpdesk.core.asyncdb), which
# only see committed rows.
pytestmark = pytest.mark.django_db(transaction=True)

customer_hooks = async_to_sync(run_customer_message_hooks)
ai_context = async_to_sync(collect_ai_context)

PAGE = """<!doctype html><html><head><title>Shop</title>
<meta property="og:title" content="Trail shoe {id}">
<meta property="product:price:amount" content="89.00">
<meta property="product:price:currency" content="EUR">
<meta property="product:availability" content="in stock">
<meta property="og:image" content="/img/{id}.jpg">
</head><body>A shoe.</body></html>"""


class Shop(BaseHTTPRequestHandler):
    hits: Counter = Counter()

    def log_message(self, *args):
        pass

    def do_GET(self):
        kind, _, product = self.path.strip("/").partition("/")
        self.hits[self.path] += 1
        if kind == "p":
            self.answer(200, "text/html; charset=utf-8", PAGE.format(id=product).encode())
        elif kind == "api":
            product = product.rsplit("/", 1)[-1]
            body = {"product": {"name": f"Kettle {product}", "price": "19.90",
                                "currency": "USD", "inventory_quantity": 3}}  # fmt: skip
            self.answer(200, "application/json", json.dumps(body).encode())
        elif kind == "gbk":
            page = '<html><head><meta property="og:title" content="中文商品 {id}">'
            page += '<meta property="product:price:amount" content="1299元"></head></html>'
            self.answer(200, "text/html; charset=gbk", page.format(id=product).encode("gbk"))
        elif kind == "huge":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            chunk = b"<p>" + b"x" * 65_536
            for _ in range(200):  # 13 MB, without a Content-Length
                try:
                    self.wfile.write(chunk)
                except OSError:
                    return
        elif kind == "slow":
            time.sleep(4)
            self.answer(200, "text/html", PAGE.format(id=product).encode())
        elif kind == "binary":
            self.answer(200, "application/octet-stream", bytes(range(256)) * 100)
        elif kind == "loop":
            self.send_response(302)
            self.send_header("Location", self.path)
            self.end_headers()
        else:
            self.answer(500, "text/plain", b"no")

    def answer(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def shop():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Shop)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def pattern(shop):
    port = shop.rsplit(":", 1)[1]
    return rf"https?://127\.0\.0\.1:{port}/(?:p|gbk|huge|slow|binary|loop|missing)/(\d+)"


@pytest.fixture
def product_links(configure, pattern):
    def make(tenant=None, **config):
        values = {
            "url_patterns": [pattern],
            "allowed_hosts": ["127.0.0.1"],
            "fetch_timeout": 1,
            **config,
        }
        if tenant is not None:
            values["tenant"] = tenant
        return configure("product_links", **values)

    return make


@pytest.fixture
def post(conversation):
    def post(text):
        return message_post(
            tenant=conversation.tenant,
            conversation_id=conversation.pk,
            sender=Sender.contact(),
            text=text,
        ).message

    return post


def test_a_product_link_gets_a_card_an_announcement_and_context_for_the_bot(
    tenant, conversation, shop, product_links, post, listen, django_capture_on_commit_callbacks
):
    product_links()
    message = post(f"Is this one waterproof? {shop}/p/1001 thanks")
    screen = listen(conversation_group(tenant.pk, conversation.pk))

    with django_capture_on_commit_callbacks(execute=True):
        changed = customer_hooks(tenant=tenant, message=message)

    assert changed is True
    card = {
        "product_id": "1001",
        "title": "Trail shoe 1001",
        "price": "89.00",
        "currency": "EUR",
        "image": f"{shop}/img/1001.jpg",
        "url": f"{shop}/p/1001",
        "stock": "in_stock",
        "quantity": None,
    }
    line = f"Product 1001 'Trail shoe 1001': 89.00 EUR, in stock, {shop}/p/1001"
    message.refresh_from_db()
    assert message.metadata == {"cards": [card], "context": [line]}
    [event] = screen.events()
    assert event["type"] == "message.updated"
    assert (event["conversation"], event["seq"]) == (conversation.pk, message.seq)
    assert event["data"]["id"] == message.pk
    assert event["data"]["metadata"]["cards"] == [card]
    assert ai_context(tenant=tenant, conversation=conversation, context=["Be brief."]) == [
        "Be brief.",
        line,
    ]


def test_the_bots_context_is_read_on_the_shared_blocking_pool(
    tenant, conversation, product_links, post, monkeypatch
):
    """Not through Django's async ORM, which queues every query of the job loop on one thread."""
    product_links(context_messages=5)
    post("hello")
    threads = []
    execute = CursorWrapper.execute

    def recording_execute(self, sql, params=None):
        if "conversations_message" in sql:
            threads.append(threading.current_thread().name)
        return execute(self, sql, params)

    monkeypatch.setattr(CursorWrapper, "execute", recording_execute)

    ai_context(tenant=tenant, conversation=conversation, context=[])

    assert threads
    assert all(name.startswith("helpdesk-db") for name in threads), threads


def test_facts_are_cached_per_tenant(tenant, other_tenant, shop, product_links, pattern, post):
    product_links()
    product_links(tenant=other_tenant)
    theirs = ConversationFactory(tenant=other_tenant)
    Shop.hits.clear()

    customer_hooks(tenant=tenant, message=post(f"{shop}/p/2002"))
    customer_hooks(tenant=tenant, message=post(f"again {shop}/p/2002"))
    assert Shop.hits["/p/2002"] == 1

    their_message = message_post(
        tenant=other_tenant,
        conversation_id=theirs.pk,
        sender=Sender.contact(),
        text=f"{shop}/p/2002",
    ).message
    assert customer_hooks(tenant=other_tenant, message=their_message) is True
    assert Shop.hits["/p/2002"] == 2


def test_the_product_api_is_used_when_a_url_template_is_set(tenant, shop, product_links, post):
    product_links(api_url_template=f"{shop}/api/products/{{id}}")
    message = post(f"{shop}/p/77")

    assert customer_hooks(tenant=tenant, message=message) is True

    message.refresh_from_db()
    [card] = message.metadata["cards"]
    assert (card["title"], card["price"], card["currency"]) == ("Kettle 77", "19.90", "USD")
    assert (card["stock"], card["quantity"]) == ("in_stock", 3)
    assert card["url"] == f"{shop}/p/77"  # the page the customer linked, not the API


def test_hostile_pages_never_stall_the_message_and_good_links_still_get_cards(
    tenant, shop, product_links, post
):
    product_links()
    kinds = ["huge", "slow", "binary", "loop", "gbk"]  # facts looks at 5 links at most
    message = post(" ".join(f"{shop}/{kind}/{n}" for n, kind in enumerate(kinds)))

    started = time.monotonic()
    changed = customer_hooks(tenant=tenant, message=message)
    elapsed = time.monotonic() - started

    assert changed is True
    assert elapsed < 3  # the slow page is given up after fetch_timeout (1 s)
    message.refresh_from_db()
    [card] = message.metadata["cards"]
    assert (card["title"], card["price"], card["currency"]) == ("中文商品 4", "1299.00", "CNY")
    other = post(f"{shop}/missing/5 and {shop}/p/6")
    assert customer_hooks(tenant=tenant, message=other) is True
    other.refresh_from_db()
    assert [card["title"] for card in other.metadata["cards"]] == ["Trail shoe 6"]
    assert metrics.failures() == {}  # each failed link is the plugin's own business


def test_a_hook_that_overruns_the_hook_timeout_is_cancelled(
    tenant, shop, product_links, post, settings
):
    settings.PLUGIN_HOOK_TIMEOUT = 0.5
    product_links(fetch_timeout=5)
    message = post(f"{shop}/slow/9")

    started = time.monotonic()
    assert customer_hooks(tenant=tenant, message=message) is False
    assert time.monotonic() - started < 2
    assert metrics.failure_count("product_links", "on_customer_message", "timeout") == 1


def test_hosts_off_the_allow_list_are_never_fetched(tenant, shop, product_links, post):
    port = shop.rsplit(":", 1)[1]
    product_links(url_patterns=[rf"http://localhost:{port}/p/(\d+)"])
    Shop.hits.clear()

    assert customer_hooks(tenant=tenant, message=post(f"http://localhost:{port}/p/1")) is False
    assert Shop.hits == Counter()


def test_a_bad_pattern_that_reached_the_database_fails_set_up_not_the_message(
    tenant, shop, product_links, post
):
    row = product_links()
    row.config = {**row.config, "url_patterns": ["(broken"]}
    row.save()

    assert customer_hooks(tenant=tenant, message=post(f"{shop}/p/1")) is False
    assert metrics.failure_count("product_links", "setup", "setup") == 1


# --- the admin -------------------------------------------------------------------------------


def admin_post(client, **fields):
    data = {
        "plugin_id": "product_links",
        "enabled": "on",
        "order": "0",
        "config_for": "product_links",
        "cfg_url_patterns": r"https?://shop\.example\.com/(\d+)",
        "cfg_api_url_template": "",
        "cfg_allowed_hosts": "shop.example.com\napi.shop.example.com",
        "cfg_cache_ttl": "600",
        "cfg_fetch_timeout": "3",
        "cfg_context_messages": "5",
        **fields,
    }
    return client.post(reverse("admin:plugins_pluginconfig_add"), data)


def errors(response):
    return dict(response.context["adminform"].form.errors.items())


def test_the_admin_stores_a_valid_configuration(tenant_admin_client, tenant):
    response = admin_post(
        tenant_admin_client, cfg_api_url_template="https://api.shop.example.com/products/{id}"
    )

    assert response.status_code == 302
    row = PluginConfig.objects.get(tenant=tenant)
    assert row.config["url_patterns"] == [r"https?://shop\.example\.com/(\d+)"]
    assert row.config["api_url_template"] == "https://api.shop.example.com/products/{id}"


def test_the_api_host_is_matched_as_the_fetching_client_matches_it(tenant_admin_client, tenant):
    """An internationalised host listed as typed matches its ASCII (punycode) form in the URL."""
    response = admin_post(
        tenant_admin_client,
        cfg_allowed_hosts="shop.example.com\nBücher.Example.",
        cfg_api_url_template="https://xn--bcher-kva.example/products/{id}",
    )

    assert response.status_code == 302
    assert (
        PluginConfig.objects.get(tenant=tenant)
        .config["api_url_template"]
        .startswith("https://xn--bcher-kva.example/")
    )


@pytest.mark.parametrize(
    ("fields", "field", "fragment"),
    [
        ({"cfg_url_patterns": "https://shop/(\\d+\n(broken"}, "cfg_url_patterns", "valid regular"),
        ({"cfg_url_patterns": "https://shop/((a+)+)"}, "cfg_url_patterns", "exponential"),
        ({"cfg_url_patterns": "https://shop/\\d+"}, "cfg_url_patterns", "capturing group"),
        ({"cfg_url_patterns": ""}, "cfg_url_patterns", "required"),
        (
            {"cfg_api_url_template": "https://api.shop.example.com/x"},
            "cfg_api_url_template",
            "{id}",
        ),
        ({"cfg_api_url_template": "ftp://x/{id}"}, "cfg_api_url_template", "http"),
        ({"cfg_api_url_template": "https://evil.example/{id}"}, "cfg_api_url_template", "allowed"),
        ({"cfg_allowed_hosts": "shop.*.com"}, "cfg_allowed_hosts", "allow-list"),
        ({"cfg_fetch_timeout": "60"}, "cfg_fetch_timeout", "less than or equal"),
    ],
)
def test_bad_settings_are_errors_on_their_fields(tenant_admin_client, fields, field, fragment):
    response = admin_post(tenant_admin_client, **fields)

    assert response.status_code == 200
    found = errors(response)
    assert list(found) == [field]
    assert fragment in " ".join(found[field])
    assert PluginConfig.objects.count() == 0
