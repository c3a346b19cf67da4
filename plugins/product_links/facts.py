"""Product links and product facts: pure functions, no I/O (Django only translates the reasons
a tenant's pattern is refused, which its admin reads).

* :func:`find_product_links` finds product links in a chat message with regular expressions
  (the default one, or tenant-provided ones checked by :func:`compile_patterns`). Matching runs
  on the ``regex`` module with a time budget and on a capped prefix of the text, so even a
  pattern that slipped through the static checks cannot stall a worker.
* :func:`facts_from_html` and :func:`facts_from_json` turn a fetched product page or API answer
  into :class:`ProductFacts` (title, price, currency, image, stock, url), which render as a card
  (:meth:`ProductFacts.as_card`) and as one line of context for the bot
  (:meth:`ProductFacts.as_context`).

Everything taken from a page is untrusted: strings are whitespace-normalised and length-capped,
links are kept only when they are http(s) (resolved against the page URL), and the page's own
idea of its URL (og:url, canonical) is only believed when it stays on the page's host.
"""

from __future__ import annotations

import html as html_lib
import json
import logging
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from html.parser import HTMLParser

# The stdlib's own pattern parser (re._parser/re._constants since 3.11, where the old
# sre_parse/sre_constants names are deprecated aliases): the static checks look at the same
# tree that re compiles.
from re import _constants as sre_constants
from re import _parser as sre_parse
from typing import Any
from urllib.parse import urljoin, urlsplit

import regex
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_PATTERN",
    "ProductFacts",
    "ProductLink",
    "compile_patterns",
    "facts_from_html",
    "facts_from_json",
    "find_product_links",
]

DEFAULT_PATTERN = r"https?://shop\.example\.com/(?:p/|products/)?(\d+)"

MAX_LINKS = 5  # per message
MAX_TEXT_CHARS = 10_000  # of a message scanned for links
MAX_PATTERNS = 20
MAX_PATTERN_LENGTH = 300
MATCH_BUDGET_SECONDS = 0.25  # for all patterns on one message together
MAX_ID_LENGTH = 100

MAX_HTML_CHARS = 2_000_000
PARSE_CHUNK = 16_384
PARSE_BUDGET_SECONDS = 1.0
MAX_JSONLD_CHARS = 500_000  # per <script type="application/ld+json">
MAX_JSONLD_SCRIPTS = 20
MAX_META_TAGS = 1_000
MAX_RAW_ATTRIBUTE = 4_096  # an attribute value is cut to this before anything else
MAX_TITLE = 200
MAX_URL = 2_048
MAX_NESTING = 12

IN_STOCK, OUT_OF_STOCK, UNKNOWN = "in_stock", "out_of_stock", "unknown"


# ============================================================================================
# Links
# ============================================================================================


@dataclass(frozen=True)
class ProductLink:
    url: str  # the matched text (an http(s) URL for URL patterns)
    product_id: str


def compile_patterns(raw: Iterable[str]) -> list[re.Pattern]:
    """Validate tenant-provided patterns; raise ``ValueError`` with a clear message if one is bad.

    A pattern must be a string of at most 300 characters that compiles with Python's ``re``,
    has exactly one capturing group or a named group ``id`` (the product id), uses no
    back-references, and has no shape known for catastrophic backtracking: a repeated group
    that itself contains a repeat of variable length (``(a+)+``, ``(a*)*``, ``(.*)*``,
    ``(\\w+\\s?)+``) or alternatives that can start with the same character (``(a|a)*``,
    ``(a|ab)+``). An empty list gives ``[]`` (the caller decides whether that means "default").
    """
    if isinstance(raw, str):
        raise ValueError(gettext("The patterns must be a list of strings, not one string."))
    patterns = list(raw)
    if len(patterns) > MAX_PATTERNS:
        raise ValueError(
            gettext("at most %(max)d patterns are allowed, got %(count)d")
            % {"max": MAX_PATTERNS, "count": len(patterns)}
        )
    compiled = []
    for number, pattern in enumerate(patterns, 1):
        if not isinstance(pattern, str) or not pattern.strip():
            raise _refused(number, gettext("must be a non-empty string"))
        if len(pattern) > MAX_PATTERN_LENGTH:
            raise _refused(
                number,
                gettext("longer than %(max)d characters") % {"max": MAX_PATTERN_LENGTH},
            )
        try:
            compiled_pattern = re.compile(pattern)
        except re.error as exc:
            raise _refused(
                number,
                gettext("not a valid regular expression (%(error)s)") % {"error": exc},
            ) from exc
        problem = _backtracking_problem(pattern)
        if problem:
            raise _refused(number, problem)
        if "id" not in compiled_pattern.groupindex and compiled_pattern.groups != 1:
            raise _refused(
                number,
                gettext(
                    "needs exactly one capturing group (the product id), or a group named 'id' "
                    "such as (?P<id>\\d+); it has %(count)d"
                )
                % {"count": compiled_pattern.groups},
            )
        try:
            _to_regex(compiled_pattern.pattern, compiled_pattern.flags)
        except regex.error as exc:  # pragma: no cover - regex accepts what re accepts
            raise _refused(number, gettext("not supported (%(error)s)") % {"error": exc}) from exc
        compiled.append(compiled_pattern)
    return compiled


