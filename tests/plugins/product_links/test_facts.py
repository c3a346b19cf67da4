import json
import re
import time

import pytest
import regex

from helpdesk.plugins.safe_http import SafeResponse, sniff_charset
from plugins.product_links.facts import (
    DEFAULT_PATTERN,
    ProductFacts,
    ProductLink,
    compile_patterns,
    facts_from_html,
    facts_from_json,
    find_product_links,
)

PAGE = "https://shop.example.com/products/1001"


# ============================================================================================
# Links
# ============================================================================================


def test_default_pattern_finds_links_in_order_without_duplicates():
    text = (
        "Hi! Is https://shop.example.com/products/1001 still available? Also "
        "http://shop.example.com/p/1002, and https://shop.example.com/1003. "
        "Same again: https://shop.example.com/products/1001 and https://other.example.com/p/9"
    )
    assert find_product_links(text, [re.compile(DEFAULT_PATTERN)]) == [
        ProductLink("https://shop.example.com/products/1001", "1001"),
        ProductLink("http://shop.example.com/p/1002", "1002"),
        ProductLink("https://shop.example.com/1003", "1003"),
    ]
    assert find_product_links(text) == find_product_links(text, [re.compile(DEFAULT_PATTERN)])


def test_same_product_under_two_urls_is_one_link():
    text = "https://shop.example.com/p/1001 or https://shop.example.com/products/1001?"
    assert find_product_links(text) == [ProductLink("https://shop.example.com/p/1001", "1001")]


def test_lookalike_hosts_do_not_match_the_default_pattern():
    text = "https://shop.example.com.evil.test/p/1 https://shopXexample.com/p/2 shop.example.com/3"
    assert find_product_links(text) == []


def test_at_most_five_links_per_message():
    text = " ".join(f"https://shop.example.com/p/{n}" for n in range(1, 12))
    links = find_product_links(text)
    assert [link.product_id for link in links] == ["1", "2", "3", "4", "5"]


def test_only_the_start_of_a_huge_message_is_scanned():
    text = "x" * 20_000 + " https://shop.example.com/p/7"
    assert find_product_links(text) == []
    assert find_product_links("https://shop.example.com/p/7 " + "x" * 20_000)[0].product_id == "7"


def test_empty_or_non_text_input():
    assert find_product_links("") == []
    assert find_product_links(None) == []  # type: ignore[arg-type]


def test_named_id_group_and_several_patterns_keep_text_order():
    patterns = compile_patterns(
        [
            r"(?i)https?://(?:www\.)?acme\.test/(?:de|en)/item/(?P<id>[A-Z0-9-]{3,20})",
            r"https?://shop\.example\.com/(?:p/|products/)?(\d+)",
        ]
    )
    text = (
        "compare https://shop.example.com/p/55 with HTTPS://WWW.ACME.TEST/en/item/AB-123), "
        "then http://acme.test/de/item/zz9"
    )
    assert find_product_links(text, patterns) == [
        ProductLink("https://shop.example.com/p/55", "55"),
        ProductLink("HTTPS://WWW.ACME.TEST/en/item/AB-123", "AB-123"),
        ProductLink("http://acme.test/de/item/zz9", "zz9"),
    ]


def test_pattern_with_a_path_captures_the_whole_link_minus_trailing_punctuation():
    patterns = compile_patterns([r"https://acme\.test(?:/[a-z0-9-]+)*/(\d+)(?:\?[^\s]*)?"])
    text = "See https://acme.test/shoes/trail/42?color=red."
    assert find_product_links(text, patterns) == [
        ProductLink("https://acme.test/shoes/trail/42?color=red", "42")
    ]


def test_matching_is_time_bounded_even_for_a_pattern_that_skipped_validation():
    evil = regex.compile(r"(a|aa)+$")  # exponential; compile_patterns would refuse it
    started = time.monotonic()
    assert find_product_links("a" * 60 + "b", [evil]) == []
    assert time.monotonic() - started < 1.5


