// The satisfaction rating card (docs/widget.md, "Satisfaction rating"): under the messages of a
// resolved conversation that is not rated yet, when the inbox asks (options.rating "five" or
// "thumbs"). 5 stars or thumbs up / down, an optional comment, then "Thank you". It goes out as
// a rating.send frame on the live transport (actions.js) and the server answers action.done.
// The conversation payload's ``rating`` (S.rating, conversation.js) says whether it is rated, so
// a reload does not ask again; a reopened conversation (the customer wrote again) hides it.
import { gettext, interpolate } from "../shared/i18n.js";
import { sendAction } from "./actions.js";
import { el, nearBottom, scrollToBottom, ui } from "./dom.js";
import { onOptions } from "./options.js";
import { updateUI } from "./panel.js";
import { S } from "./state.js";
import { afterUpdate } from "./ui-hooks.js";
import { sameId } from "./values.js";

const COMMENT_MAX = 1000;
const STAR =
  '<svg viewBox="0 0 24 24" width="30" height="30" aria-hidden="true" focusable="false">' +
  '<path d="M12 2.8l2.8 5.9 6.4.8-4.7 4.4 1.2 6.4L12 17.2l-5.7 3.1 1.2-6.4L2.8 9.5l6.4-.8z"/></svg>';
const THUMB =
  '<svg viewBox="0 0 24 24" width="30" height="30" aria-hidden="true" focusable="false">' +
  '<path d="M2 21h3.5V9H2v12Zm20-11c0-1.1-.9-2-2-2h-6.3l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L13.17 1 ' +
  '6.59 7.59C6.22 7.95 6 8.45 6 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2Z"/></svg>';

const card = {
  el: null, // the card, inserted under the list
  conversation: null, // the conversation the card is about
  scale: null, // "five" | "thumbs": the buttons drawn
  score: null,
  phase: "ask", // ask | sending | done
};
const parts = {};

function scale() {
  const rating = S.options && S.options.rating;
  return rating === "five" || rating === "thumbs" ? rating : null;
}

/** Whether the card should be on screen now. */
function wanted() {
  if (S.fatal || S.conversation == null || !scale() || S.status !== "resolved") return false;
  if (card.phase === "done" && sameId(card.conversation, S.conversation)) return true;
  return !S.rating;
}

function makeCard() {
  const root = el("section", "rating", { "data-testid": "rating-card", "aria-labelledby": "hd-rating-title" });
  root.hidden = true;
  parts.title = el("p", "rating-title", { id: "hd-rating-title" });
  parts.buttons = el("div", "rating-scale", { role: "group", "aria-labelledby": "hd-rating-title" });
  parts.comment = el("textarea", "rating-comment", { "data-testid": "rating-comment", rows: "2", maxlength: String(COMMENT_MAX) });
  parts.error = el("p", "rating-error", { "data-testid": "rating-error", role: "alert" });
  parts.error.hidden = true;
  parts.send = el("button", "rating-send", { type: "button", "data-testid": "rating-send" });
  parts.thanks = el("p", "rating-thanks", { "data-testid": "rating-thanks", role: "status" });
  parts.thanks.hidden = true;
  parts.send.addEventListener("click", submit);
  parts.comment.addEventListener("input", () => {
    if (parts.comment.value.length > COMMENT_MAX) parts.comment.value = parts.comment.value.slice(0, COMMENT_MAX);
  });
  for (const part of [parts.title, parts.buttons, parts.comment, parts.error, parts.send, parts.thanks]) root.appendChild(part);
  card.el = root;
}

function drawButtons(kind) {
  parts.buttons.textContent = "";
  parts.choices = [];
  const choices = kind === "thumbs"
    ? [[5, "up", gettext("Thumbs up")], [1, "down", gettext("Thumbs down")]]
    : [1, 2, 3, 4, 5].map((n) => [n, "star", n === 1 ? gettext("1 star") : interpolate(gettext("%(count)s stars"), { count: n })]);
  for (const [score, shape, label] of choices) {
    const button = el("button", "rating-choice rating-" + shape, {
      type: "button",
      "aria-label": label,
      "aria-pressed": "false",
      "data-score": String(score),
      "data-testid": "rating-" + (kind === "thumbs" ? shape : score),
      title: label,
    });
    const template = document.createElement("template");
    template.innerHTML = shape === "star" ? STAR : THUMB; // constant markup
    button.appendChild(template.content.cloneNode(true));
    button.addEventListener("click", () => choose(score));
    parts.buttons.appendChild(button);
    parts.choices.push(button);
  }
  card.scale = kind;
}