def _refused(number: int, problem: str | Promise) -> ValueError:
    """The error refusing the ``number``-th pattern (from 1) for ``problem``."""
    return ValueError(
        gettext("pattern %(number)d: %(problem)s") % {"number": number, "problem": problem}
    )


def find_product_links(
    text: str, patterns: Iterable[re.Pattern] | None = None
) -> list[ProductLink]:
    """Product links in ``text`` in order of appearance, de-duplicated, at most 5.

    ``patterns`` default to :data:`DEFAULT_PATTERN`. The product id is the group named ``id``
    or else the first group. Only the first 10,000 characters are scanned, with a time budget
    for all patterns together; a pattern that runs out of time keeps what it found so far.
    """
    if not isinstance(text, str) or not text:
        return []
    text = text[:MAX_TEXT_CHARS]
    patterns = list(patterns) if patterns is not None else [_default_pattern()]
    deadline = time.monotonic() + MATCH_BUDGET_SECONDS
    found: list[tuple[int, int, ProductLink]] = []  # (position, pattern index, link)
    for index, pattern in enumerate(patterns):
        for start, link in _matches(pattern, text, deadline):
            found.append((start, index, link))
    found.sort(key=lambda item: (item[0], item[1]))
    links: list[ProductLink] = []
    seen_urls: set[str] = set()
    seen_ids: set[tuple[int, str]] = set()
    for _start, index, link in found:
        if link.url in seen_urls or (index, link.product_id) in seen_ids:
            continue
        seen_urls.add(link.url)
        seen_ids.add((index, link.product_id))
        links.append(link)
        if len(links) == MAX_LINKS:
            break
    return links


def _matches(pattern: re.Pattern, text: str, deadline: float) -> Iterator[tuple[int, ProductLink]]:
    source = getattr(pattern, "pattern", pattern)
    if isinstance(pattern, regex.Pattern):
        matcher = pattern
    else:
        try:
            matcher = _to_regex(
                str(source), pattern.flags if isinstance(pattern, re.Pattern) else 0
            )
        except regex.error:
            logger.warning("product link pattern %r does not compile with regex; skipped", source)
            return
    group: int | str = "id" if "id" in matcher.groupindex else (1 if matcher.groups else 0)
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        logger.warning("no time left to match product link pattern %r", source)
        return
    try:
        for match in matcher.finditer(text, timeout=remaining):
            product_id = _clean_id(match.group(group))
            url = _clean_matched_url(match.group(0))
            if product_id and url:
                yield match.start(), ProductLink(url=url, product_id=product_id)
            if time.monotonic() > deadline:
                raise TimeoutError
    except TimeoutError:
        logger.warning("product link pattern %r ran out of time; using partial results", source)


@lru_cache(maxsize=256)
def _to_regex(source: str, flags: int) -> regex.Pattern:
    """The ``regex``-module twin of a stdlib pattern (same syntax, but with timeouts)."""
    regex_flags = 0
    for name in ("IGNORECASE", "MULTILINE", "DOTALL", "VERBOSE", "ASCII"):
        if flags & getattr(re, name):
            regex_flags |= getattr(regex, name)
    return regex.compile(source, regex_flags)


@lru_cache(maxsize=1)
def _default_pattern() -> re.Pattern:
    return re.compile(DEFAULT_PATTERN)


def _clean_id(value: str | None) -> str:
    return _clean_text(value, MAX_ID_LENGTH) or ""


def _clean_matched_url(value: str) -> str:
    value = value.strip()
    # Sentence punctuation after a pasted link is not part of it.
    while value and value[-1] in ".,;:!?)]}>'\"":
        value = value[:-1]
    return value[:MAX_URL]


def _backtracking_problem(pattern: str) -> str | Promise | None:
    """A reason the pattern may backtrack catastrophically, or ``None``."""
    try:
        tree = sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError) as exc:  # pragma: no cover - compiled above
        return gettext("cannot be analysed (%(error)s)") % {"error": exc}
    return _check_items(list(tree), None)