def test_a_slow_pattern_does_not_stop_the_others():
    evil = re.compile(r"x(a|aa)+$")
    good = re.compile(DEFAULT_PATTERN)
    text = "https://shop.example.com/p/1 x" + "a" * 60 + "b"
    started = time.monotonic()
    assert find_product_links(text, [good, evil]) == [
        ProductLink("https://shop.example.com/p/1", "1")
    ]
    assert time.monotonic() - started < 1.5


# -- pattern validation -----------------------------------------------------------------------


def test_default_and_sensible_patterns_are_accepted():
    compiled = compile_patterns(
        [
            DEFAULT_PATTERN,
            r"https?://(?:www\.)?acme\.test/(?P<id>[A-Z]{2}-\d{3,8})",
            r"https://acme\.test(?:/[a-z-]+)*/(\d+)",
            r"SKU[- ]?(\d{4,10})",
            r"https://a\.test/(?:[0-9a-f]{2}){4}/(\d+)",
            r"https://a\.test/(?>\w+)+/(\d+)",  # atomic: no backtracking into the group
        ]
    )
    assert all(isinstance(p, re.Pattern) for p in compiled)
    assert compile_patterns([]) == []


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("https://shop.test/(", "not a valid regular expression"),
        ("https://shop.test/p/\\d+", "exactly one capturing group"),
        ("https://shop.test/(p)/(\\d+)", "exactly one capturing group"),
        ("x" * 301, "longer than 300"),
        ("", "non-empty"),
        ("(a+)+", "nested quantifiers"),
        ("(a*)*", "nested quantifiers"),
        ("(.*)*", "nested quantifiers"),
        ("(?:.+)+(\\d)", "nested quantifiers"),
        ("https://x\\.test/(\\w+\\s?)+", "nested quantifiers"),
        ("(\\d+){2,5}", "nested quantifiers"),
        ("(?:a+a)+(\\d)", "nested quantifiers"),
        ("(a|a)*", "alternatives"),
        ("(a|ab)+", "alternatives"),
        ("(?:.|\\s)*(\\d+)", "alternatives"),
        ("(?:x|)*(\\d+)", "alternatives"),
        ("(?P<id>\\d+)-(?P=id)", "back-references"),
    ],
)
def test_bad_patterns_are_refused_with_a_clear_message(pattern, message):
    with pytest.raises(ValueError, match=message):
        compile_patterns([DEFAULT_PATTERN, pattern])
    with pytest.raises(ValueError, match="pattern 2"):
        compile_patterns([DEFAULT_PATTERN, pattern])


def test_pattern_list_itself_is_validated():
    with pytest.raises(ValueError, match="list"):
        compile_patterns(DEFAULT_PATTERN)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at most 20"):
        compile_patterns([DEFAULT_PATTERN] * 21)
    with pytest.raises(ValueError, match="non-empty string"):
        compile_patterns([42])  # type: ignore[list-item]


# ============================================================================================
# Facts from HTML
# ============================================================================================

OPENGRAPH_PAGE = """<!doctype html>
<html lang="en"><head>
<meta charset="utf-8">
<title>Trail shoe X2 – Example Shop</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="canonical" href="https://shop.example.com/products/1001">
<meta property="og:site_name" content="Example Shop">
<meta property="og:type" content="product">
<meta property="og:title" content="  Trail
   shoe  ">
<meta property="og:url" content="https://shop.example.com/products/1001">
<meta property="og:image" content="http://cdn.example.com/i/1001.jpg">
<meta property="og:image:secure_url" content="//cdn.example.com/i/1001.jpg?v=3&amp;w=600">
<meta property="product:price:amount" content="89.00">
<meta property="product:price:currency" content="eur">
<meta property="product:availability" content="in stock">
<meta name="twitter:card" content="product">
<meta name="twitter:title" content="Trail shoe (Twitter)">
</head><body><h1>Trail shoe</h1><script>var x = "<meta property='og:title' content='no'>";</script>
</body></html>"""


