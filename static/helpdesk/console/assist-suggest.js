// The suggested reply: "Suggest reply" next to Send streams a draft into the composer, and
// under it what the draft was drafted from.
import { api } from "./api.js";
import { CITATIONS_SHOWN, citationLabel, errorText, noAnswer, SILENCE_MS, sparkIcon, url, validCitation } from "./assist-parts.js";
import { assistAvailability } from "./assist-summary.js";
import { fillComposer } from "./composer.js";
import { clear, h } from "./dom.js";
import { openConversationInfo } from "./state.js";
import { toast } from "./toast.js";
import { gettext } from "../shared/i18n.js";

// Events that arrive before the POST that asked for them has answered with its id.
const EARLY_KEPT = 50;
const input = document.querySelector("[data-testid=composer-input]");
const composer = document.querySelector("[data-testid=composer]");
const slot = document.querySelector("[data-testid=assist-slot]");
const draftSources = document.querySelector("[data-testid=suggestion-sources]");

let suggestion = null; // {conversation, requestId, text, started, had, timer}
let early = [];

const suggestBtn = h("button", {
  type: "button",
  className: "btn btn-ghost btn-sm assist-suggest",
  "data-testid": "suggest-reply",
  "data-state": "idle",
  onclick: suggest,
}, sparkIcon(), h("span", { className: "assist-suggest__label", text: gettext("Suggest reply") }));
slot.appendChild(suggestBtn);

export function paintSuggest() {
  var open = openConversationInfo();
  var assist = assistAvailability();
  slot.hidden = !open || !!open.error;
  var busy = !!suggestion;
  suggestBtn.disabled = busy || !assist.available || input.disabled;
  suggestBtn.setAttribute("data-state", busy ? (suggestion.started ? "streaming" : "waiting") : "idle");
  suggestBtn.setAttribute("aria-busy", busy ? "true" : "false");
  // On the slot too: a disabled button shows no tooltip in some browsers.
  var title = assist.available || !assist.reason
    ? gettext("Draft a reply from this conversation and the knowledge base. Nothing is sent until you send it.")
    : assist.reason;
  suggestBtn.title = title;
  slot.title = title;
  suggestBtn.querySelector(".assist-suggest__label").textContent = busy ? gettext("Drafting…") : gettext("Suggest reply");
}

function suggest() {
  var open = openConversationInfo();
  if (!open || suggestion || input.disabled || !assistAvailability().available) return;
  var mine = { conversation: open.id, requestId: null, text: "", started: false, had: input.value, timer: null };
  suggestion = mine;
  early = [];
  hideDraftSources();
  listenAgain(mine);
  paintSuggest();
  api(url(open.id, "/assist/suggest"), null, "POST").then(function (body) {
    if (suggestion !== mine) return;
    mine.requestId = body.request_id;
    var waiting = early.filter(function (frame) { return (frame.data || {}).request_id === mine.requestId; });
    early = [];
    waiting.forEach(onSuggestionFrame);
  }).catch(function (err) {
    if (suggestion !== mine) return;
    endSuggestion();
    toast(errorText(err.code, err.message), "error", { testid: "assist-error", attrs: { "data-code": err.code || "" } });
  });
}

function listenAgain(s) {
  clearTimeout(s.timer);
  s.timer = setTimeout(function () {
    if (suggestion !== s) return;
    endSuggestion();
    toast(noAnswer(), "error", { testid: "assist-error", attrs: { "data-code": "silence" } });
  }, SILENCE_MS);
}

function endSuggestion() {
  if (suggestion) clearTimeout(suggestion.timer);
  suggestion = null;
  early = [];
  paintSuggest();
}

export function onSuggestionFrame(frame) {
  var s = suggestion;
  var data = frame.data || {};
  if (!s || frame.conversation !== s.conversation) return;
  if (s.requestId === null) {
    early.push(frame);
    if (early.length > EARLY_KEPT) early.shift();
    return;
  }
  if (data.request_id !== s.requestId) return;
  listenAgain(s);
  if (frame.type === "assist.delta" && typeof data.text === "string") {
    fill(s, s.text + data.text);
  } else if (frame.type === "assist.done" && typeof data.text === "string") {
    // The whole text: a delta lost on the way is made good here.
    fill(s, data.text);
    endSuggestion();
    showDraftSources(Array.isArray(data.citations) ? data.citations.filter(validCitation) : []);
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  } else if (frame.type === "assist.error") {
    endSuggestion();
    toast(errorText(data.code, data.message), "error", { testid: "assist-error", attrs: { "data-code": data.code || "" } });
  }
}

function fill(s, text) {
  if (!s.started) {
    s.started = true;
    if (s.had.trim()) {
      var had = s.had;
      toast(gettext("The suggested reply replaced what you had written."), "info", {
        testid: "suggestion-replaced",
        ms: 8000,
        action: { label: gettext("Undo"), run: function () { endSuggestion(); hideDraftSources(); fillComposer(had); } },
      });
    }
  }
  s.text = text;
  fillComposer(text);
  input.scrollTop = input.scrollHeight;
  paintSuggest();
}

// The agent's own hand stops the fill: typing, pasting, sending, or switching to a note.
input.addEventListener("input", function () {
  if (suggestion) endSuggestion();
  if (!input.value.trim()) hideDraftSources();
});
input.addEventListener("keydown", function (e) {
  if (suggestion && e.key === "Enter") endSuggestion();
});
composer.addEventListener("submit", function () { if (suggestion) endSuggestion(); hideDraftSources(); });
composer.querySelectorAll(".mode").forEach(function (button) {
  button.addEventListener("click", function () { if (suggestion) endSuggestion(); });
});

function showDraftSources(citations) {
  clear(draftSources);
  if (!citations.length) {
    draftSources.hidden = true;
    return;
  }
  draftSources.appendChild(h("span", { className: "assist-sources__label", text: gettext("Drafted from:") }));
  citations.slice(0, CITATIONS_SHOWN).forEach(function (c) {
    draftSources.appendChild(h("span", { className: "assist-sources__item", text: "[" + c.n + "] " + citationLabel(c) }));
  });
  draftSources.hidden = false;
}

function hideDraftSources() {
  clear(draftSources);
  draftSources.hidden = true;
}

/** The open conversation changed: a draft belongs to the conversation it was asked for. */
export function dropSuggestion() {
  if (suggestion) endSuggestion();
  hideDraftSources();
}