_MAXREPEAT = sre_constants.MAXREPEAT
_REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT)
_NESTED = _(
    "nested quantifiers (a variable-length repeat inside a repeated group, like (a+)+, (a*)* "
    "or (\\w+\\s?)+) can take exponential time; make the inner part fixed-length or separate "
    "the repetitions with a character the inner part cannot match, like (?:/[a-z]+)*"
)
_OVERLAPPING = _(
    "alternatives inside a repeated group that can match the same text, like (a|a)* or "
    "(a|ab)+, can take exponential time"
)


def _check_items(items: list, delimiters: set[str] | None) -> str | Promise | None:
    """``delimiters`` is ``None`` outside any repeat; inside a repeated group it holds the
    characters every repetition must contain (its top-level literals)."""
    for op, av in items:
        if op in (sre_constants.GROUPREF, sre_constants.GROUPREF_EXISTS):
            return _("back-references are not allowed")
        if op in _REPEATS:
            low, high, body = av
            body = list(body)
            if delimiters is not None and low != high and not _separated(body, delimiters):
                return _NESTED
            if (high == _MAXREPEAT or high > 100) and _has_overlapping_branches(body):
                return _OVERLAPPING
            inner = _mandatory_literals(body) if high > 1 else delimiters
            problem = _check_items(body, inner)
            if problem:
                return problem
        elif op == sre_constants.SUBPATTERN:
            problem = _check_items(list(av[-1]), delimiters)
            if problem:
                return problem
        elif op == sre_constants.BRANCH:
            for branch in av[1]:
                problem = _check_items(list(branch), delimiters)
                if problem:
                    return problem
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            problem = _check_items(list(av[1]), delimiters)
            if problem:
                return problem
        # POSSESSIVE_REPEAT and ATOMIC_GROUP never backtrack into themselves: nothing to check.
    return None


def _mandatory_literals(items: list) -> set[str]:
    chars = set()
    for op, av in items:
        if op == sre_constants.LITERAL:
            chars.add(chr(av))
        elif op == sre_constants.SUBPATTERN:
            chars |= _mandatory_literals(list(av[-1]))
    return chars


def _separated(body: list, delimiters: set[str]) -> bool:
    """Whether a repeat of ``body`` (one character class) cannot match some delimiter."""
    if len(body) != 1:
        return False
    return any(_can_match(body[0], ch) is False for ch in delimiters)


_CATEGORIES = {
    sre_constants.CATEGORY_DIGIT: str.isdigit,
    sre_constants.CATEGORY_NOT_DIGIT: lambda c: not c.isdigit(),
    sre_constants.CATEGORY_SPACE: str.isspace,
    sre_constants.CATEGORY_NOT_SPACE: lambda c: not c.isspace(),
    sre_constants.CATEGORY_WORD: lambda c: c.isalnum() or c == "_",
    sre_constants.CATEGORY_NOT_WORD: lambda c: not (c.isalnum() or c == "_"),
}


def _can_match(item: tuple, ch: str) -> bool | None:
    """Whether a single-character item can match ``ch`` (``None``: cannot tell)."""
    op, av = item
    code = ord(ch)
    if op == sre_constants.LITERAL:
        return av == code
    if op == sre_constants.NOT_LITERAL:
        return av != code
    if op == sre_constants.ANY:
        return True
    if op == sre_constants.IN:
        negate = False
        result = False
        for kind, value in av:
            if kind == sre_constants.NEGATE:
                negate = True
            elif kind == sre_constants.LITERAL:
                result = result or value == code
            elif kind == sre_constants.RANGE:
                result = result or value[0] <= code <= value[1]
            elif kind == sre_constants.CATEGORY and value in _CATEGORIES:
                result = result or _CATEGORIES[value](ch)
            else:
                return None
        return result != negate
    return None


def _has_overlapping_branches(items: list) -> bool:
    """Whether an alternation directly in ``items`` has alternatives with a common first char."""
    for op, av in items:
        if op == sre_constants.SUBPATTERN:
            if _has_overlapping_branches(list(av[-1])):
                return True
        elif op == sre_constants.BRANCH:
            firsts = [_first_chars(list(branch)) for branch in av[1]]
            for i, first in enumerate(firsts):
                for other in firsts[i + 1 :]:
                    if first is None or other is None or first & other:
                        return True
        elif op == sre_constants.IN:
            continue
    return False


def _first_chars(items: list) -> set[int] | None:
    """Code points the sequence can start with; ``None`` when that is not a small known set."""
    for op, av in items:
        if op == sre_constants.LITERAL:
            return {av}
        if op == sre_constants.IN:
            chars = set()
            for kind, value in av:
                if kind == sre_constants.LITERAL:
                    chars.add(value)
                elif kind == sre_constants.RANGE and value[1] - value[0] < 256:
                    chars.update(range(value[0], value[1] + 1))
                else:
                    return None
            return chars
        if op == sre_constants.SUBPATTERN:
            return _first_chars(list(av[-1]))
        if op in (sre_constants.AT,):
            continue  # anchors take no characters
        return None
    return None  # an empty alternative matches anywhere


