/*
 * Agent assist in the console: "Suggest reply" next to Send, the summary at the top of a
 * conversation, and the knowledge a bot reply used under it. An add-on: it hears of the
 * console through the hooks of events.js; the assist.* events are in docs/protocol.md.
 *
 * A suggestion never sends itself: it streams into the composer, where the agent edits it and
 * sends it as their own, or not at all. Text from the server goes in through textContent only,
 * as everywhere in the console.
 */
import { sourcesUnder } from "./assist-sources.js";
import { dropSuggestion, onSuggestionFrame, paintSuggest } from "./assist-suggest.js";
import { loadSummary, onSummaryFrame, paintSummary } from "./assist-summary.js";
import { on } from "./events.js";
import { openConversationInfo } from "./state.js";

let shownConversation = null;

function onChange() {
  var open = openConversationInfo();
  var id = open ? open.id : null;
  if (id !== shownConversation) {
    shownConversation = id;
    dropSuggestion();
    loadSummary(id);
  }
  paintSuggest();
  paintSummary();
}

on("frame", function (frame) {
  var type = String(frame.type || "");
  var data = frame.data || {};
  if (type === "assist.summary.delta" || type === "assist.summary" || (type === "assist.error" && data.purpose === "summary")) {
    onSummaryFrame(frame);
  } else if (type === "assist.delta" || type === "assist.done" || type === "assist.error") {
    onSuggestionFrame(frame);
  }
});
on("message", sourcesUnder);
on("change", onChange);
onChange();
