// Product cards under a message (``metadata.cards``): image, title, price, stock, link.
import { gettext, interpolate, ngettext } from "../shared/i18n.js";
import { el } from "./dom.js";
import { safeHttpUrl } from "./values.js";

function formatPrice(price, currency) {
  if (price === null || price === undefined || price === "") return "";
  const n = typeof price === "number" ? price : Number(String(price).replace(/,/g, ""));
  const code = typeof currency === "string" ? currency.trim().toUpperCase() : "";
  if (isFinite(n) && /^[A-Z]{3}$/.test(code)) {
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: code }).format(n);
    } catch (e) {
      /* unknown currency */
    }
  }
  return String(price) + (code ? " " + code : "");
}

/** [label, tone] for the stock badge, or null for no badge. */
function stockInfo(stock) {
  if (stock === null || stock === undefined || stock === "") return null;
  const inStock = [gettext("In stock"), "in"];
  const outOfStock = [gettext("Out of stock"), "out"];
  if (typeof stock === "boolean") return stock ? inStock : outOfStock;
  if (typeof stock === "number") {
    if (stock <= 0) return outOfStock;
    if (stock < 5) return [interpolate(ngettext("Only %(count)s left", "Only %(count)s left", stock), { count: stock }), "low"];
    return inStock;
  }
  const text = String(stock).trim();
  const key = text.toLowerCase().replace(/[\s-]+/g, "_");
  if (/^(in_?stock|available|yes|true)$/.test(key)) return inStock;
  if (/^(out_?of_?stock|sold_?out|unavailable|no|false)$/.test(key)) return outOfStock;
  if (/^(low|low_?stock|limited)$/.test(key)) return [gettext("Low stock"), "low"];
  if (/^\d+$/.test(key)) return stockInfo(Number(key));
  return [text.slice(0, 40), ""];
}

function buildCard(c) {
  const href = safeHttpUrl(c.url);
  const card = href ? el("a", "card", { target: "_blank", rel: "noopener noreferrer nofollow" }) : el("div", "card");
  card.setAttribute("data-testid", "card");
  if (href) card.href = href;
  const image = safeHttpUrl(c.image);
  if (image) {
    const img = el("img", "card-img", { alt: "", loading: "lazy", decoding: "async", referrerpolicy: "no-referrer" });
    img.addEventListener("error", () => {
      if (img.parentNode) img.parentNode.removeChild(img);
    });
    img.src = image;
    card.appendChild(img);
  }
  const body = el("div", "card-body");
  const title = el("div", "card-title", { "data-testid": "card-title" });
  title.textContent = typeof c.title === "string" ? c.title : c.title == null ? "" : String(c.title);
  body.appendChild(title);
  const price = formatPrice(c.price, c.currency);
  const stock = stockInfo(c.stock);
  if (price || stock) {
    const row = el("div", "card-row");
    if (price) {
      const priceLabel = el("span", "card-price", { "data-testid": "card-price" });
      priceLabel.textContent = price;
      row.appendChild(priceLabel);
    }
    if (stock) {
      const stockLabel = el("span", "card-stock" + (stock[1] ? " " + stock[1] : ""), { "data-testid": "card-stock" });
      stockLabel.textContent = stock[0];
      row.appendChild(stockLabel);
    }
    body.appendChild(row);
  }
  if (href) {
    const cta = el("span", "card-cta");
    cta.textContent = gettext("View product →");
    body.appendChild(cta);
  }
  card.appendChild(body);
  return card;
}

export function renderCards(item, parts) {
  const cards = item.metadata && Array.isArray(item.metadata.cards) ? item.metadata.cards : [];
  let key;
  try {
    key = JSON.stringify(cards);
  } catch (e) {
    key = String(cards.length);
  }
  if (parts.cardsKey === key) return;
  parts.cardsKey = key;
  if (parts.cards) {
    parts.cards.parentNode.removeChild(parts.cards);
    parts.cards = null;
  }
  if (!cards.length) return;
  const box = el("div", "cards", { "data-testid": "cards" });
  for (let i = 0; i < cards.length && i < 10; i++) {
    if (cards[i] && typeof cards[i] === "object") box.appendChild(buildCard(cards[i]));
  }
  // cards go after the bubble, before the meta line
  if (parts.meta) item.el.insertBefore(box, parts.meta);
  else item.el.appendChild(box);
  parts.cards = box;
}