# ============================================================================================
# Facts
# ============================================================================================


@dataclass(frozen=True)
class ProductFacts:
    title: str | None = None
    price: str | None = None  # a decimal string, e.g. "89.00"
    currency: str | None = None  # ISO 4217, e.g. "EUR"
    image: str | None = None  # absolute http(s) URL
    stock: str = UNKNOWN  # "in_stock" | "out_of_stock" | "unknown"
    url: str | None = None  # absolute http(s) URL
    quantity: int | None = None  # items left, when the page says
    product_id: str | None = None

    def as_card(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id,
            "title": self.title,
            "price": self.price,
            "currency": self.currency,
            "image": self.image,
            "url": self.url,
            "stock": self.stock,
            "quantity": self.quantity,
        }

    def as_context(self) -> str:
        """One line for the bot, e.g.
        ``Product 1001 'Trail shoe': 89.00 EUR, in stock (12 left), https://...``"""
        head = "Product"
        if self.product_id:
            head += f" {self.product_id}"
        if self.title:
            head += f" '{self.title}'"
        if self.price:
            price = f"{self.price} {self.currency}" if self.currency else self.price
        else:
            price = "price unknown"
        if self.stock == IN_STOCK:
            stock = "in stock" + (f" ({self.quantity} left)" if self.quantity else "")
        elif self.stock == OUT_OF_STOCK:
            stock = "out of stock"
        else:
            stock = "stock unknown"
        parts = [price, stock]
        if self.url:
            parts.append(self.url)
        return f"{head}: " + ", ".join(parts)


def facts_from_json(data: Any, url: str, *, product_id: str | None = None) -> ProductFacts:
    """Facts from a product API answer: flat, wrapped (``{"product": ...}``, ``{"data": ...}``)
    or schema.org-shaped. Missing fields stay ``None``; wrong types are ignored."""
    node = _unwrap_product(data)
    fields = _fields_from_mapping(node, url) if node is not None else {}
    return _build(fields, url, product_id=product_id)


def facts_from_html(html: str, url: str, *, product_id: str | None = None) -> ProductFacts | None:
    """Facts from a product page (JSON-LD, OpenGraph/product:*, twitter:*, microdata, <title>).

    ``None`` when the page gives neither a title nor a price.
    """
    if not isinstance(html, str) or not html:
        return None
    parser = _PageParser()
    _parse_bounded(parser, html[:MAX_HTML_CHARS], url)
    meta = parser.meta

    jsonld: dict[str, Any] = {}
    for script in parser.jsonld:
        product = _product_from_jsonld(script)
        if product is not None:
            jsonld = _fields_from_mapping(product, url)
            break

    def first(*keys: str) -> Any:
        for key in keys:
            if meta.get(key):
                return meta[key]
        return None

    price_text = first(
        "product:price:amount", "og:price:amount", "product:sale_price:amount", "itemprop:price"
    )
    twitter_price = _twitter_labelled(meta, "price")
    og = {
        "title": first("og:title", "twitter:title", "itemprop:name"),
        "price": _parse_price(price_text if price_text is not None else twitter_price),
        "currency": _parse_currency(
            first("product:price:currency", "og:price:currency", "itemprop:pricecurrency")
        )
        or _currency_from_text(price_text if price_text is not None else twitter_price),
        "image": first(
            "og:image:secure_url", "og:image", "og:image:url", "twitter:image",
            "twitter:image:src", "itemprop:image",
        ),
        "stock": _parse_stock(
            first("product:availability", "og:availability", "itemprop:availability")
            or _twitter_labelled(meta, "availability")
            or _twitter_labelled(meta, "stock")
        ),
        "url": first("og:url", "itemprop:url") or parser.canonical,
    }  # fmt: skip
    fields: dict[str, Any] = {}
    for key in ("title", "price", "currency", "image", "stock", "url", "quantity"):
        value = jsonld.get(key)
        if value in (None, "", UNKNOWN) and og.get(key) not in (None, ""):
            value = og[key]
        fields[key] = value
    if not fields.get("title"):
        fields["title"] = parser.title
    if fields.get("price") and not fields.get("currency"):
        fields["currency"] = og.get("currency")
    facts = _build(fields, url, product_id=product_id)
    if not facts.title and not facts.price:
        return None
    return facts


