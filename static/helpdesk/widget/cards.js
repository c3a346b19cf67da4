// Product cards under a message (``metadata.cards``): image, title, price, stock, link. What a
// card says is read by shared/products.js, as the console reads it.
import { currentLocale, gettext } from "../shared/i18n.js";
import { httpUrl } from "../shared/links.js";
import { cardTitle, formatPrice, stockInfo } from "../shared/products.js";
import { el } from "./dom.js";

function buildCard(c) {
  const link = httpUrl(c.url);
  const href = link ? link.href : null;
  const card = href ? el("a", "card", { target: "_blank", rel: "noopener noreferrer nofollow" }) : el("div", "card");
  card.setAttribute("data-testid", "card");
  if (href) card.href = href;
  const imageLink = httpUrl(c.image);
  const image = imageLink ? imageLink.href : null;
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
  title.textContent = cardTitle(c, link);
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
      const stockLabel = el("span", "card-stock" + (stock.tone ? " " + stock.tone : ""), { "data-testid": "card-stock" });
      stockLabel.textContent = stock.text;
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
  // The language is part of the key: prices and stock badges are drawn again in a new one.
  let key;
  try {
    key = currentLocale() + "|" + JSON.stringify(cards);
  } catch (e) {
    key = currentLocale() + "|" + String(cards.length);
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
