// The conversation's summary at the top of the transcript: the newest stored one, one being
// written live, and "Summarize" to ask for a new one.
import { api } from "./api.js";
import { errorText, noAnswer, SILENCE_MS, sparkIcon, url } from "./assist-parts.js";
import { paintSuggest } from "./assist-suggest.js";
import { h, clear } from "./dom.js";
import { openConversationInfo } from "./state.js";
import { timeFmt } from "./time.js";
import { gettext, interpolate, ngettext } from "../shared/i18n.js";

const panel = document.querySelector("[data-testid=summary-panel]");

function triggerText(trigger) {
  switch (trigger) {
    case "handoff": return gettext("Written at handoff");
    case "transfer": return gettext("Written at transfer");
    case "requested": return gettext("Asked for");
    default: return trigger;
  }
}

/** Whether assist works for the open conversation (its inbox's bot has a model), and why not:
 * unknown, so unavailable, until the conversation's assist state has loaded. */
export function assistAvailability() {
  var open = openConversationInfo();
  return (open && summary.conversation === open.id && summary.assist) || { available: false, reason: "" };
}

let summary = freshSummary(null);

function freshSummary(conversationId) {
  return {
    conversation: conversationId,
    assist: null, // {available, reason}
    current: null, // the newest stored summary
    loaded: false,
    live: null, // {requestId, text}: a summary being written now
    asking: null, // {requestId, timer}: the one this agent asked for
    finished: {}, // request id -> error message or "" once it has ended
    error: null,
  };
}

export function loadSummary(conversationId) {
  summary = freshSummary(conversationId);
  if (conversationId === null) return;
  var mine = summary;
  api(url(conversationId, "/summary")).then(function (body) {
    if (summary !== mine) return;
    mine.loaded = true;
    mine.assist = body.assist || null;
    keepNewest(body.summary);
    paintSuggest();
    paintSummary();
  }).catch(function () {
    if (summary !== mine) return;
    mine.loaded = true;
    paintSummary();
  });
}

function keepNewest(s) {
  if (s && typeof s.id === "number" && (!summary.current || s.id > summary.current.id)) summary.current = s;
}

function askSummary() {
  var s = summary;
  if (s.conversation === null || s.asking || s.live) return;
  var asking = { requestId: null, timer: null };
  s.asking = asking;
  s.error = null;
  asking.timer = setTimeout(function () { endAsking(s, asking, noAnswer()); }, SILENCE_MS);
  paintSummary();
  api(url(s.conversation, "/assist/summary"), null, "POST").then(function (body) {
    if (s.asking !== asking) return;
    asking.requestId = body.request_id;
    // It may have ended before this answer came.
    if (Object.prototype.hasOwnProperty.call(s.finished, asking.requestId)) {
      endAsking(s, asking, s.finished[asking.requestId] || null);
    }
  }).catch(function (err) {
    endAsking(s, asking, errorText(err.code, err.message));
  });
}

function endAsking(s, asking, error) {
  if (s.asking !== asking) return;
  clearTimeout(asking.timer);
  s.asking = null;
  s.error = error;
  if (s === summary) paintSummary();
}

export function onSummaryFrame(frame) {
  var s = summary;
  var data = frame.data || {};
  if (s.conversation === null || frame.conversation !== s.conversation) return;
  var requestId = data.request_id;
  if (frame.type === "assist.summary.delta" && typeof data.text === "string") {
    if (!s.live || s.live.requestId !== requestId) s.live = { requestId: requestId, text: "" };
    s.live.text += data.text;
    if (s.asking && s.asking.requestId === requestId) {
      clearTimeout(s.asking.timer);
      s.asking.timer = setTimeout(endAsking.bind(null, s, s.asking, noAnswer()), SILENCE_MS);
    }
  } else if (frame.type === "assist.summary") {
    keepNewest(data.summary);
    if (s.current && s.current.id === (data.summary || {}).id) s.current.newer_messages = 0;
    finish(s, requestId, "");
  } else if (frame.type === "assist.error") {
    finish(s, requestId, errorText(data.code, data.message));
  }
  paintSummary();
}

function finish(s, requestId, error) {
  s.finished[requestId] = error;
  if (s.live && s.live.requestId === requestId) s.live = null;
  if (s.asking && s.asking.requestId === requestId) endAsking(s, s.asking, error || null);
}

export function paintSummary() {
  var open = openConversationInfo();
  var s = summary;
  var assist = assistAvailability();
  var shown = !!open && !open.error && s.conversation === open.id && (assist.available || !!s.current || !!s.live);
  panel.hidden = !shown;
  if (!shown) return;
  clear(panel);
  var busy = !!s.asking || !!s.live;
  panel.setAttribute("data-state", s.live ? "streaming" : s.asking ? "waiting" : s.current ? "ready" : "empty");
  var meta = [];
  if (s.current && !s.live) {
    meta.push(triggerText(s.current.trigger));
    var at = Date.parse(s.current.created_at);
    if (!isNaN(at)) meta.push(timeFmt.format(at));
    if (s.current.newer_messages > 0) meta.push(interpolate(ngettext("%(count)s newer message", "%(count)s newer messages", s.current.newer_messages), { count: s.current.newer_messages }));
  }
  var title = assist.available || !assist.reason ? gettext("Have the assistant summarize this conversation for you") : assist.reason;
  var ask = h("button", {
    type: "button",
    className: "btn btn-ghost btn-sm summary__ask",
    "data-testid": "summarize",
    title: title,
    disabled: busy || !assist.available,
    "aria-busy": s.asking ? "true" : "false",
    onclick: askSummary,
  }, s.asking ? h("span", { className: "spinner spinner--sm", "aria-hidden": "true" }) : null,
    s.asking ? gettext("Summarizing…") : s.current ? gettext("Summarize again") : gettext("Summarize"));
  panel.appendChild(h("div", { className: "summary__head" },
    h("span", { className: "summary__title" }, sparkIcon(), h("span", { text: gettext("Summary") })),
    h("span", { className: "summary__meta", "data-testid": "summary-meta", text: meta.join(" · ") }),
    h("span", { className: "summary__ask-wrap", title: title }, ask)));
  if (s.live) {
    panel.appendChild(h("div", { className: "summary__text summary__text--live", "data-testid": "summary-text", text: s.live.text }));
  } else if (s.current) {
    panel.appendChild(summaryText(s.current.text));
  } else {
    panel.appendChild(h("div", { className: "summary__empty", "data-testid": "summary-empty", text: s.loaded ? gettext("No summary yet.") : gettext("Loading…") }));
  }
  if (s.error) panel.appendChild(h("div", { className: "summary__error", role: "alert", "data-testid": "summary-error", text: s.error }));
}

const BULLET_RE = /^\s*(?:[-•*]|\d+[.)])\s+/;

/** The summary's "- " lines as a list; anything else as it was written. */
function summaryText(text) {
  var lines = String(text).split(/\n+/).filter(function (line) { return line.trim(); });
  if (!lines.length || !lines.every(function (line) { return BULLET_RE.test(line); })) {
    return h("div", { className: "summary__text", "data-testid": "summary-text", text: text });
  }
  var list = h("ul", { className: "summary__text summary__list", "data-testid": "summary-text" });
  lines.forEach(function (line) { list.appendChild(h("li", { text: line.replace(BULLET_RE, "") })); });
  return list;
}
