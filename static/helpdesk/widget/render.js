// Messages on screen: one element per message, kept in seq order inside the current
// conversation's group, and the greeting above them all. Text is put in as text nodes only.
import { formatDate } from "../shared/format.js";
import { gettext } from "../shared/i18n.js";
import { renderAttachments, uploadingLine } from "./attachment-view.js";
import { renderCards } from "./cards.js";
import { citationsKey, citationsOf, renderSources, setCitedText } from "./citations.js";
import { el, ui } from "./dom.js";
import { S } from "./state.js";
import { setLinkifiedText } from "./text.js";

let group = null; // the element holding the current conversation's messages
let greetingEl = null;

/** Start a group for the next conversation's messages, under a divider when asked. */
export function newGroup(withDivider) {
  const g = el("div", "group");
  if (withDivider) {
    const divider = el("div", "divider", { "data-testid": "divider" });
    divider._hdSeq = 0;
    divider.textContent = gettext("New conversation");
    g.appendChild(divider);
  }
  ui.list.appendChild(g);
  group = g;
  return g;
}

export function currentGroup() {
  return group;
}

export function setGreeting(text) {
  S.greeting = typeof text === "string" && text.trim() ? text : null;
  if (!ui.list) return;
  if (!S.greeting) {
    if (greetingEl && greetingEl.parentNode) greetingEl.parentNode.removeChild(greetingEl);
    greetingEl = null;
    return;
  }
  if (!greetingEl) {
    greetingEl = el("div", "msg greeting from-bot", {
      "data-testid": "greeting",
      "data-sender": "bot",
      "data-kind": "greeting",
      "data-state": "complete",
    });
    const bubble = el("div", "bubble");
    bubble.appendChild(el("span", "text"));
    greetingEl.appendChild(bubble);
    ui.list.insertBefore(greetingEl, ui.list.firstChild);
  }
  setLinkifiedText(greetingEl.querySelector(".text"), S.greeting);
}

function isEventItem(item) {
  return item.kind === "event" || item.sender === "system";
}

function senderLabel(item) {
  const name = typeof item.sender_name === "string" ? item.sender_name.trim() : "";
  if (name) return name;
  if (item.sender === "agent") return gettext("Agent");
  if (item.sender === "bot") return gettext("Assistant");
  return "";
}

function buildElement(item) {
  let e;
  if (isEventItem(item)) {
    e = el("div", "event");
    e._hdEvent = true;
  } else {
    e = el("div", "msg");
    e._hdEvent = false;
    const name = el("div", "name");
    const bubble = el("div", "bubble");
    const text = el("span", "text");
    bubble.appendChild(text);
    e.appendChild(name);
    e.appendChild(bubble);
    e._hd = { name, text, bubble, cards: null, meta: null, cardsKey: null, sources: null, sourcesKey: null };
  }
  e.setAttribute("data-testid", "message");
  // The tooltip's time is written again as the pointer comes: the language may have changed
  // since the message was drawn (the catalog arrives after the first messages).
  e.addEventListener("mouseenter", () => showTime(e));
  return e;
}

/** When the message was sent, in the widget's language, as the element's tooltip. */
function showTime(e) {
  const text = formatDate(e._hdTime, "dateTime");
  if (text) e.title = text;
  else e.removeAttribute("title");
}

/** Create or update the element of a message (``item``) and put it in its place. */
export function render(item) {
  const eventLike = isEventItem(item);
  if (!item.el || item.el._hdEvent !== eventLike) {
    const fresh = buildElement(item);
    if (item.el && item.el.parentNode) item.el.parentNode.replaceChild(fresh, item.el);
    item.el = fresh;
    item._renderedText = null;
  }
  const e = item.el;
  const state = item.state || "complete";
  e._hdItem = item; // for the retry button (composer.js)
  e.setAttribute("data-seq", item.seq != null ? String(item.seq) : "");
  e.setAttribute("data-sender", item.sender || "");
  e.setAttribute("data-kind", item.kind || "text");
  e.setAttribute("data-state", state);
  if (item.client_id) e.setAttribute("data-client-id", item.client_id);
  e._hdTime = item.created_at || null;
  showTime(e);
  e._hdSeq = item.seq != null ? item.seq : null;
  e._hdSender = (item.sender || "") + "|" + senderLabel(item);

  if (eventLike) {
    e.className = "event";
    if (item._renderedText !== item.text) {
      e.textContent = item.text || "";
      item._renderedText = item.text;
    }
  } else {
    e.className = "msg from-" + (item.sender || "bot") + " state-" + state + (e.classList.contains("cont") ? " cont" : "");
    const parts = e._hd;
    parts.name.textContent = senderLabel(item);
    parts.name.hidden = item.sender === "contact" || !parts.name.textContent;
    const cited = citationsOf(item);
    // Text and citations together: the final message.updated can bring both at once.
    const shown = (item.text || "") + "\u0000" + citationsKey(cited);
    if (item._renderedText !== shown) {
      if (item.sender === "bot") setCitedText(parts.text, item.text || "", cited);
      else setLinkifiedText(parts.text, item.text || "");
      item._renderedText = shown;
    }
    renderAttachments(item, parts);
    renderSources(item, parts, cited);
    renderCards(item, parts);
    renderMeta(item, parts);
  }
  place(item);
}

/** The line under an own message: "Sending…", or the error with a Retry button. */
function renderMeta(item, parts) {
  let text = "";
  let retry = false;
  if (item.state === "pending") text = uploadingLine(item) || gettext("Sending…");
  else if (item.state === "failed") {
    text = item.error || gettext("Not delivered.");
    retry = true;
  } else if (item.state === "interrupted") text = gettext("Reply interrupted");
  if (!text) {
    if (parts.meta) {
      parts.meta.parentNode.removeChild(parts.meta);
      parts.meta = null;
    }
    return;
  }
  if (!parts.meta) {
    parts.meta = el("div", "meta");
    parts.meta.appendChild(el("span", "meta-text", { "data-testid": "message-error" }));
    item.el.appendChild(parts.meta);
  }
  const label = parts.meta.firstChild;
  label.textContent = text;
  label.setAttribute("data-testid", item.state === "failed" ? "message-error" : "message-meta");
  let button = parts.meta.querySelector(".retry");
  if (retry && !button) {
    button = el("button", "retry", { type: "button", "data-testid": "retry" });
    button.textContent = gettext("Retry");
    parts.meta.appendChild(button);
  } else if (!retry && button) {
    button.parentNode.removeChild(button);
  }
}

/** Put the element in seq order inside its group; local pending echoes stay last. */
function place(item) {
  const e = item.el;
  const g = item.group || group;
  item.group = g;
  if (item.seq == null) {
    if (e.parentNode !== g) g.appendChild(e);
  } else {
    let ref = null;
    for (let n = g.firstChild; n; n = n.nextSibling) {
      if (n === e) continue;
      const seq = n._hdSeq;
      if (seq == null || seq > item.seq) {
        ref = n;
        break;
      }
    }
    if (e.parentNode !== g || e.nextSibling !== ref) g.insertBefore(e, ref);
  }
  updateRun(e);
  if (e.nextSibling) updateRun(e.nextSibling);
}

/** A message that follows one from the same sender hides its name and tightens the gap. */
function updateRun(e) {
  if (!e || e._hdEvent === undefined || e._hdEvent) return;
  const prev = e.previousSibling;
  const cont = !!(prev && prev._hdEvent === false && prev._hdSender === e._hdSender);
  e.classList.toggle("cont", cont);
}
