// One message of the transcript as elements: bubbles, notes, events, product cards, and the
// agent's own messages still on their way (with Retry and Discard when they failed).
import { filesEl, messageFiles, pendingFiles } from "./attachment-view.js";
import { ME } from "./boot.js";
import * as socket from "./connection.js";
import { h, linkify } from "./dom.js";
import { parts } from "./events.js";
import { senderLabel } from "./labels.js";
import { discard, retry } from "./outbox.js";
import { cardsEl } from "./products.js";
import { clockTime, fullTime, parseTime } from "./time.js";
import { formatPercent } from "../shared/format.js";
import { gettext, interpolate } from "../shared/i18n.js";

function isEvent(m) { return m.kind === "event" || m.sender === "system"; }

function sameGroup(prev, m) {
  if (!prev || isEvent(prev) || isEvent(m)) return false;
  if (prev.sender !== m.sender || prev.kind !== m.kind || prev.sender_name !== m.sender_name) return false;
  var a = parseTime(prev.created_at);
  var b = parseTime(m.created_at);
  return a !== null && b !== null && b - a < 5 * 60000;
}

export function messageEl(m, prev, seen) {
  var attrs = {
    "data-testid": "message",
    "data-seq": m.seq,
    "data-kind": m.kind,
    "data-sender": m.sender,
    "data-state": m.state,
    "data-message-id": m.id,
    "data-client-id": m.client_id || null,
  };
  var t = parseTime(m.created_at);
  if (isEvent(m)) {
    attrs.className = "msg msg--event";
    return h("div", attrs, h("span", { className: "msg__event" },
      h("span", { className: "msg__text", text: m.text }),
      t !== null ? h("time", { className: "msg__time", datetime: m.created_at, title: fullTime(t), text: clockTime(t) }) : null));
  }
  var side = m.sender === "contact" ? "in" : "out";
  var cls = "msg msg--" + side + " msg--" + m.sender + (m.kind === "note" ? " msg--note" : "");
  if (sameGroup(prev, m)) cls += " msg--cont";
  if (m.state === "streaming") cls += " msg--streaming";
  if (m.state === "interrupted") cls += " msg--interrupted";
  attrs.className = cls;
  var label = m.kind === "note" ? gettext("Private note") : null;
  var files = filesEl(messageFiles(m)); // attachment-view.js
  var hasText = !files || String(m.text || "").trim() !== "";
  var bubble = h("div", { className: "msg__bubble" },
    label ? h("div", { className: "msg__label" }, lockIcon(), h("span", { text: label })) : null,
    hasText ? h("div", { className: "msg__text" }, linkify(m.text)) : null,
    label ? files : null, // a note's files stay inside its yellow box
    cardsEl(m.metadata)
  );
  var status = null;
  if (m.state === "interrupted") status = h("span", { className: "msg__flag", text: gettext("Interrupted") });
  else if (m.state === "streaming") status = h("span", { className: "msg__flag", text: gettext("Writing…") });
  else if (seen) status = h("span", { className: "msg__seen", "data-testid": "seen-marker", text: gettext("Seen") });
  var el = h("div", attrs,
    h("div", { className: "msg__meta" },
      h("span", { className: "msg__author", text: m.sender_name || senderLabel(m.sender) || m.sender }),
      t !== null ? h("time", { className: "msg__time", datetime: m.created_at, title: fullTime(t), text: clockTime(t) }) : null),
    hasText || label ? bubble : null,
    label ? null : files
  );
  parts("message", m).forEach(function (part) { el.appendChild(part); });
  if (status) el.appendChild(h("div", { className: "msg__status" }, status));
  return el;
}

function lockIcon() {
  var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("width", "12"); svg.setAttribute("height", "12");
  svg.setAttribute("viewBox", "0 0 16 16"); svg.setAttribute("aria-hidden", "true");
  var rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
  rect.setAttribute("x", "3"); rect.setAttribute("y", "7"); rect.setAttribute("width", "10");
  rect.setAttribute("height", "7"); rect.setAttribute("rx", "1.5"); rect.setAttribute("fill", "currentColor");
  var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", "M5.5 7V5a2.5 2.5 0 0 1 5 0v2"); path.setAttribute("fill", "none");
  path.setAttribute("stroke", "currentColor"); path.setAttribute("stroke-width", "1.5");
  svg.appendChild(rect); svg.appendChild(path);
  return svg;
}

export function pendingEl(p, prev) {
  var failed = p.state === "failed";
  var cls = "msg msg--out msg--agent msg--pending" + (p.kind === "note" ? " msg--note" : "") + (failed ? " msg--failed" : "");
  var m = { sender: "agent", kind: p.kind, sender_name: ME.name, created_at: p.createdAt };
  if (sameGroup(prev, m)) cls += " msg--cont";
  var status = failed
    ? h("div", { className: "msg__status msg__status--failed" },
        h("span", { text: p.error ? interpolate(gettext("Not sent: %(reason)s"), { reason: p.error }) : gettext("Not sent") }),
        h("button", { type: "button", className: "link-btn", "data-testid": "retry-message", onclick: function () { retry(p.clientId); }, text: gettext("Retry") }),
        h("button", { type: "button", className: "link-btn", "data-testid": "discard-message", onclick: function () { discard(p.clientId); }, text: gettext("Discard") }))
    : h("div", { className: "msg__status" }, h("span", { className: "msg__flag", text: uploadingText(p.uploads) || (socket.isOpen() ? gettext("Sending…") : gettext("Waiting for connection…")) }));
  var files = filesEl(pendingFiles(p.uploads));
  var hasText = !files || String(p.text || "").trim() !== "";
  return h("div", {
    className: cls,
    "data-testid": "message",
    "data-client-id": p.clientId,
    "data-kind": p.kind,
    "data-sender": "agent",
    "data-state": failed ? "failed" : "pending",
  },
    h("div", { className: "msg__meta" }, h("span", { className: "msg__author", text: ME.name })),
    hasText || p.kind === "note" ? h("div", { className: "msg__bubble" },
      p.kind === "note" ? h("div", { className: "msg__label" }, lockIcon(), h("span", { text: gettext("Private note") })) : null,
      hasText ? h("div", { className: "msg__text" }, linkify(p.text)) : null,
      p.kind === "note" ? files : null) : null,
    p.kind === "note" ? null : files,
    status);
}

/** "Uploading… 40%" while a pending message's files go up; "" once they are up. */
function uploadingText(uploads) {
  if (!uploads || uploads.every(function (u) { return u.state === "done"; })) return "";
  var total = 0;
  var done = 0;
  uploads.forEach(function (u) {
    total += u.size || 0;
    done += (u.size || 0) * (u.state === "done" ? 1 : u.progress || 0);
  });
  return interpolate(gettext("Uploading… %(percent)s"), { percent: formatPercent(total ? done / total : 0, 0) });
}
