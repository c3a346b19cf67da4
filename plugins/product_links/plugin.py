"""Product links: a product card on the customer's message, and the product's facts for the bot.

The seed's ``MessageInterceptor`` registered with a regex such as ``https://shop.com/\\d+``.
Here each tenant sets its own patterns; a link that matches is looked up with the product API
(when a URL template is set) or by reading the product page's meta tags, through the SSRF-safe
client the framework injects (only the tenant's allowed hosts; size, type, redirect and time
limits). Facts are cached per tenant. Nothing a hostile page does can stall the message: each
fetch has its own deadline inside the hook's, and a link that fails simply gets no card.
"""

import asyncio
import dataclasses
from typing import Any
from urllib.parse import quote, urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from helpdesk.core.asyncdb import db_call
from helpdesk.plugins.base import BasePlugin
from helpdesk.plugins.config import ConfigField, FieldType
from helpdesk.plugins.registry import register
from helpdesk.plugins.safe_http import SafeFetchError, SafeHttpClient
from plugins.product_links.facts import (
    DEFAULT_PATTERN,
    MAX_PATTERN_LENGTH,
    MAX_PATTERNS,
    ProductFacts,
    ProductLink,
    compile_patterns,
    facts_from_html,
    facts_from_json,
    find_product_links,
)

# A failed lookup is remembered this long (at most), so a broken page is not fetched again for
# every message that links to it.
FAILURE_TTL = 60
# The text scanned for links; facts.find_product_links caps it too.
MAX_TEXT_CHARS = 10_000


def _valid_patterns(patterns: list[str]) -> None:
    try:
        compile_patterns(patterns)
    except ValueError as exc:
        raise ValidationError(str(exc), code="invalid_pattern") from None


def _valid_template(template: str) -> None:
    if not template:
        return
    if "{id}" not in template:
        raise ValidationError(gettext("The URL template needs {id} where the product id goes."))
    try:
        parts = urlsplit(template.replace("{id}", "1"))
    except ValueError as exc:
        raise ValidationError(gettext("Not a valid URL: %(error)s") % {"error": exc}) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(gettext("The URL template must be an http:// or https:// URL."))
    if template.replace("{id}", "").count("{") or template.replace("{id}", "").count("}"):
        raise ValidationError(gettext("Only {id} may appear in braces."))


def _valid_hosts(hosts: list[str]) -> None:
    try:
        SafeHttpClient(allow_hosts=hosts)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


