// Product cards (from the commerce plugin's metadata) under a customer's message. What a card
// says (its links, title, price, stock) is read by shared/products.js, as the widget reads it;
// the side panel (details.js) shows the same cards smaller.
import { h } from "./dom.js";
import { httpUrl } from "../shared/links.js";
import { cardTitle, formatPrice, stockInfo } from "../shared/products.js";

/** The stock badge of a card, or null. */
export function stockEl(card) {
  var stock = stockInfo(card.stock, true);
  return stock ? h("span", { className: "card__stock" + (stock.tone ? " card__stock--" + stock.tone : ""), "data-stock": stock.tone || null, text: stock.text }) : null;
}

export function cardsEl(metadata) {
  var cards = metadata && Array.isArray(metadata.cards) ? metadata.cards : [];
  cards = cards.filter(function (c) { return c && typeof c === "object"; });
  if (!cards.length) return null;
  var wrap = h("div", { className: "cards" });
  cards.slice(0, 10).forEach(function (card) {
    var url = httpUrl(card.url);
    var image = httpUrl(card.image);
    var price = formatPrice(card.price, card.currency);
    var body = h("span", { className: "card__body" },
      h("span", { className: "card__title", text: cardTitle(card, url) }),
      price ? h("span", { className: "card__price", text: price }) : null,
      stockEl(card),
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