def _parse_bounded(parser: _PageParser, html: str, url: str) -> None:
    """Feed ``html`` in chunks within a time budget; keep whatever was collected.

    html.parser is linear on ordinary pages but has super-linear corners on hostile ones
    (``"</" * 500_000`` takes minutes on CPython 3.11 when the parser is closed: each
    unterminated construct is re-scanned to the end of the buffer). Feeding in chunks keeps every
    call cheap (an unterminated construct just waits for more data), the deadline stops a page
    that is slow anyway, and the final ``close()``, which is where the re-scanning happens, only
    runs when little unparsed text is left.
    """
    deadline = time.monotonic() + PARSE_BUDGET_SECONDS
    try:
        for start in range(0, len(html), PARSE_CHUNK):
            parser.feed(html[start : start + PARSE_CHUNK])
            if time.monotonic() > deadline:
                logger.warning("stopped parsing %s: over the time budget", url)
                break
        if len(getattr(parser, "rawdata", "")) <= PARSE_CHUNK:
            parser.close()
        else:
            parser.finish()
    except Exception:  # html.parser on hostile input: keep what was collected
        logger.debug("HTML parser gave up on %s", url, exc_info=True)
        parser.finish()


# -- building ---------------------------------------------------------------------------------


def _build(fields: Mapping[str, Any], page_url: str, *, product_id: str | None) -> ProductFacts:
    page = _http_url(page_url, None)
    stock = fields.get("stock") if fields.get("stock") in (IN_STOCK, OUT_OF_STOCK) else UNKNOWN
    quantity = fields.get("quantity")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
        quantity = None
    if quantity is not None and stock == UNKNOWN:
        stock = IN_STOCK if quantity > 0 else OUT_OF_STOCK
    if stock == OUT_OF_STOCK:
        quantity = 0 if quantity is not None else None
    price = fields.get("price")
    currency = fields.get("currency")
    return ProductFacts(
        title=_clean_text(fields.get("title"), MAX_TITLE),
        price=price if isinstance(price, str) else None,
        currency=currency if isinstance(currency, str) and price else None,
        image=_http_url(fields.get("image"), page),
        stock=stock,
        url=_same_host_url(fields.get("url"), page) or page,
        quantity=quantity,
        product_id=_clean_text(product_id, MAX_ID_LENGTH) if product_id else None,
    )


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")


def _clean_text(value: Any, limit: int) -> str | None:
    """A single-line, whitespace-normalised, length-capped string (or ``None``)."""
    value = _scalar(value)
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = value[: limit * 4 + 64]
    if "&" in value:
        value = html_lib.unescape(value)  # JSON-LD and APIs often carry HTML entities
    value = " ".join(_CONTROL.sub(" ", value).split())
    if len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    return value or None


def _scalar(value: Any, depth: int = 0) -> Any:
    """The first plain value of a schema.org-ish value (lists, {"@value": ...}, {"name": ...})."""
    if depth > MAX_NESTING:
        return None
    if isinstance(value, list | tuple):
        for item in value[:20]:
            found = _scalar(item, depth + 1)
            if found not in (None, ""):
                return found
        return None
    if isinstance(value, dict):
        for key in ("@value", "value", "name", "text", "@id"):
            if key in value:
                return _scalar(value[key], depth + 1)
        return None
    return value


def _http_url(value: Any, base: str | None) -> str | None:
    """An absolute http(s) URL, resolved against ``base``; anything else is dropped."""
    value = _link_value(value)
    if not isinstance(value, str):
        return None
    value = "".join(value.split())[: MAX_URL * 2]  # no whitespace inside URLs
    if not value:
        return None
    try:
        absolute = urljoin(base, value) if base else value
        parts = urlsplit(absolute)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if len(absolute) > MAX_URL:
        return None
    return absolute


def _link_value(value: Any, depth: int = 0) -> Any:
    if depth > MAX_NESTING:
        return None
    if isinstance(value, list | tuple):
        for item in value[:20]:
            found = _link_value(item, depth + 1)
            if isinstance(found, str) and found.strip():
                return found
        return None
    if isinstance(value, dict):
        for key in ("url", "contentUrl", "src", "href", "@id", "original", "large", "medium"):
            if key in value:
                found = _link_value(value[key], depth + 1)
                if isinstance(found, str) and found.strip():
                    return found
        return None
    return value


def _same_host_url(value: Any, page: str | None) -> str | None:
    """The page's own claim about its URL, believed only on the page's host."""
    candidate = _http_url(value, page)
    if candidate is None:
        return None
    if page is None:
        return candidate
    if (urlsplit(candidate).hostname or "") != (urlsplit(page).hostname or ""):
        return None
    return candidate


# -- prices, currencies, stock -----------------------------------------------------------------

_NUMBER = re.compile(r"\d[\d.,'\u00a0\u202f ]{0,30}")
_CURRENCY_SYMBOLS = {
    "€": "EUR",
    "£": "GBP",
    "₹": "INR",
    "₩": "KRW",
    "₽": "RUB",
    "₺": "TRY",
    "₪": "ILS",
    "US$": "USD",
    "元": "CNY",
    "人民币": "CNY",
    "RMB": "CNY",
}


