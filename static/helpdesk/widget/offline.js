// Nobody can answer now: leave an e-mail (docs/widget.md, "Business hours and the offline form").
//
// * The offline form: an inbox without a bot that is closed, or has no agent available, shows
//   a form (e-mail, message, optional name) instead of the composer while there is no open
//   conversation. Sending it (follow_up.request, conversation null) leaves a conversation that
//   agents see marked "Follow-up"; the widget then shows it, with a confirmation.
// * The handoff card: when a conversation becomes ``queued`` and a fresh GET availability says
//   closed or nobody there, a card under the messages asks for an e-mail to follow up by.
// Frames go out on whichever transport is live (actions.js); answers are action.done / error.
import { gettext, interpolate } from "../shared/i18n.js";
import { sendAction } from "./actions.js";
import { config, TIMINGS } from "./config.js";
import { applyConversation, switchConversation } from "./conversation.js";
import { el, scrollToBottom, ui } from "./dom.js";
import { humanError } from "./errors.js";
import { backAtText, hours, nobodyThere, setHours } from "./hours-text.js";
import { request } from "./http.js";
import { onOptions } from "./options.js";
import { updateUI } from "./panel.js";
import { liveConnection, outbox, S } from "./state.js";
import { store } from "./storage.js";
import { afterUpdate } from "./ui-hooks.js";
import { looksLikeEmail, sameId } from "./values.js";

// Close enough to what the server accepts (Django's EmailValidator decides).
const EMAIL_MAX = 254;

const parts = {}; // the form, the card and the confirmation, made by mountOffline
let formSent = false; // the offline form went out on this page: the conversation view follows
let hidComposer = false; // the composer is hidden by us (and only then shown again by us)
let checkedFor = null; // the queued conversation availability was asked for
let cardFor = null; // the conversation the handoff card is offered for
let expanded = false; // the customer opened the compact offer (open, but nobody there)

function sentKey(id) {
  return "follow-up:" + id;
}

/** The e-mail a follow-up of conversation ``id`` was left with on this browser, or null. */
function followedWith(id) {
  return id == null ? null : store.get(sentKey(id));
}

function field(kind, testid, label, attributes) {
  const wrap = el("label", "offline-field");
  const caption = el("span", "offline-label");
  caption.textContent = label;
  const input = el(kind, "offline-input", Object.assign({ "data-testid": testid }, attributes || {}));
  wrap.appendChild(caption);
  wrap.appendChild(input);
  return { wrap: wrap, caption: caption, input: input };
}

function button(testid) {
  return el("button", "offline-submit", { type: "submit", "data-testid": testid });
}

function makeForm() {
  const form = el("form", "offline", { "data-testid": "offline-form", novalidate: "" });
  form.hidden = true;
  const title = el("p", "offline-title", { "data-testid": "offline-title" });
  const back = el("p", "offline-back", { "data-testid": "offline-back" });
  const intro = el("p", "offline-intro");
  const email = field("input", "offline-email", "", { type: "email", autocomplete: "email", maxlength: String(EMAIL_MAX) });
  const name = field("input", "offline-name", "", { type: "text", autocomplete: "name", maxlength: "200" });
  const text = field("textarea", "offline-text", "", { rows: "3" });
  const error = el("p", "offline-error", { "data-testid": "offline-error", role: "alert" });
  error.hidden = true;
  const submit = button("offline-submit");
  // Open but nobody there: the composer stays, and the form waits behind this button.
  const more = el("button", "offline-submit offline-more", { type: "button", "data-testid": "offline-expand" });
  more.addEventListener("click", () => {
    expanded = true;
    updateUI();
    email.input.focus();
  });
  for (const part of [title, back, intro, email.wrap, name.wrap, text.wrap, error, submit, more]) form.appendChild(part);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitForm();
  });
  form.addEventListener("input", () => showError(error, ""));
  Object.assign(parts, { form, title, back, intro, email, name, text, error, submit, more });
}