function choose(score) {
  if (card.phase !== "ask") return;
  card.score = score;
  parts.error.hidden = true;
  draw();
}

function labels() {
  parts.title.textContent = card.scale === "thumbs" ? gettext("Was this conversation helpful?") : gettext("How would you rate this conversation?");
  parts.comment.setAttribute("aria-label", gettext("Comment (optional)"));
  parts.comment.setAttribute("placeholder", gettext("Tell us more (optional)"));
  parts.send.textContent = card.phase === "sending" ? gettext("Sending…") : gettext("Send rating");
  parts.thanks.textContent = gettext("Thank you for your feedback!");
}

function draw() {
  const asking = card.phase !== "done";
  labels();
  for (const button of parts.choices) {
    const score = Number(button.getAttribute("data-score"));
    const on = card.scale === "thumbs" ? score === card.score : card.score != null && score <= card.score;
    button.classList.toggle("on", on);
    button.setAttribute("aria-pressed", String(score === card.score));
    button.disabled = card.phase !== "ask";
  }
  parts.comment.hidden = !asking;
  parts.comment.disabled = card.phase !== "ask";
  parts.send.hidden = !asking;
  parts.send.disabled = card.phase !== "ask" || card.score == null;
  parts.thanks.hidden = asking;
  card.el.setAttribute("data-phase", card.phase);
}

function fail(data) {
  const code = data && data.code;
  if (code === "already_rated") {
    S.rating = S.rating || { score: card.score };
    card.phase = "done";
    draw();
    return;
  }
  card.phase = "ask";
  let text;
  if (code === "offline") text = gettext("You are offline. Try again when the connection is back.");
  else if (code === "timeout") text = gettext("No answer from the server. Please try again.");
  else if (code === "rate_limited") text = gettext("Too many tries. Please wait a moment and try again.");
  else if (code === "conversation_not_resolved" || code === "ratings_disabled") {
    text = (data && data.message) || gettext("This conversation cannot be rated now.");
  } else text = (data && typeof data.message === "string" && data.message) || gettext("Your rating could not be sent. Please try again.");
  parts.error.textContent = text;
  parts.error.hidden = false;
  draw();
}

function submit() {
  if (card.phase !== "ask" || card.score == null || S.conversation == null) return;
  const conversation = S.conversation;
  card.phase = "sending";
  parts.error.hidden = true;
  draw();
  const comment = parts.comment.value.replace(/^\s+|\s+$/g, "").slice(0, COMMENT_MAX);
  sendAction(
    { type: "rating.send", conversation: conversation, data: { score: card.score, comment: comment } },
    "rating",
  ).then(
    (frame) => {
      if (!sameId(conversation, card.conversation)) return;
      const d = (frame && frame.data) || {};
      if (sameId(conversation, S.conversation)) S.rating = d.rating || { score: card.score, comment: comment };
      card.phase = "done";
      draw();
      updateUI();
    },
    (data) => {
      if (sameId(conversation, card.conversation)) fail(data);
    },
  );
}

/** After every updateUI: show, reset or hide the card. */
function refresh() {
  if (!card.el) return;
  const show = wanted();
  if (!show) {
    if (!card.el.hidden) card.el.hidden = true;
    // Another conversation, or this one reopened: start afresh next time.
    if (!sameId(card.conversation, S.conversation) || S.status !== "resolved") reset(null);
    return;
  }
  if (!sameId(card.conversation, S.conversation)) reset(S.conversation);
  if (card.scale !== scale()) drawButtons(scale());
  const stick = nearBottom();
  const appearing = card.el.hidden;
  card.el.hidden = false;
  // Keep it right under the newest messages.
  if (card.el.parentNode !== ui.body || card.el.nextSibling !== ui.typing) ui.body.insertBefore(card.el, ui.typing);
  draw();
  if (appearing && (stick || S.open)) scrollToBottom();
}

function reset(conversation) {
  card.conversation = conversation;
  card.score = null;
  card.phase = "ask";
  if (parts.comment) parts.comment.value = "";
  if (parts.error) parts.error.hidden = true;
}

/** main.js: add the card to the panel and follow the conversation and the options. */
export function mountRating() {
  if (!ui.body) return;
  makeCard();
  ui.body.insertBefore(card.el, ui.typing);
  afterUpdate.push(refresh);
  onOptions(() => updateUI());
}