def _parse_price(value: Any) -> str | None:
    """A decimal string ("89.00") from 89, "89.9", "1,299.00", "1.299,00 €", "¥ 1299"..."""
    value = _scalar(value)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        text = repr(float(value)) if isinstance(value, float) else str(value)
    elif isinstance(value, str):
        match = _NUMBER.search(value[:200])
        if not match:
            return None
        text = _normalise_number(match.group(0))
        if text is None:
            return None
    else:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or number < 0 or number >= Decimal("1e12"):
        return None
    if number == number.quantize(Decimal("0.01")):
        return f"{number:.2f}"
    return f"{number.normalize():f}"[:20]


def _normalise_number(text: str) -> str | None:
    digits = re.sub(r"[\s\u00a0\u202f']", "", text).rstrip(".,")
    if "," in digits and "." in digits:
        decimal_mark = "," if digits.rfind(",") > digits.rfind(".") else "."
    elif "," in digits:
        head, _, tail = digits.rpartition(",")
        decimal_mark = "," if len(tail) != 3 or digits.count(",") == 1 and head == "0" else ""
    elif digits.count(".") == 1:
        decimal_mark = "."
    elif "." in digits:  # 1.299.000: dots as thousand separators
        decimal_mark = ""
    else:
        decimal_mark = "."
    thousands = {",": ".", ".": ",", "": ",."}[decimal_mark]
    for separator in thousands:
        digits = digits.replace(separator, "")
    if decimal_mark == ",":
        digits = digits.replace(",", ".")
    return digits if re.fullmatch(r"\d+(?:\.\d+)?", digits) else None


def _parse_currency(value: Any) -> str | None:
    value = _scalar(value)
    if not isinstance(value, str):
        return None
    value = value.strip()
    if re.fullmatch(r"[A-Za-z]{3}", value):
        return value.upper()
    return _currency_from_text(value)


def _currency_from_text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value[:200]
    code = re.search(r"(?<![A-Za-z])([A-Z]{3})(?![A-Za-z])", value)
    if code and code.group(1) not in ("RMB",):
        return code.group(1)
    for symbol, iso in _CURRENCY_SYMBOLS.items():
        if symbol in value:
            return iso
    return None


_IN_STOCK_WORDS = {
    "instock", "in_stock", "in stock", "available", "yes", "true", "limitedavailability",
    "onlineonly", "instoreonly", "in-stock", "有货", "现货",
}  # fmt: skip
_OUT_OF_STOCK_WORDS = {
    "outofstock", "out_of_stock", "out of stock", "soldout", "sold out", "sold_out",
    "discontinued", "unavailable", "no", "false", "out-of-stock", "oos", "缺货", "无货", "售罄",
}  # fmt: skip


def _parse_stock(value: Any) -> str:
    value = _scalar(value)
    if isinstance(value, bool):
        return IN_STOCK if value else OUT_OF_STOCK
    if not isinstance(value, str):
        return UNKNOWN
    word = value.strip().lower()[:100]
    word = word.rsplit("/", 1)[-1]  # https://schema.org/InStock
    if word in _IN_STOCK_WORDS:
        return IN_STOCK
    if word in _OUT_OF_STOCK_WORDS:
        return OUT_OF_STOCK
    return UNKNOWN


def _parse_quantity(value: Any) -> int | None:
    value = _scalar(value)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,9}\s*", value):
        value = int(value)
    if isinstance(value, int) and 0 <= value < 10**9:
        return value
    return None


def _twitter_labelled(meta: Mapping[str, str], label: str) -> str | None:
    """twitter:label1="Price" + twitter:data1="$89" style pairs."""
    for n in range(1, 5):
        if (meta.get(f"twitter:label{n}") or "").strip().lower() == label:
            return meta.get(f"twitter:data{n}")
    return None


# -- mappings (APIs and schema.org nodes) ------------------------------------------------------

_WRAPPERS = ("product", "data", "item", "result", "payload", "response", "body", "attributes")


def _unwrap_product(data: Any, depth: int = 0) -> Mapping[str, Any] | None:
    """Find the product-looking mapping in a wrapped API answer."""
    if depth > 5:
        return None
    if isinstance(data, list):
        dicts = [item for item in data[:5] if isinstance(item, dict)]
        return _unwrap_product(dicts[0], depth + 1) if dicts else None
    if not isinstance(data, dict):
        return None
    if "@graph" in data or "@type" in data:
        product = _product_from_jsonld(data)
        if product is not None:
            return product
    if _looks_like_product(data):
        return data
    for key in _WRAPPERS:
        inner = data.get(key)
        if isinstance(inner, dict | list):
            found = _unwrap_product(inner, depth + 1)
            if found is not None:
                return found
    for key in ("products", "items", "results"):
        inner = data.get(key)
        if isinstance(inner, list) and inner:
            return _unwrap_product(inner, depth + 1)
    return data


