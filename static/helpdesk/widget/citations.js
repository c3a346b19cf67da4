// A bot answer's sources: its [n] markers as superscripts, and "Sources:" under the bubble.
import { gettext, interpolate } from "../shared/i18n.js";
import { el } from "./dom.js";
import { appendLinkified } from "./text.js";
import { safeHttpUrl } from "./values.js";

// A bot's citation markers: [1], [1, 2], and the full-width 【1】 and ［1］ Chinese text uses.
const MARKER_RE = /[\[【［]\s*(\d{1,3}(?:\s*[,，、]\s*\d{1,3})*)\s*[\]】］]/g;

/** The sources a bot message cites (``metadata.citations``), checked: {n, title, href}. */
export function citationsOf(item) {
  const list =
    item.sender === "bot" && item.metadata && Array.isArray(item.metadata.citations) ? item.metadata.citations : [];
  const out = [];
  for (let i = 0; i < list.length && out.length < 10; i++) {
    const c = list[i];
    if (!c || typeof c !== "object") continue;
    const n = typeof c.n === "number" ? c.n : Number(c.n);
    if (!(n >= 1 && n <= 999 && Math.floor(n) === n)) continue;
    const title = typeof c.title === "string" ? c.title.trim() : "";
    out.push({ n: n, title: title.slice(0, 200), href: safeHttpUrl(c.url) });
  }
  return out;
}

export function citationsKey(cited) {
  return cited.map((c) => c.n + "|" + c.title + "|" + (c.href || "")).join("\n");
}

/** Like setLinkifiedText, with every citation marker a small superscript (still text nodes);
 * the marker's tooltip names the sources it cites. */
export function setCitedText(node, text, cited) {
  const titles = {};
  for (const c of cited) titles[c.n] = c.title;
  while (node.firstChild) node.removeChild(node.firstChild);
  text = typeof text === "string" ? text : "";
  MARKER_RE.lastIndex = 0;
  let last = 0;
  let match;
  while ((match = MARKER_RE.exec(text))) {
    if (match.index > last) appendLinkified(node, text.slice(last, match.index));
    const numbers = match[1].split(/\s*[,，、]\s*/);
    const sup = el("sup", "cite", { "data-testid": "cite" });
    sup.textContent = "[" + numbers.join(",") + "]";
    const names = numbers.map((n) => titles[Number(n)]).filter(Boolean);
    if (names.length) sup.title = names.join(" · ");
    node.appendChild(sup);
    last = match.index + match[0].length;
  }
  if (last < text.length) appendLinkified(node, text.slice(last));
}

/** "Sources: [1] Title [2] Title" under the bubble; a source with an http(s) page is a link. */
export function renderSources(item, parts, cited) {
  const key = citationsKey(cited);
  if (parts.sourcesKey === key) return;
  parts.sourcesKey = key;
  if (parts.sources) {
    parts.sources.parentNode.removeChild(parts.sources);
    parts.sources = null;
  }
  if (!cited.length) return;
  const box = el("div", "sources", { "data-testid": "sources" });
  const label = el("span", "sources-label");
  label.textContent = gettext("Sources:");
  box.appendChild(label);
  for (const c of cited) {
    const source = c.href
      ? el("a", "source", { target: "_blank", rel: "noopener noreferrer nofollow" })
      : el("span", "source");
    source.setAttribute("data-testid", "source");
    if (c.href) source.href = c.href;
    source.textContent = "[" + c.n + "] " + (c.title || interpolate(gettext("Source %(number)s"), { number: c.n }));
    box.appendChild(source);
  }
  // right under the bubble, before any cards and the meta line
  item.el.insertBefore(box, parts.bubble.nextSibling);
  parts.sources = box;
}
