// The knowledge a bot reply used: "Sources: [1] Title › Heading" under the reply, and the
// passage itself on a click.
import { api } from "./api.js";
import { CITATIONS_SHOWN, citationLabel, validCitation } from "./assist-parts.js";
import { boot } from "./boot.js";
import { h } from "./dom.js";
import { scheduleTranscript } from "./transcript.js";
import { gettext } from "../shared/i18n.js";

/** Redraw the transcript (the sources under bot replies changed). */
function rerender() { scheduleTranscript(); }

const chunks = new Map(); // chunk id -> chunk, null when it is gone, "failed", or "loading"
const expanded = new Set(); // "<message id>:<chunk id>"

/** The sources row under a bot message that cites the knowledge base, or null. */
export function sourcesUnder(m) {
  var cited = m.sender === "bot" && m.metadata && Array.isArray(m.metadata.citations)
    ? m.metadata.citations.filter(validCitation).slice(0, CITATIONS_SHOWN) : [];
  if (!cited.length) return null;
  var row = h("div", { className: "msg__sources", "data-testid": "message-sources" },
    h("span", { className: "msg__sources-label", text: gettext("Sources:") }));
  var wrap = h("div", { className: "msg__sources-wrap" }, row);
  cited.forEach(function (c) {
    var key = m.id + ":" + c.chunk_id;
    var isOpen = expanded.has(key);
    row.appendChild(h("button", {
      type: "button",
      className: "source",
      "data-testid": "source",
      "data-chunk-id": c.chunk_id,
      "aria-expanded": isOpen ? "true" : "false",
      onclick: function () { toggleSource(key, cited); },
      text: "[" + c.n + "] " + citationLabel(c),
    }));
    if (isOpen) wrap.appendChild(passage(c));
  });
  return wrap;
}

function toggleSource(key, cited) {
  if (expanded.has(key)) expanded.delete(key);
  else expanded.add(key);
  var wanted = cited.map(function (c) { return c.chunk_id; }).filter(function (id) {
    var known = chunks.get(id);
    return known === undefined || known === "failed";
  });
  if (wanted.length) loadChunks(wanted);
  rerender();
}

function loadChunks(ids) {
  ids.forEach(function (id) { chunks.set(id, "loading"); });
  api(boot.assist.chunks, { ids: ids.join(",") }).then(function (body) {
    (body.chunks || []).forEach(function (chunk) { chunks.set(chunk.id, chunk); });
    ids.forEach(function (id) { if (chunks.get(id) === "loading") chunks.set(id, null); });
  }).catch(function () {
    ids.forEach(function (id) { chunks.set(id, "failed"); });
  }).then(rerender);
}

function passage(c) {
  var chunk = chunks.get(c.chunk_id);
  var attrs = { className: "source-text", "data-testid": "source-text", "data-chunk-id": c.chunk_id };
  if (chunk === undefined || chunk === "loading") {
    return h("div", Object.assign(attrs, { "data-state": "loading" }), h("span", { className: "muted", text: gettext("Loading…") }));
  }
  if (chunk === null || chunk === "failed") {
    return h("div", Object.assign(attrs, { "data-state": chunk === null ? "gone" : "failed" }),
      h("span", { className: "muted", text: chunk === null ? gettext("This passage is no longer in the knowledge base.") : gettext("Could not load this passage. Click to try again.") }));
  }
  var link = /^https?:\/\//i.test(chunk.url || "")
    ? h("a", { className: "source-text__link", href: chunk.url, target: "_blank", rel: "noopener noreferrer", text: gettext("Open the source") })
    : null;
  return h("div", Object.assign(attrs, { "data-state": "ready" }),
    h("div", { className: "source-text__title", text: "[" + c.n + "] " + citationLabel(chunk) }),
    h("div", { className: "source-text__body", text: chunk.text }),
    link);
}