def _looks_like_product(data: Mapping[str, Any]) -> bool:
    return any(key in data for key in ("title", "name", "price", "offers", "sku"))


def _fields_from_mapping(node: Mapping[str, Any], page_url: str) -> dict[str, Any]:
    """Raw fields from an API object or a schema.org Product/Offer node."""

    def get(*keys: str) -> Any:
        for key in keys:
            if key in node and node[key] not in (None, "", [], {}):
                return node[key]
        return None

    fields: dict[str, Any] = {
        "title": get("name", "title", "product_name", "productName", "headline"),
        "image": get("image", "image_url", "imageUrl", "images", "thumbnail", "picture", "photo"),
        "url": get("url", "link", "permalink", "href", "canonical_url"),
    }
    price_value = get("price", "sale_price", "salePrice", "current_price", "lowPrice", "prices")
    currency_value = get("priceCurrency", "currency", "currency_code", "currencyCode")
    stock_value = get("availability", "stock_status", "stockStatus", "in_stock", "inStock",
                      "available", "is_in_stock", "stock")  # fmt: skip
    quantity_value = get("inventory_quantity", "quantity", "stock_quantity", "stockQuantity",
                         "inventoryLevel", "qty")  # fmt: skip

    if isinstance(price_value, dict):  # {"amount": "89.00", "currency": "EUR"}
        currency_value = currency_value or _first_key(
            price_value, "currency", "currency_code", "currencyCode", "priceCurrency"
        )
        price_value = _first_key(
            price_value, "amount", "value", "@value", "price", "current", "sale", "regular", "raw"
        )
    offer = _first_offer(get("offers", "offer"))
    if offer is not None:
        offer_fields = _fields_from_offer(offer)
        if price_value is None:
            price_value = offer_fields["price"]
        currency_value = currency_value or offer_fields["currency"]
        stock_value = stock_value if stock_value is not None else offer_fields["stock"]
        quantity_value = quantity_value if quantity_value is not None else offer_fields["quantity"]
        fields["url"] = fields["url"] or offer_fields["url"]
    variants = get("variants", "hasVariant")
    if price_value is None and isinstance(variants, list):
        for variant in variants[:20]:
            if isinstance(variant, dict):
                variant_fields = _fields_from_mapping(variant, page_url)
                if variant_fields["price"]:
                    price_value = variant_fields["price"]
                    currency_value = currency_value or variant_fields["currency"]
                    stock_value = (
                        stock_value
                        if stock_value is not None
                        else (
                            variant_fields["stock"] if variant_fields["stock"] != UNKNOWN else None
                        )
                    )
                    quantity_value = (
                        quantity_value
                        if quantity_value is not None
                        else (variant_fields["quantity"])
                    )
                    break

    if isinstance(stock_value, int | float) and not isinstance(stock_value, bool):
        quantity_value = quantity_value if quantity_value is not None else stock_value
        stock_value = None
    fields["price"] = _parse_price(price_value)
    fields["currency"] = _parse_currency(currency_value) or (
        _currency_from_text(price_value) if isinstance(price_value, str) else None
    )
    fields["stock"] = _parse_stock(stock_value)
    fields["quantity"] = _parse_quantity(quantity_value)
    return fields


