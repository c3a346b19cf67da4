// Canned responses: "/" + shortcut in the composer opens a menu of the tenant's responses;
// the one picked goes in with its placeholders ({{name}}, {{agent}}) filled in.
import { api } from "./api.js";
import { boot, ME } from "./boot.js";
import { onComposerInput } from "./composer.js";
import { $, clear, h } from "./dom.js";
import { state } from "./state.js";
import { gettext, interpolate } from "../shared/i18n.js";

const CANNED_CACHE_MS = 60000;
const input = $("[data-testid=composer-input]");
const cannedEl = $("[data-testid=canned-menu]");
const cannedList = $("#canned-list");
const cannedStateEl = $("[data-testid=canned-state]");
const canned = {
  all: null, // the tenant's active responses, newest fetch
  hasMore: false, // the fetch was cut: ask the server per query
  fetchedAt: 0,
  loading: null,
  byQuery: new Map(), // query -> responses, when the server is asked per query
  token: null, // {start, end, query} of the "/word" at the caret
  items: [],
  active: 0,
  dismissed: null, // the token start the agent closed the menu at (Esc)
  error: null,
};
const CANNED_TOKEN_RE = /(^|\s)\/([a-z0-9_-]{0,40})$/i;

function cannedToken() {
  if (input.disabled) return null;
  var pos = input.selectionStart;
  if (pos === null || pos !== input.selectionEnd) return null;
  var match = input.value.slice(0, pos).match(CANNED_TOKEN_RE);
  if (!match) return null;
  return { start: pos - match[2].length - 1, end: pos, query: match[2].toLowerCase() };
}

function cannedMatches(list, query) {
  var prefix = [];
  var other = [];
  list.forEach(function (r) {
    var shortcut = String(r.shortcut).toLowerCase();
    if (shortcut.indexOf(query) === 0) prefix.push(r);
    else if (query && String(r.title).toLowerCase().indexOf(query) >= 0) other.push(r);
  });
  return prefix.concat(other).slice(0, 50);
}

function fetchCanned(query) {
  var params = { limit: 100 };
  if (query) params.q = query;
  return api(boot.urls.canned, params);
}

function ensureCanned() {
  var fresh = canned.all && Date.now() - canned.fetchedAt < CANNED_CACHE_MS;
  if (fresh || canned.loading) return;
  canned.loading = fetchCanned("").then(function (body) {
    canned.all = body.responses;
    canned.hasMore = !!body.has_more;
    canned.fetchedAt = Date.now();
    canned.byQuery = new Map();
    canned.error = null;
  }).catch(function (err) {
    canned.error = err.message || gettext("Could not load canned responses.");
  }).then(function () {
    canned.loading = null;
    updateCanned();
  });
}

function cannedFor(query) {
  if (!canned.all) return null;
  if (!canned.hasMore || !query) return cannedMatches(canned.all, query);
  // Too many to hold: the server searches. Until it answers, filter what we have.
  if (canned.byQuery.has(query)) return canned.byQuery.get(query);
  canned.byQuery.set(query, cannedMatches(canned.all, query));
  fetchCanned(query).then(function (body) {
    canned.byQuery.set(query, body.responses);
    updateCanned();
  }).catch(function () { /* the local matches stay */ });
  return canned.byQuery.get(query);
}

/** Show, filter or hide the menu for the text at the caret. */
export function updateCanned() {
  var token = cannedToken();
  if (!token || (canned.dismissed !== null && canned.dismissed === token.start)) {
    if (!token) canned.dismissed = null;
    hideCanned();
    return;
  }
  canned.dismissed = null;
  ensureCanned();
  var changed = !canned.token || canned.token.query !== token.query || canned.token.start !== token.start;
  canned.token = token;
  var items = cannedFor(token.query);
  canned.items = items || [];
  if (changed) canned.active = 0;
  canned.active = Math.min(canned.active, Math.max(0, canned.items.length - 1));
  renderCanned(items === null);
}