def test_opengraph_page():
    facts = facts_from_html(OPENGRAPH_PAGE, PAGE, product_id="1001")
    assert facts == ProductFacts(
        title="Trail shoe",
        price="89.00",
        currency="EUR",
        image="https://cdn.example.com/i/1001.jpg?v=3&w=600",
        stock="in_stock",
        url="https://shop.example.com/products/1001",
        product_id="1001",
    )
    assert facts.as_context() == (
        "Product 1001 'Trail shoe': 89.00 EUR, in stock, https://shop.example.com/products/1001"
    )


JSONLD_PAGE = """<html><head><title>Daypack | Acme</title>
<script type="application/ld+json">
{"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": []}
</script>
<script type="application/ld+json">
{
  "@context": "https://schema.org",
  "@graph": [
    {"@type": "WebPage", "name": "Daypack page"},
    {
      "@type": ["Product", "Thing"],
      "name": "Daypack 20L &amp; rain cover",
      "sku": "2002",
      "image": [{"@type": "ImageObject", "url": "/media/2002-front.jpg"}, "/media/2002-back.jpg"],
      "url": "https://shop.example.com/products/2002",
      "offers": [{
        "@type": "Offer",
        "priceSpecification": {"@type": "UnitPriceSpecification", "price": 1299.5,
                               "priceCurrency": "SEK"},
        "availability": "http://schema.org/InStock",
        "inventoryLevel": {"@type": "QuantitativeValue", "value": "12"},
      }]
    }
  ]
}
</script>
<meta property="og:title" content="OG title loses to JSON-LD">
<meta property="product:price:amount" content="1.00">
</head><body></body></html>"""


def test_jsonld_page_wins_over_opengraph_and_tolerates_trailing_commas():
    facts = facts_from_html(JSONLD_PAGE, "https://shop.example.com/products/2002?ref=chat")
    assert facts is not None
    assert facts.title == "Daypack 20L & rain cover"
    assert (facts.price, facts.currency) == ("1299.50", "SEK")
    assert facts.image == "https://shop.example.com/media/2002-front.jpg"
    assert (facts.stock, facts.quantity) == ("in_stock", 12)
    assert facts.url == "https://shop.example.com/products/2002"
    assert facts.as_context() == (
        "Product 'Daypack 20L & rain cover': 1299.50 SEK, in stock (12 left), "
        "https://shop.example.com/products/2002"
    )


def test_jsonld_aggregate_offer_and_out_of_stock():
    page = """<script type="application/ld+json">[{"@type": "Organization"},
      {"@type": "http://schema.org/Product", "name": {"@value": "Tent"},
       "offers": {"@type": "AggregateOffer", "lowPrice": "249", "highPrice": "299",
                  "priceCurrency": "USD", "offerCount": 3,
                  "availability": "https://schema.org/SoldOut"}}]</script>"""
    facts = facts_from_html(page, "https://acme.test/tent")
    assert facts == ProductFacts(
        title="Tent",
        price="249.00",
        currency="USD",
        stock="out_of_stock",
        url="https://acme.test/tent",
    )


GBK_PAGE = """<html><head>
<meta http-equiv="Content-Type" content="text/html; charset=gbk">
<title>男款越野跑鞋 轻量 防滑 - 示例商城</title>
<meta name="description" content="男款越野跑鞋">
</head><body>
<div itemscope itemtype="https://schema.org/Product">
  <h1 itemprop="name">男款越野跑鞋</h1>
  <img itemprop="image" src="/img/3003.jpg" alt="跑鞋">
  <div itemprop="offers" itemscope itemtype="https://schema.org/Offer">
    <span itemprop="price" content="1299.00">￥1,299.00</span>
    <meta itemprop="priceCurrency" content="CNY">
    <link itemprop="availability" href="https://schema.org/InStock">
  </div>
</div></body></html>"""


def test_chinese_page_in_gbk_through_the_safe_http_response():
    body = GBK_PAGE.encode("gbk")
    response = SafeResponse(PAGE, 200, "text/html", sniff_charset(body), body)
    facts = facts_from_html(response.text(), "https://shop.example.cn/item/3003.html")
    assert facts is not None
    assert facts.title == "男款越野跑鞋 轻量 防滑 - 示例商城"  # <title>: microdata names are text
    assert (facts.price, facts.currency, facts.stock) == ("1299.00", "CNY", "in_stock")
    assert facts.image == "https://shop.example.cn/img/3003.jpg"
    assert "1299.00 CNY, in stock" in facts.as_context()


