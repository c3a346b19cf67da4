// The open conversation's transcript: messages in seq order under day separators, the agent's
// messages still on their way after them, kept scrolled to the bottom while the agent is there.
import { ME } from "./boot.js";
import { $, clear, h, linkify } from "./dom.js";
import { senderLabel } from "./labels.js";
import { messageEl, pendingEl } from "./messages.js";
import { pendingFor, state } from "./state.js";
import { dayLabel, parseTime, startOfDay } from "./time.js";
import { gettext } from "../shared/i18n.js";

const transcriptEl = $("[data-testid=transcript]");
const jumpBtn = $("[data-testid=jump-to-latest]");
let transcriptQueued = false;
let transcriptForceBottom = false;

/** A `message.delta` of the open conversation: a bot reply being written. */
export function onMessageDelta(open, frame) {
  var data = frame.data || {};
  var seq = frame.seq;
  if (typeof seq !== "number" || typeof data.delta !== "string") return;
  var m = open.messages.get(seq);
  if (m && m.state !== "streaming") return; // finished already; a late delta changes nothing
  if (!m) {
    m = { id: data.id, seq: seq, sender: data.sender || "bot", sender_name: senderLabel(data.sender) || gettext("Bot"),
      kind: "text", text: "", metadata: {}, state: "streaming", created_at: new Date().toISOString(), _placeholder: true };
    open.messages.set(seq, m);
    m.text += data.delta;
    scheduleTranscript();
    return;
  }
  m.text += data.delta;
  // Grow the one bubble in place: re-rendering the transcript on every delta would be waste.
  var textEl = transcriptEl.querySelector('[data-seq="' + seq + '"] .msg__text');
  if (textEl) {
    var stick = isNearBottom();
    clear(textEl);
    textEl.appendChild(linkify(m.text));
    if (stick) scrollToBottom();
  } else {
    scheduleTranscript();
  }
}

/** Redraw on the next frame (many events in a row redraw once); `forceBottom` scrolls down. */
export function scheduleTranscript(forceBottom) {
  if (forceBottom) transcriptForceBottom = true;
  if (transcriptQueued) return;
  transcriptQueued = true;
  window.requestAnimationFrame(function () {
    transcriptQueued = false;
    renderTranscript();
  });
}

function isNearBottom() {
  return transcriptEl.scrollHeight - transcriptEl.scrollTop - transcriptEl.clientHeight < 80;
}

function scrollToBottom() {
  transcriptEl.scrollTop = transcriptEl.scrollHeight;
  jumpBtn.hidden = true;
}

export function renderTranscript() {
  var open = state.open;
  var stick = transcriptForceBottom || isNearBottom();
  transcriptForceBottom = false;
  var previousHeight = transcriptEl.scrollHeight;
  clear(transcriptEl);
  if (!open) return;
  if (open.error) {
    var gone = open.error.status === 404;
    transcriptEl.appendChild(h("div", { className: "transcript__state", "data-testid": "transcript-error" },
      h("strong", { text: gone ? gettext("Conversation not found") : gettext("Could not load this conversation") }),
      h("span", { text: gone ? gettext("It may have been deleted, or the link is wrong.") : open.error.message || "" })));
    return;
  }
  if (!open.loaded && !open.messages.size) {
    transcriptEl.appendChild(h("div", { className: "transcript__state", "data-testid": "transcript-loading" },
      h("span", { className: "spinner", "aria-hidden": "true" }), h("span", { text: gettext("Loading messages…") })));
    return;
  }
  var list = Array.from(open.messages.values()).sort(function (a, b) { return a.seq - b.seq; });
  if (!list.length && !pendingFor(open.id).length) {
    transcriptEl.appendChild(h("div", { className: "transcript__state", "data-testid": "transcript-empty" },
      h("span", { text: gettext("No messages yet.") })));
  }
  var seenSeq = lastSeenOutgoing(open, list);
  var prev = null;
  var prevDay = null;
  list.forEach(function (m) {
    var t = parseTime(m.created_at) || Date.now();
    var day = startOfDay(t);
    if (day !== prevDay) {
      transcriptEl.appendChild(h("div", { className: "day", role: "separator" }, h("span", { text: dayLabel(t) })));
      prevDay = day;
      prev = null;
    }
    transcriptEl.appendChild(messageEl(m, prev, m.seq === seenSeq));
    prev = m;
  });
  pendingFor(open.id).forEach(function (p) {
    transcriptEl.appendChild(pendingEl(p, prev));
    prev = { sender: "agent", kind: p.kind, sender_name: ME.name, created_at: p.createdAt, _pending: true };
  });
  if (stick) scrollToBottom();
  else if (transcriptEl.scrollHeight > previousHeight) jumpBtn.hidden = false;
}

function lastSeenOutgoing(open, list) {
  if (!open.contactReadSeq) return null;
  var seen = null;
  list.forEach(function (m) {
    if (m.seq <= open.contactReadSeq && m.kind === "text" && (m.sender === "agent" || m.sender === "bot")) seen = m.seq;
  });
  return seen;
}

export function wireTranscript() {
  jumpBtn.addEventListener("click", scrollToBottom);
  transcriptEl.addEventListener("scroll", function () { if (isNearBottom()) jumpBtn.hidden = true; });
}