function makeCard() {
  const card = el("form", "offline offline-card", { "data-testid": "offline-card", novalidate: "" });
  card.hidden = true;
  const title = el("p", "offline-title");
  const back = el("p", "offline-back", { "data-testid": "offline-card-back" });
  const intro = el("p", "offline-intro");
  const email = field("input", "offline-card-email", "", { type: "email", autocomplete: "email", maxlength: String(EMAIL_MAX) });
  const error = el("p", "offline-error", { "data-testid": "offline-card-error", role: "alert" });
  error.hidden = true;
  const submit = button("offline-card-submit");
  for (const part of [title, back, intro, email.wrap, error, submit]) card.appendChild(part);
  card.addEventListener("submit", (event) => {
    event.preventDefault();
    submitCard();
  });
  card.addEventListener("input", () => showError(error, ""));
  parts.card = { form: card, title, back, intro, email, error, submit };
}

function makeDone() {
  const done = el("p", "offline-done", { "data-testid": "offline-confirmation", role: "status" });
  done.hidden = true;
  parts.done = done;
}

/** main.js: add the form, the card and the confirmation to the panel, and follow the options. */
export function mountOffline() {
  if (!ui.body) return;
  makeForm();
  makeCard();
  makeDone();
  for (const part of [parts.form, parts.card.form, parts.done]) ui.body.insertBefore(part, ui.typing);
  afterUpdate.push(refresh);
  onOptions(() => updateUI());
}

function labels() {
  parts.intro.textContent = gettext("Leave your e-mail and your message, and we'll reply by e-mail.");
  parts.email.caption.textContent = gettext("E-mail");
  parts.name.caption.textContent = gettext("Name (optional)");
  parts.text.caption.textContent = gettext("Message");
  parts.text.input.setAttribute("placeholder", gettext("How can we help?"));
  parts.submit.textContent = parts.form.getAttribute("aria-busy") === "true" ? gettext("Sending…") : gettext("Send");
  parts.more.textContent = gettext("Leave your e-mail");
  const card = parts.card;
  card.title.textContent = gettext("No one is available right now.");
  card.intro.textContent = gettext("Leave your e-mail and we'll follow up.");
  card.email.caption.textContent = gettext("E-mail");
  card.submit.textContent = card.form.getAttribute("aria-busy") === "true" ? gettext("Sending…") : gettext("Notify me");
}

function backLine(target, h) {
  const text = h && h.open === false ? backAtText(h.back_at) : null;
  target.textContent = text ? text + "." : "";
  target.hidden = !text;
}

/** After every updateUI(): which of the three shows, in the current language. */
function refresh() {
  if (!parts.form) return;
  labels();
  const h = hours();
  const idle = S.conversation == null || S.status === "resolved";
  const offline = !S.fatal && !formSent && idle && !outbox.length && !!h && !h.has_bot && nobodyThere(h);
  const closed = offline && h.open === false;
  const prechat = ui.body.querySelector(".prechat");
  // Closed: the form replaces the composer (and a pre-chat form: it asks the same). Open with
  // nobody there: a compact offer above the composer, unless the pre-chat form is showing (the
  // handoff card offers the same after the first message).
  const showForm = closed || (offline && !(prechat && !prechat.hidden));
  const compact = showForm && !closed && !expanded;
  parts.form.hidden = !showForm;
  parts.form.setAttribute("data-compact", compact ? "true" : "false");
  for (const part of [parts.intro, parts.email.wrap, parts.name.wrap, parts.text.wrap, parts.submit]) part.hidden = compact;
  parts.more.hidden = !compact;
  if (compact) parts.error.hidden = true;
  if (showForm) {
    parts.title.textContent = closed ? gettext("We're away right now.") : gettext("No one is available right now.");
    backLine(parts.back, h);
  }
  if (closed) {
    if (prechat) prechat.hidden = true;
    ui.root.removeAttribute("data-prechat");
  }
  if (closed !== hidComposer) {
    ui.form.hidden = closed; // the composer: the form takes its place
    hidComposer = closed;
  }

  const email = followedWith(S.conversation);
  parts.done.hidden = !email || S.status === "resolved";
  if (email) parts.done.textContent = interpolate(gettext("We'll reply to %(email)s by e-mail."), { email: email });
  // The confirmation says what happens next: no "an agent will be with you shortly" under it.
  if (email && S.status === "queued") ui.notice.hidden = true;
  // Nobody answers now: the status dot is not green (offline-styles.js).
  const human = S.status === "queued" || S.status === "assigned";
  ui.status.setAttribute("data-away", !human && h && !h.has_bot && nobodyThere(h) ? "true" : "false");

  const queued = S.status === "queued" && S.conversation != null;
  if (queued && !email && !sameId(checkedFor, S.conversation)) {
    checkedFor = S.conversation;
    checkAvailability(S.conversation);
  }
  const showCard = queued && !email && cardFor != null && sameId(cardFor, S.conversation);
  parts.card.form.hidden = !showCard;
  if (showCard) backLine(parts.card.back, h);
}