def test_gbk_page_read_with_the_wrong_charset_does_not_crash():
    garbled = GBK_PAGE.encode("gbk").decode("utf-8", errors="replace")
    facts = facts_from_html(garbled, PAGE)
    assert facts is not None
    assert facts.price == "1299.00"


def test_twitter_cards_only():
    page = """<meta name="twitter:title" content="Rain jacket">
    <meta name="twitter:image" content="https://cdn.acme.test/j.png">
    <meta name="twitter:label1" content="Price"><meta name="twitter:data1" content="$59.90 USD">
    <meta name="twitter:label2" content="Availability">
    <meta name="twitter:data2" content="Out of stock">"""
    facts = facts_from_html(page, "https://acme.test/j")
    assert (facts.title, facts.price, facts.currency) == ("Rain jacket", "59.90", "USD")
    assert facts.image == "https://cdn.acme.test/j.png"
    assert facts.stock == "out_of_stock"


def test_title_tag_is_the_last_resort():
    facts = facts_from_html("<html><head><title>\n  Just a   title\n</title>", PAGE)
    assert facts == ProductFacts(title="Just a title", url=PAGE)
    assert facts.as_context() == f"Product 'Just a title': price unknown, stock unknown, {PAGE}"


def test_page_without_product_information_gives_none():
    assert facts_from_html("<html><body><p>Hello</p></body></html>", PAGE) is None
    assert facts_from_html("", PAGE) is None


@pytest.mark.parametrize(
    "garbage",
    [
        "<<<>>><meta property=og:title content=Shoe><title>Unclosed",
        '<meta property="og:title" content="Shoe',
        "<script type='application/ld+json'>{not json at all</script><title>T</title>",
        "<script type='application/ld+json'>" + "[" * 5000 + "</script><title>T</title>",
        '<script type="application/ld+json">{"@type": "Product", "name": 42, "offers": "x",'
        ' "image": {"url": ["javascript:alert(1)"]}}</script>',
        "\x00\x01\x02<title>\x00bin\x07ary\x1b</title>\ufffd\ufffd<!-- unclosed comment",
        "<![CDATA[ <title>x</title> ]]><!DOCTYPE html><html <head>>>",
        "</title></script></head><title></title>",
        "&#0;&#xD800;&nbsp;&amp<title>&lt;b&gt;Bold&lt;/b&gt; &#169; 2024</title>",
    ],
)
def test_garbage_html_never_crashes(garbage):
    facts = facts_from_html(garbage, PAGE)
    if facts is not None:
        json.dumps(facts.as_card())
        assert "\n" not in facts.as_context()


def test_garbage_html_still_yields_what_it_can():
    facts = facts_from_html(
        "<script type='application/ld+json'>{not json</script><title>T</title>", PAGE
    )
    assert facts.title == "T"
    jsonld = facts_from_html(
        '<script type="application/ld+json">{"@type": "Product", "name": 42, "offers": "x",'
        ' "image": {"url": ["javascript:alert(1)"]}}</script>',
        PAGE,
    )
    assert jsonld == ProductFacts(title="42", url=PAGE)


def test_huge_attribute_values_are_capped_quickly():
    page = (
        '<meta property="og:title" content="' + "Shoe " * 100_000 + '">'
        '<meta property="og:image" content="https://cdn.test/' + "a" * 300_000 + '.jpg">'
        '<meta property="product:price:amount" content="' + "9" * 100_000 + '">'
        '<meta property="og:description" content="' + "x" * 1_000_000 + '">'
    )
    started = time.monotonic()
    facts = facts_from_html(page, PAGE)
    assert time.monotonic() - started < 3
    assert facts is not None
    assert len(facts.title) <= 200
    assert facts.title.startswith("Shoe Shoe")
    assert facts.image is None  # too long to be a real image URL
    assert facts.price is None  # not a sane price
    # Past the 2,000,000-character cap the rest of the page is not read at all.
    cut = facts_from_html('<meta property="og:title" content="' + "y" * 3_000_000 + '">', PAGE)
    assert cut is None


