// Building the page safely: elements from text, never HTML.
//
// Every piece of text from the server goes in through textContent; links are built as
// elements and only for http(s) URLs.
import { httpUrl } from "../shared/links.js";

export function $(selector, root) { return (root || document).querySelector(selector); }

/** Build an element. Text goes in through textContent only. */
export function h(tag, props) {
  var el = document.createElement(tag);
  if (props) {
    Object.keys(props).forEach(function (key) {
      var value = props[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") el.textContent = String(value);
      else if (key === "className") el.className = value;
      else if (key.slice(0, 2) === "on") el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? "" : String(value));
    });
  }
  for (var i = 2; i < arguments.length; i++) {
    var child = arguments[i];
    if (child === null || child === undefined || child === false) continue;
    el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return el;
}

/** A one-path SVG icon of ``size`` pixels drawn in the text's colour, hidden from screen readers. */
export function svgIcon(pathData, size) {
  var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("width", String(size)); svg.setAttribute("height", String(size));
  svg.setAttribute("viewBox", "0 0 24 24"); svg.setAttribute("aria-hidden", "true");
  var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", pathData);
  path.setAttribute("fill", "currentColor");
  svg.appendChild(path);
  return svg;
}

export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }

/** An http(s) URL as a URL object, or null for anything else (javascript:, data:, ...). */
const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING_PUNCT_RE = /[.,;:!?'")\]}>]+$/;

/** Text with http(s) links made clickable, everything else as text nodes. */
export function linkify(text) {
  var frag = document.createDocumentFragment();
  var last = 0;
  text = String(text == null ? "" : text);
  URL_RE.lastIndex = 0;
  var match;
  while ((match = URL_RE.exec(text)) !== null) {
    var raw = match[0];
    var trail = raw.match(TRAILING_PUNCT_RE);
    if (trail) raw = raw.slice(0, raw.length - trail[0].length);
    var url = httpUrl(raw);
    if (!url) continue;
    if (match.index > last) frag.appendChild(document.createTextNode(text.slice(last, match.index)));
    frag.appendChild(h("a", {
      href: url.href, target: "_blank", rel: "noopener noreferrer nofollow ugc", text: raw,
    }));
    last = match.index + raw.length;
    URL_RE.lastIndex = last;
  }
  if (last < text.length) frag.appendChild(document.createTextNode(text.slice(last)));
  return frag;
}

const WORD_START_RE = /[\p{L}\p{N}]/u;

function initials(name) {
  // The first letter or digit of the first and last words: "New <i>visitor</i>" is "NV".
  var words = String(name || "").split(/[^\p{L}\p{N}]+/u).filter(function (w) { return WORD_START_RE.test(w); });
  if (!words.length) return "?";
  var first = Array.from(words[0])[0];
  var last = words.length > 1 ? Array.from(words[words.length - 1])[0] : "";
  return (first + last).toUpperCase();
}

function avatarHue(id) { return ((Number(id) || 0) * 47) % 360; }

export function paintAvatar(el, name, id) {
  el.textContent = initials(name);
  el.style.setProperty("--avatar-hue", String(avatarHue(id)));
}