@register
class ProductLinksPlugin(BasePlugin):
    id = "product_links"
    name = _("Product links")
    description = _(
        "Recognises links to your products in customer messages, attaches a product card "
        "(title, price, stock, image) that the customer and agents see, and gives the bot the "
        "product's facts."
    )
    version = "1.0"
    config_fields = (
        ConfigField(
            "url_patterns",
            FieldType.LIST,
            default=[DEFAULT_PATTERN],
            required=True,
            label=_("Product link patterns"),
            help=_(
                "Regular expressions, one per line, that recognise a product link. Each has "
                "one capturing group (the product id) or a group named id, e.g. "
                r"https?://shop\.example\.com/(\d+)"
            ),
            validators=[_valid_patterns],
            max_items=MAX_PATTERNS,
            max_length=MAX_PATTERN_LENGTH,
        ),
        ConfigField(
            "api_url_template",
            FieldType.STR,
            default="",
            label=_("Product API URL"),
            help=_(
                "Optional product API answering JSON, with {id} for the product id, e.g. "
                "https://api.shop.example.com/products/{id}. Empty: read the product page's "
                "OpenGraph and meta tags."
            ),
            validators=[_valid_template],
            max_length=500,
        ),
        ConfigField(
            "allowed_hosts",
            FieldType.LIST,
            default=["shop.example.com", "api.shop.example.com"],
            required=True,
            label=_("Allowed hosts"),
            help=_(
                "Hosts the plugin may fetch from, one per line (*.example.com for every "
                "sub-domain). Links to other hosts get no card."
            ),
            validators=[_valid_hosts],
            max_items=50,
            max_length=253,
        ),
        ConfigField(
            "cache_ttl",
            FieldType.INT,
            default=600,
            min_value=0,
            max_value=86_400,
            label=_("Cache time (seconds)"),
            help=_(
                "Seconds a product's facts are reused before they are fetched again (0: "
                "always fetch)."
            ),
        ),
        ConfigField(
            "fetch_timeout",
            FieldType.INT,
            default=3,
            min_value=1,
            max_value=10,
            label=_("Lookup timeout (seconds)"),
            help=_("Seconds one product lookup may take; a slower one gets no card."),
        ),
        ConfigField(
            "context_messages",
            FieldType.INT,
            default=5,
            min_value=0,
            max_value=50,
            label=_("Messages the bot reads facts from"),
            help=_(
                "The bot is given the facts of products linked in this many recent customer "
                "messages."
            ),
        ),
    )

    @classmethod
    def clean_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        template = config["api_url_template"]
        if template:
            url = template.replace("{id}", "1")
            # The client's own check: the same host normalisation (IDNA, case, trailing dot).
            if not SafeHttpClient(allow_hosts=config["allowed_hosts"]).allows(url):
                host = urlsplit(url).hostname or ""
                raise ValidationError(
                    {
                        "api_url_template": gettext(
                            "Add %(host)s to the allowed hosts to use this API."
                        )
                        % {"host": host}
                    }
                )
        return config

    @classmethod
    def http_allow_hosts(cls, config) -> list[str]:
        return list(config["allowed_hosts"])

    def setup(self) -> None:
        self.patterns = compile_patterns(self.config["url_patterns"])

    # --- hooks -----------------------------------------------------------------------------

    async def on_customer_message(self, message, metadata: dict) -> dict:
        # Matching has its own time budget; off the event loop all the same.
        links = await asyncio.to_thread(
            find_product_links, (message.text or "")[:MAX_TEXT_CHARS], self.patterns
        )
        if not links:
            return metadata
        found = await asyncio.gather(*(self._facts(link) for link in links))
        cards = list(metadata.get("cards") or [])
        context = list(metadata.get("context") or [])
        shown = {card.get("url") for card in cards if isinstance(card, dict)}
        for facts in found:
            if facts is None or facts.url in shown:
                continue
            shown.add(facts.url)
            cards.append(facts.as_card())
            context.append(facts.as_context())
        if not cards:
            return metadata
        return {**metadata, "cards": cards, "context": context}

    async def before_ai(self, conversation, context: list[str]) -> list[str]:
        """Facts of products the customer linked recently, oldest first, each line once."""
        from helpdesk.conversations.models import Message

        count = self.config["context_messages"]
        if not count:
            return context
        recent = (
            Message.objects.filter(
                tenant=self.tenant,
                conversation=conversation,
                sender_type=Message.SenderType.CONTACT,
                metadata__has_key="context",
            )
            .order_by("-seq")
            .values_list("metadata", flat=True)[:count]
        )
        newest_first = [_context_lines(metadata) for metadata in await db_call(list)(recent)]
        lines = [line for lines in reversed(newest_first) for line in lines]
        added = [line for line in dict.fromkeys(lines) if line not in context]
        return [*context, *added]

    # --- lookups ---------------------------------------------------------------------------

    async def _facts(self, link: ProductLink) -> ProductFacts | None:
        template = self.config["api_url_template"]
        source = template.replace("{id}", quote(link.product_id, safe="")) if template else None
        key = f"facts:{source or link.url}"
        cached = await self.cache.aget(key)
        if cached is not None:
            return ProductFacts(**cached) if cached else None
        try:
            async with asyncio.timeout(self.config["fetch_timeout"]):
                facts = await self._fetch(link, source)
        except (SafeFetchError, TimeoutError, ValueError) as exc:
            # The host only: the rest of a customer's link may carry what they typed.
            self.logger.warning("No card for a link to %s: %s", urlsplit(link.url).hostname, exc)
            facts = None
        ttl = self.config["cache_ttl"]
        if ttl:
            value = dataclasses.asdict(facts) if facts else {}
            await self.cache.aset(key, value, ttl if facts else min(ttl, FAILURE_TTL))
        return facts

    async def _fetch(self, link: ProductLink, api_url: str | None) -> ProductFacts | None:
        if api_url:
            response = await self.http.get(api_url)
            data = response.json()  # ValueError when it is not JSON
            # The link the customer sent is the page: the card links there, not to the API.
            facts = await asyncio.to_thread(
                facts_from_json, data, link.url, product_id=link.product_id
            )
            return facts if facts.title or facts.price else None
        response = await self.http.get(link.url)
        # Parsing up to the client's size limit is CPU work; keep the event loop free.
        return await asyncio.to_thread(
            facts_from_html, response.text(), response.url, product_id=link.product_id
        )


def _context_lines(metadata: Any) -> list[str]:
    lines = metadata.get("context") if isinstance(metadata, dict) else None
    if not isinstance(lines, list):
        return []
    return [line for line in lines if isinstance(line, str)]