/** The conversation was handed to humans: is anyone there? */
function checkAvailability(id) {
  request("GET", "/widget/api/availability?inbox=" + encodeURIComponent(config.inbox), null, false, TIMINGS.sendTimeoutMs, null)
    .then((r) => {
      if (!r.ok || !r.json || typeof r.json !== "object") return;
      setHours(r.json);
      if (sameId(id, S.conversation) && nobodyThere(r.json)) cardFor = id;
      updateUI();
      if (cardFor != null) scrollToBottom();
    })
    .catch(() => {
      checkedFor = null; // ask again at the next redraw
    });
}

function showError(target, text) {
  target.textContent = text || "";
  target.hidden = !text;
}

function clientProblem(email, text, needsText) {
  if (!email) return [gettext("Please enter your e-mail address."), "email"];
  if (email.length > EMAIL_MAX || !looksLikeEmail(email)) return [gettext("Please enter a valid e-mail address."), "email"];
  if (needsText && !text) return [gettext("Please write your message."), "text"];
  return null;
}

function errorText(error) {
  const code = error && error.code;
  if (code === "offline") return gettext("You're offline. Please try again when the connection is back.");
  if (code === "timeout" || code === "superseded") return gettext("No answer from the server. Please try again.");
  if (code === "email_required" || code === "email_invalid" || code === "invalid") {
    return typeof error.message === "string" && error.message ? error.message : gettext("Please enter a valid e-mail address.");
  }
  return humanError(error);
}

function busy(form, submit, on) {
  form.setAttribute("aria-busy", on ? "true" : "false");
  submit.disabled = on;
  labels();
}

function submitForm() {
  const email = parts.email.input.value.trim();
  const text = parts.text.input.value.trim();
  const name = parts.name.input.value.trim();
  const problem = clientProblem(email, text, true);
  if (problem) {
    showError(parts.error, problem[0]);
    (problem[1] === "email" ? parts.email.input : parts.text.input).focus();
    return;
  }
  showError(parts.error, "");
  busy(parts.form, parts.submit, true);
  sendAction(
    { type: "follow_up.request", conversation: null, data: { email: email, text: text, name: name } },
    "follow_up",
    TIMINGS.sendTimeoutMs,
  )
    .then((frame) => {
      formSent = true;
      parts.text.input.value = "";
      accepted(frame, email);
    })
    .catch((error) => showError(parts.error, errorText(error)))
    .then(() => busy(parts.form, parts.submit, false));
}

function submitCard() {
  const id = cardFor;
  const email = parts.card.email.input.value.trim();
  const problem = clientProblem(email, "", false);
  if (problem) {
    showError(parts.card.error, problem[0]);
    parts.card.email.input.focus();
    return;
  }
  showError(parts.card.error, "");
  busy(parts.card.form, parts.card.submit, true);
  sendAction(
    { type: "follow_up.request", conversation: id, data: { email: email, text: "", name: "" } },
    "follow_up",
    TIMINGS.sendTimeoutMs,
  )
    .then((frame) => {
      cardFor = null;
      accepted(frame, email);
    })
    .catch((error) => showError(parts.card.error, errorText(error)))
    .then(() => busy(parts.card.form, parts.card.submit, false));
}

/** action.done {action: "follow_up", conversation}: show that conversation, confirmed. */
function accepted(frame, email) {
  const c = frame.data && frame.data.conversation && typeof frame.data.conversation === "object" ? frame.data.conversation : null;
  const id = c && c.id != null ? c.id : frame.conversation;
  if (id == null) return;
  store.set(sentKey(id), email);
  const switched = !sameId(id, S.conversation);
  if (switched) switchConversation(id);
  if (c) applyConversation(c);
  const connection = liveConnection();
  // The session follows the conversation already; this fetches what it holds so far.
  if (switched && connection) connection.send({ type: "resume", conversation: id, seq: 0 });
  updateUI();
  scrollToBottom();
}
