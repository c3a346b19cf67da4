// What a product card says (the commerce plugin's ``metadata.cards``: title, url, image, price,
// currency, stock), for the widget's cards (widget/cards.js) and the console's (console/products.js,
// the side panel): its title, its price in the UI's language, its stock badge. Each side builds
// its own elements from these; shared/links.js says which of its links may be followed.
import { formatCurrency, formatNumber } from "./format.js";
import { gettext, interpolate, ngettext } from "./i18n.js";

// Below this many left, the badge says how few.
const LOW_STOCK = 5;

/** A card's title: its own, else its link's host (``url`` from httpUrl), else "Product". */
export function cardTitle(card, url) {
  const title = card && card.title !== null && card.title !== undefined ? String(card.title).trim() : "";
  if (title) return title;
  return url ? url.hostname : gettext("Product");
}

/** The price in the UI's language ("€12.50", "US$12.50"…); as the card gave it when its
 * currency is no ISO code; "" for none. Prices may come as numbers or as text ("1,299.00"). */
export function formatPrice(price, currency) {
  if (price === null || price === undefined || price === "") return "";
  const n = typeof price === "number" ? price : Number(String(price).trim().replace(/,/g, ""));
  const money = formatCurrency(n, currency);
  if (money) return money;
  const code = typeof currency === "string" ? currency.trim() : "";
  return String(price) + (code ? " " + code : "");
}

/** What a card says about stock: {text, tone} with tone "in", "low", "out" or "" (a text of
 * the shop's own), or null when it says nothing. A count of a few says "Only 3 left"; a
 * bigger one "In stock", or with ``exact`` (the console: agents may know) "12 in stock". */
export function stockInfo(stock, exact) {
  if (stock === null || stock === undefined || stock === "") return null;
  const inStock = { text: gettext("In stock"), tone: "in" };
  const outOfStock = { text: gettext("Out of stock"), tone: "out" };
  if (typeof stock === "boolean") return stock ? inStock : outOfStock;
  if (typeof stock === "number") {
    if (!isFinite(stock) || stock <= 0) return outOfStock;
    const count = Math.floor(stock);
    if (count < LOW_STOCK) {
      return { text: interpolate(ngettext("Only %(count)s left", "Only %(count)s left", count), { count: count }), tone: "low" };
    }
    return exact ? { text: interpolate(gettext("%(count)s in stock"), { count: formatNumber(count) }), tone: "in" } : inStock;
  }
  const text = String(stock).trim();
  const key = text.toLowerCase().replace(/[\s-]+/g, "_");
  if (/^(in_?stock|available|yes|true)$/.test(key)) return inStock;
  if (/^(out_?of_?stock|sold_?out|unavailable|no|false)$/.test(key)) return outOfStock;
  if (/^(low|low_?stock|limited)$/.test(key)) return { text: gettext("Low stock"), tone: "low" };
  if (/^\d+$/.test(key)) return stockInfo(Number(key), exact);
  return text ? { text: text.slice(0, 40), tone: "" } : null;
}