def test_unsafe_links_are_dropped_and_foreign_urls_are_not_believed():
    page = """<meta property="og:title" content="Shoe">
    <meta property="og:image" content="javascript:alert(document.cookie)">
    <meta property="og:url" content="https://phishing.test/login">
    <meta property="product:price:amount" content="10">"""
    facts = facts_from_html(page, PAGE)
    assert facts.image is None
    assert facts.url == PAGE
    data_image = facts_from_html(
        '<meta property="og:title" content="S"><meta property="og:image" content="data:image/png;'
        'base64,AAAA">',
        PAGE,
    )
    assert data_image.image is None


def test_relative_og_url_on_the_same_host_is_resolved():
    page = '<meta property="og:title" content="S"><meta property="og:url" content="/p/1001#top">'
    assert facts_from_html(page, "https://shop.example.com/x?utm=1").url == (
        "https://shop.example.com/p/1001#top"
    )


# ============================================================================================
# Facts from JSON
# ============================================================================================


def test_flat_json():
    facts = facts_from_json(
        {
            "id": 1001,
            "name": "Trail shoe",
            "price": 89,
            "currency": "EUR",
            "image": "https://cdn.example.com/1001.jpg",
            "stock": 12,
        },
        PAGE,
        product_id="1001",
    )
    assert facts.as_context() == (
        "Product 1001 'Trail shoe': 89.00 EUR, in stock (12 left), "
        "https://shop.example.com/products/1001"
    )
    card = facts.as_card()
    assert json.loads(json.dumps(card)) == card
    assert {k: card[k] for k in ("title", "price", "currency", "image", "url", "stock")} == {
        "title": "Trail shoe",
        "price": "89.00",
        "currency": "EUR",
        "image": "https://cdn.example.com/1001.jpg",
        "url": PAGE,
        "stock": "in_stock",
    }


def test_wrapped_shopify_like_json():
    data = {
        "data": {
            "product": {
                "title": "Daypack",
                "handle": "daypack",
                "images": [{"src": "//cdn.shop.test/daypack.png"}],
                "variants": [
                    {"title": "Blue", "price": "59.90", "inventory_quantity": 0},
                    {"title": "Red", "price": "61.00", "inventory_quantity": 4},
                ],
            }
        }
    }
    facts = facts_from_json(data, "https://shop.test/products/daypack")
    assert (facts.title, facts.price, facts.currency) == ("Daypack", "59.90", None)
    assert (facts.stock, facts.quantity) == ("out_of_stock", 0)
    assert facts.image == "https://cdn.shop.test/daypack.png"


def test_price_object_and_availability_strings():
    facts = facts_from_json(
        {
            "product": {
                "productName": "Lamp",
                "price": {"amount": "1.299,00", "currency_code": "eur"},
                "availability": "OutOfStock",
            }
        },
        PAGE,
    )
    assert (facts.price, facts.currency, facts.stock) == ("1299.00", "EUR", "out_of_stock")


def test_schema_org_json_is_understood_too():
    data = {
        "@type": "Product",
        "name": "Tent",
        "offers": {"price": "249.00", "priceCurrency": "USD", "availability": "InStock"},
    }
    facts = facts_from_json(data, PAGE)
    assert (facts.title, facts.price, facts.currency, facts.stock) == (
        "Tent",
        "249.00",
        "USD",
        "in_stock",
    )


def test_list_of_products_takes_the_first():
    facts = facts_from_json({"products": [{"title": "A", "price": "1"}, {"title": "B"}]}, PAGE)
    assert (facts.title, facts.price) == ("A", "1.00")


