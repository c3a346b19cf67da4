// Product cards (from the commerce plugin's metadata): prices, stock, the cards under a
// customer's message. The side panel shows the same cards smaller.
import { INTL_LOCALES } from "./boot.js";
import { h, safeUrl } from "./dom.js";
import { gettext, interpolate } from "../shared/i18n.js";

export function formatPrice(price, currency) {
  if (price === null || price === undefined || price === "") return null;
  var n = typeof price === "number" ? price : Number(price);
  if (typeof currency === "string" && /^[A-Za-z]{3}$/.test(currency) && isFinite(n)) {
    try {
      return new Intl.NumberFormat(INTL_LOCALES, { style: "currency", currency: currency.toUpperCase() }).format(n);
    } catch (e) { /* unknown currency code: plain text below */ }
  }
  return String(price) + (currency ? " " + String(currency) : "");
}

/** What a card says about stock: {text, out}, or null when it says nothing. */
export function stockInfo(stock) {
  if (stock === null || stock === undefined || stock === "") return null;
  var out = { text: gettext("Out of stock"), out: true };
  if (typeof stock === "boolean") return stock ? { text: gettext("In stock"), out: false } : out;
  if (typeof stock === "number") return stock > 0 ? { text: interpolate(gettext("%(count)s in stock"), { count: stock }), out: false } : out;
  return { text: String(stock), out: false };
}

/** A card's title: its own, else its link's host, else "Product". */
export function cardTitle(card, url) {
  return card.title ? String(card.title) : (url ? url.hostname : gettext("Product"));
}

export function cardsEl(metadata) {
  var cards = metadata && Array.isArray(metadata.cards) ? metadata.cards : [];
  cards = cards.filter(function (c) { return c && typeof c === "object"; });
  if (!cards.length) return null;
  var wrap = h("div", { className: "cards" });
  cards.slice(0, 10).forEach(function (card) {
    var url = safeUrl(card.url);
    var image = safeUrl(card.image);
    var price = formatPrice(card.price, card.currency);
    var stock = stockInfo(card.stock);
    var body = h("span", { className: "card__body" },
      h("span", { className: "card__title", text: cardTitle(card, url) }),
      price ? h("span", { className: "card__price", text: price }) : null,
      stock ? h("span", { className: "card__stock" + (stock.out ? " card__stock--out" : ""), text: stock.text }) : null,
      url ? h("span", { className: "card__host", text: url.hostname }) : null);
    var media = image
      ? h("img", { className: "card__img", src: image.href, alt: "", loading: "lazy", referrerpolicy: "no-referrer" })
      : h("span", { className: "card__img card__img--none", "aria-hidden": "true" });
    var el = url
      ? h("a", { className: "card", "data-testid": "product-card", href: url.href, target: "_blank", rel: "noopener noreferrer nofollow" }, media, body)
      : h("div", { className: "card", "data-testid": "product-card" }, media, body);
    wrap.appendChild(el);
  });
  return wrap;
}
