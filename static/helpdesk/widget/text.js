// Network text on the page: text nodes only; http(s) URLs become <a> elements.
import { el } from "./dom.js";
import { safeHttpUrl } from "./values.js";

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;

export function appendLinkified(parent, text) {
  text = typeof text === "string" ? text : text == null ? "" : String(text);
  URL_RE.lastIndex = 0;
  let last = 0;
  let match;
  while ((match = URL_RE.exec(text))) {
    let raw = match[0];
    let trail = "";
    // Leave sentence punctuation out of the link, but keep balanced parentheses in it.
    while (/[.,;:!?)\]}'"»]$/.test(raw)) {
      const ch = raw.charAt(raw.length - 1);
      if (ch === ")" && raw.split("(").length > raw.split(")").length - 1) break;
      trail = ch + trail;
      raw = raw.slice(0, -1);
    }
    if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
    const href = safeHttpUrl(raw);
    if (href) {
      const link = el("a", "link", { target: "_blank", rel: "noopener noreferrer nofollow" });
      link.href = href;
      link.textContent = raw;
      parent.appendChild(link);
    } else {
      parent.appendChild(document.createTextNode(raw));
    }
    if (trail) parent.appendChild(document.createTextNode(trail));
    last = match.index + match[0].length;
  }
  if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
}

export function setLinkifiedText(node, text) {
  while (node.firstChild) node.removeChild(node.firstChild);
  appendLinkified(node, text);
}