def _first_key(mapping: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if mapping.get(key) not in (None, ""):
            return mapping[key]
    return None


def _first_offer(value: Any, depth: int = 0) -> Mapping[str, Any] | None:
    if depth > 3:
        return None
    if isinstance(value, list):
        for item in value[:20]:
            found = _first_offer(item, depth + 1)
            if found is not None:
                return found
        return None
    if not isinstance(value, dict):
        return None
    # AggregateOffer: lowPrice, or its own list of offers.
    if value.get("price") in (None, "") and value.get("lowPrice") in (None, ""):
        inner = _first_offer(value.get("offers"), depth + 1)
        if inner is not None:
            return inner
    return value


def _fields_from_offer(offer: Mapping[str, Any]) -> dict[str, Any]:
    price = _first_key(offer, "price", "lowPrice", "highPrice")
    currency = offer.get("priceCurrency")
    spec = offer.get("priceSpecification")
    if isinstance(spec, list):
        spec = next((s for s in spec if isinstance(s, dict)), None)
    if isinstance(spec, dict):
        price = price if price is not None else spec.get("price")
        currency = currency or spec.get("priceCurrency")
    return {
        "price": price,
        "currency": currency,
        "stock": offer.get("availability"),
        "quantity": offer.get("inventoryLevel"),
        "url": offer.get("url"),
    }


def _types(node: Mapping[str, Any]) -> set[str]:
    value = node.get("@type")
    values = value if isinstance(value, list) else [value]
    return {str(v).rsplit("/", 1)[-1].rsplit(":", 1)[-1].lower() for v in values if v}


def _product_from_jsonld(data: Any) -> Mapping[str, Any] | None:
    """The first Product (or ProductGroup, or bare Offer) node in a JSON-LD document."""
    fallback: Mapping[str, Any] | None = None
    for node in _jsonld_nodes(data):
        types = _types(node)
        if types & {"product", "productgroup", "productmodel", "individualproduct", "vehicle"}:
            return node
        if fallback is None and types & {"offer", "aggregateoffer"}:
            fallback = node
    if fallback is not None:
        return {"offers": fallback, "name": fallback.get("name"), "url": fallback.get("url")}
    return None


def _jsonld_nodes(data: Any, depth: int = 0) -> Iterator[Mapping[str, Any]]:
    """Every mapping in a JSON-LD document, breadth-first-ish, bounded."""
    if depth > MAX_NESTING:
        return
    if isinstance(data, list):
        for item in data[:100]:
            yield from _jsonld_nodes(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        for key in ("@graph", "mainEntity", "itemListElement", "item", "about"):
            if key in data:
                yield from _jsonld_nodes(data[key], depth + 1)


def _load_jsonld(text: str) -> Any:
    text = text.strip()
    for junk in ("<!--", "-->", "//<![CDATA[", "//]]>", "/*<![CDATA[*/", "/*]]>*/"):
        text = text.replace(junk, "")
    try:
        return json.loads(text, strict=False)
    except (ValueError, RecursionError):
        # Trailing commas are the most common hand-written JSON-LD mistake.
        try:
            return json.loads(re.sub(r",\s*([}\]])", r"\1", text), strict=False)
        except (ValueError, RecursionError):
            return None


# -- the HTML parser ---------------------------------------------------------------------------


class _PageParser(HTMLParser):
    """Collects <meta>, <title>, canonical link, microdata attributes and JSON-LD scripts."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title: str | None = None
        self.canonical: str | None = None
        self.jsonld: list[Any] = []
        self._meta_count = 0
        self._in_title = False
        self._title_parts: list[str] = []
        self._title_length = 0
        self._in_jsonld = False
        self._jsonld_parts: list[str] = []
        self._jsonld_length = 0
        self._jsonld_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes: dict[str, str] = {}
        for name, value in attrs[:50]:
            if name not in attributes:
                attributes[name] = (value or "")[:MAX_RAW_ATTRIBUTE]
        if tag == "meta":
            self._meta_count += 1
            if self._meta_count > MAX_META_TAGS:
                return
            key = attributes.get("property") or attributes.get("name") or ""
            content = attributes.get("content")
            if key and content is not None:
                self.meta.setdefault(key.strip().lower()[:100], content)
        elif tag == "title" and self.title is None:
            self._in_title = True
        elif tag == "link" and "canonical" in attributes.get("rel", "").lower().split():
            self.canonical = self.canonical or attributes.get("href")
        elif tag == "script":
            kind = attributes.get("type", "").split(";")[0].strip().lower()
            if kind == "application/ld+json" and self._jsonld_scripts < MAX_JSONLD_SCRIPTS:
                self._in_jsonld = True
                self._jsonld_parts = []
                self._jsonld_length = 0
        itemprop = attributes.get("itemprop")
        if itemprop and self._meta_count <= MAX_META_TAGS:
            value = attributes.get("content") or attributes.get("href") or attributes.get("src")
            if value:
                for prop in itemprop.lower().split()[:5]:
                    self.meta.setdefault(f"itemprop:{prop[:50]}", value)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "script":
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._in_title:
            self._in_title = False
            self.title = _clean_text("".join(self._title_parts), MAX_TITLE)
        elif tag == "script" and self._in_jsonld:
            self._in_jsonld = False
            self._jsonld_scripts += 1
            if self._jsonld_length <= MAX_JSONLD_CHARS:
                data = _load_jsonld("".join(self._jsonld_parts))
                if data is not None:
                    self.jsonld.append(data)
            self._jsonld_parts = []

    def handle_data(self, data: str) -> None:
        if self._in_title and self._title_length < MAX_TITLE * 4:
            self._title_parts.append(data[: MAX_TITLE * 4])
            self._title_length += len(data)
        elif self._in_jsonld:
            self._jsonld_length += len(data)
            if self._jsonld_length <= MAX_JSONLD_CHARS:
                self._jsonld_parts.append(data)

    def close(self) -> None:
        super().close()
        self.finish()

    def finish(self) -> None:
        """Wrap up without parsing the rest (a <title> that was never closed still counts)."""
        if self._in_title:
            self.handle_endtag("title")