@pytest.mark.parametrize(
    "data",
    [
        None,
        "a string",
        42,
        [],
        {},
        {"title": ["x", {"y": 1}], "price": {"weird": True}, "image": 42, "stock": "maybe"},
        {"name": None, "price": True, "currency": 978, "url": "javascript:alert(1)"},
        {"price": float("nan"), "quantity": -3},
        {"price": float("inf"), "in_stock": "perhaps"},
        {"data": {"data": {"data": {"data": {"data": {"data": {"data": {"title": "deep"}}}}}}}},
    ],
)
def test_wrong_shapes_and_types_are_tolerated(data):
    facts = facts_from_json(data, PAGE)
    assert isinstance(facts, ProductFacts)
    assert facts.url == PAGE
    assert facts.price is None
    json.dumps(facts.as_card())


def test_strings_are_normalised_and_capped():
    facts = facts_from_json({"title": "  A\n\tvery\u200b  long\x00 " + "x" * 1000}, PAGE)
    assert facts.title.startswith("A very long ")
    assert len(facts.title) == 200
    assert facts.title.endswith("…")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (89, "89.00"),
        (89.9, "89.90"),
        ("89", "89.00"),
        ("1,299.00", "1299.00"),
        ("1.299,00 €", "1299.00"),
        ("89,90", "89.90"),
        ("1,299", "1299.00"),
        ("1.299.000", "1299000.00"),
        ("¥ 1299", "1299.00"),
        ("CHF 1'299.50", "1299.50"),
        ("0.005", "0.005"),
        ({"@value": "12.5"}, "12.50"),
        (-5, None),
        ("free", None),
        (True, None),
        (float("nan"), None),
        ("9" * 40, None),
    ],
)
def test_price_normalisation(raw, expected):
    assert facts_from_json({"title": "t", "price": raw}, PAGE).price == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://schema.org/InStock", "in_stock"),
        ("InStock", "in_stock"),
        ("in stock", "in_stock"),
        ("LimitedAvailability", "in_stock"),
        (True, "in_stock"),
        ("http://schema.org/OutOfStock", "out_of_stock"),
        ("SoldOut", "out_of_stock"),
        ("Discontinued", "out_of_stock"),
        (False, "out_of_stock"),
        ("PreOrder", "unknown"),
        ("maybe", "unknown"),
        (None, "unknown"),
        (["x"], "unknown"),
    ],
)
def test_stock_normalisation(raw, expected):
    assert facts_from_json({"title": "t", "availability": raw}, PAGE).stock == expected


def test_quantity_implies_stock():
    assert facts_from_json({"title": "t", "quantity": 0}, PAGE).stock == "out_of_stock"
    facts = facts_from_json({"title": "t", "stock_quantity": "7"}, PAGE)
    assert (facts.stock, facts.quantity) == ("in_stock", 7)


def test_context_line_variants():
    assert ProductFacts().as_context() == "Product: price unknown, stock unknown"
    assert (
        ProductFacts(title="T", price="5.00", stock="out_of_stock", product_id="9").as_context()
        == "Product 9 'T': 5.00, out of stock"
    )


@pytest.mark.parametrize(
    "hostile",
    [
        "</" * 500_000,  # minutes in a plain HTMLParser.feed()+close() on CPython 3.11
        "<" * 1_000_000,
        "<a " * 300_000,
        "<b>" * 300_000,
        "\n<" * 500_000,
        "<!--" + "a" * 1_000_000,
        '<a b="' + "x" * 1_000_000,
        '<meta property="og:title" content="x">' * 50_000,
        '<script type="application/ld+json">' + '{"a":' * 100_000,
    ],
)
def test_hostile_html_is_parsed_within_a_time_budget(hostile):
    started = time.monotonic()
    facts_from_html(hostile, PAGE)
    assert time.monotonic() - started < 2.5


def test_content_after_a_hostile_prefix_within_budget_is_still_found():
    # ("</</...>" is one bogus comment up to the first ">", as in a browser.)
    facts = facts_from_html(
        "</" * 50_000 + "><" * 50_000 + '<meta property="og:title" content="Found">', PAGE
    )
    assert facts is not None
    assert facts.title == "Found"