function renderCanned(loading) {
  clear(cannedList);
  canned.items.forEach(function (r, i) {
    var active = i === canned.active;
    cannedList.appendChild(h("li", {
      id: "canned-opt-" + i,
      className: "canned__item" + (active ? " canned__item--active" : ""),
      role: "option",
      "aria-selected": active ? "true" : "false",
      "data-testid": "canned-item",
      "data-shortcut": r.shortcut,
      onmousedown: function (e) { e.preventDefault(); }, // keep the caret in the composer
      onclick: function () { insertCanned(i); },
      onmousemove: function () { if (canned.active !== i) { canned.active = i; renderCanned(false); } },
    },
      h("span", { className: "canned__top" },
        h("span", { className: "canned__shortcut", text: "/" + r.shortcut }),
        h("span", { className: "canned__title", text: r.title })),
      h("span", { className: "canned__text", text: fillCanned(r.text).replace(/\s+/g, " ") })));
  });
  var stateText = null;
  if (loading) stateText = canned.error || gettext("Loading canned responses…");
  else if (!canned.items.length) {
    stateText = canned.token && canned.token.query
      ? interpolate(gettext("No canned response starts with /%(query)s."), { query: canned.token.query })
      : gettext("No canned responses yet. Admins add them in the admin under Canned responses.");
  }
  cannedStateEl.hidden = !stateText;
  cannedStateEl.textContent = stateText || "";
  cannedEl.hidden = false;
  input.setAttribute("aria-expanded", "true");
  if (canned.items.length) input.setAttribute("aria-activedescendant", "canned-opt-" + canned.active);
  else input.removeAttribute("aria-activedescendant");
  var activeEl = cannedList.querySelector(".canned__item--active");
  if (activeEl && activeEl.scrollIntoView) activeEl.scrollIntoView({ block: "nearest" });
}

function hideCanned() {
  canned.token = null;
  canned.items = [];
  cannedEl.hidden = true;
  input.setAttribute("aria-expanded", "false");
  input.removeAttribute("aria-activedescendant");
}

export function closeCanned() {
  canned.dismissed = null;
  hideCanned();
}

function cannedOpen() { return !cannedEl.hidden && !!canned.token; }

/** The response's text with its placeholders filled in for this conversation. */
function fillCanned(text) {
  var open = state.open;
  var contact = (open && open.panel && open.panel.contact) || (open && open.detail && open.detail.contact) || null;
  var given = contact && typeof contact.given_name === "string" ? contact.given_name.trim() : "";
  // An anonymous customer is "there" ("Hi there!") rather than "Visitor 7d1c".
  // Translators: what {{name}} becomes in a canned response when the customer's name is unknown.
  var name = given || gettext("there");
  // Replacement functions, not strings: a "$&" in a name must stay literal.
  return String(text)
    .replace(/\{\{\s*name\s*\}\}/gi, function () { return name; })
    .replace(/\{\{\s*agent\s*\}\}/gi, function () { return ME.name; });
}

function insertCanned(index) {
  var r = canned.items[index];
  var token = canned.token;
  if (!r || !token) return;
  var text = fillCanned(r.text);
  var value = input.value;
  input.value = value.slice(0, token.start) + text + value.slice(token.end);
  var caret = token.start + text.length;
  input.setSelectionRange(caret, caret);
  closeCanned();
  input.focus();
  onComposerInput();
}

/** Keys for the menu; true when the key was the menu's. */
export function cannedKeydown(e) {
  if (!cannedOpen() || e.isComposing || e.keyCode === 229) return false;
  var n = canned.items.length;
  switch (e.key) {
    case "ArrowDown":
      if (!n) return false;
      canned.active = (canned.active + 1) % n;
      renderCanned(false);
      break;
    case "ArrowUp":
      if (!n) return false;
      canned.active = (canned.active - 1 + n) % n;
      renderCanned(false);
      break;
    case "Enter":
    case "Tab":
      if (!n || e.shiftKey) return false;
      insertCanned(canned.active);
      break;
    case "Escape":
      canned.dismissed = canned.token.start;
      hideCanned();
      break;
    default:
      return false;
  }
  e.preventDefault();
  return true;
}

export function wireCanned() {
  input.addEventListener("keyup", function (e) {
    // Caret moves (arrows without the menu, Home/End) may enter or leave a "/word".
    if (e.key === "ArrowLeft" || e.key === "ArrowRight" || e.key === "Home" || e.key === "End") updateCanned();
  });
  input.addEventListener("click", updateCanned);
  input.addEventListener("blur", function () { setTimeout(function () { if (document.activeElement !== input) hideCanned(); }, 150); });
}
