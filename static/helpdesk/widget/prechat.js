// The pre-chat form (options.prechat, docs/widget.md "Pre-chat form"): shown in the panel
// before a conversation's first message, its answers kept in sessionStorage (a reload does not
// ask again) and sent with the first message.send (``data.prechat``). The server checks them
// again; a refusal comes back here with the field it is about.
import { gettext, interpolate } from "../shared/i18n.js";
import { el, ui } from "./dom.js";
import { onOptions } from "./options.js";
import { S } from "./state.js";
import { session } from "./storage.js";
import { afterUpdate } from "./ui-hooks.js";
import { looksLikeEmail } from "./values.js";

const STORAGE_KEY = "prechat";
const MAX_LENGTH = { name: 200, email: 254, phone: 40, choice: 200, text: 500 };
// A string, not a regex literal: xgettext misreads this literal and skips the texts below it.
const PHONE_RE = new RegExp("^\\+?[0-9(][0-9 ()./-]*[0-9]$");

let formEl = null;
let onDone = null;
let refused = null; // {field, message}: the server's last refusal, shown until answered anew
let builtFor = null; // the fields the form was built for (JSON), to rebuild when they change

function fields() {
  const p = S.options && S.options.prechat;
  return p && p.enabled && Array.isArray(p.fields) ? p.fields.filter((f) => f && typeof f.key === "string") : [];
}

/** The answers kept for this tab, or null. */
export function prechatAnswers() {
  const raw = session.get(STORAGE_KEY);
  if (!raw) return null;
  try {
    const answers = JSON.parse(raw);
    return answers && typeof answers === "object" && !Array.isArray(answers) ? answers : null;
  } catch (e) {
    return null;
  }
}

/** A first message must wait: the inbox asks first and has no (valid) answers yet. */
export function prechatHolds() {
  return fields().length > 0 && S.conversation == null && (!prechatAnswers() || refused !== null);
}

/** sending.js: the server refused the answers (prechat_required / prechat_invalid). */
export function prechatRefused(data) {
  refused = { field: data && typeof data.field === "string" ? data.field : "", message: messageFor(data) };
  if (!fields().some((f) => f.key === refused.field)) session.del(STORAGE_KEY); // the form changed
  builtFor = null; // show it again with the answers in place
  updatePrechat();
}

/** logout(): the next visitor is asked afresh. */
export function forgetPrechat() {
  session.del(STORAGE_KEY);
  refused = null;
  builtFor = null;
  updatePrechat();
}

/** main.js: ``done`` sends what waited for the answers. */
export function mountPrechat(done) {
  onDone = done;
  afterUpdate.push(updatePrechat); // redrawn with the panel (panel.js's updateUI)
  onOptions(() => {
    builtFor = null;
    updatePrechat();
  });
}

/** Show the form while a first message needs it, hide it otherwise (each panel update). */
export function updatePrechat() {
  if (!ui.root) return;
  const show = !S.fatal && S.everConnected && prechatHolds();
  if (!show) {
    ui.root.removeAttribute("data-prechat");
    if (formEl) formEl.hidden = true;
    return;
  }
  const list = fields();
  const key = JSON.stringify(list);
  if (!formEl || builtFor !== key) build(list, key);
  const wasHidden = formEl.hidden;
  formEl.hidden = false;
  ui.root.setAttribute("data-prechat", "open");
  if (wasHidden && S.open && !(window.matchMedia && window.matchMedia("(pointer: coarse)").matches)) {
    const first = formEl.querySelector("input,select");
    if (first) first.focus();
  }
}

function build(list, key) {
  if (formEl && formEl.parentNode) formEl.parentNode.removeChild(formEl);
  builtFor = key;
  const saved = prechatAnswers() || {};
  formEl = el("form", "prechat", { "data-testid": "prechat-form", novalidate: "" });
  formEl.hidden = true;
  const intro = el("p", "prechat-intro");
  intro.textContent = gettext("Before we start, please tell us a little about yourself.");
  formEl.appendChild(intro);
  const general = el("p", "prechat-error prechat-general", { "data-testid": "prechat-error", role: "alert" });
  general.hidden = true;
  formEl.appendChild(general);
  list.forEach((field, i) => formEl.appendChild(fieldRow(field, i, saved)));
  const start = el("button", "prechat-start", { type: "submit", "data-testid": "prechat-start" });
  start.textContent = gettext("Start the chat");
  formEl.appendChild(start);
  formEl.addEventListener("submit", (event) => {
    event.preventDefault();
    submit(list);
  });
  ui.body.appendChild(formEl);
  if (refused) showRefusal(list);
}

function fieldRow(field, i, saved) {
  const id = "hd-prechat-" + i;
  const row = el("div", "prechat-field", { "data-key": field.key, "data-kind": String(field.kind) });
  const label = el("label", "prechat-label", { for: id });
  label.appendChild(document.createTextNode(String(field.label || field.key)));
  if (field.required) {
    const mark = el("span", "prechat-req", { "aria-hidden": "true" });
    mark.textContent = " *";
    label.appendChild(mark);
  }
  row.appendChild(label);
  let input;
  // What this tab answered before, else what the site said of its verified user (identity.js).
  const known = S.identityUser && (field.kind === "name" || field.kind === "email") ? S.identityUser[field.kind] || "" : "";
  const value = typeof saved[field.key] === "string" ? saved[field.key] : known;
  if (field.kind === "choice") {
    input = el("select", "prechat-input", { id: id });
    const none = el("option", null, { value: "" });
    none.textContent = gettext("Choose…");
    input.appendChild(none);
    (Array.isArray(field.choices) ? field.choices : []).forEach((choice) => {
      const option = el("option", null, { value: String(choice) });
      option.textContent = String(choice);
      input.appendChild(option);
    });
    input.value = value;
  } else {
    const type = field.kind === "email" ? "email" : field.kind === "phone" ? "tel" : "text";
    input = el("input", "prechat-input", { id: id, type: type, maxlength: String(MAX_LENGTH[field.kind] || 200) });
    const complete = { name: "name", email: "email", phone: "tel" }[field.kind];
    if (complete) input.setAttribute("autocomplete", complete);
    if (field.kind === "email") input.setAttribute("inputmode", "email");
    input.value = value;
  }
  input.setAttribute("name", field.key);
  input.setAttribute("data-testid", "prechat-input-" + field.key);
  input.setAttribute("aria-describedby", id + "-error");
  if (field.required) input.setAttribute("aria-required", "true");
  input.addEventListener("input", () => setError(row, ""));
  input.addEventListener("change", () => setError(row, ""));
  row.appendChild(input);
  const error = el("p", "prechat-error", { id: id + "-error", "data-testid": "prechat-error-" + field.key });
  error.hidden = true;
  row.appendChild(error);
  return row;
}

function setError(row, message) {
  const input = row.querySelector(".prechat-input");
  const error = row.querySelector(".prechat-error");
  error.textContent = message;
  error.hidden = !message;
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

function problem(field, value) {
  if (!value) return field.required ? gettext("Please fill in this field.") : "";
  const limit = MAX_LENGTH[field.kind] || 200;
  if (value.length > limit) return interpolate(gettext("At most %(limit)s characters."), { limit: limit });
  if (field.kind === "email" && !looksLikeEmail(value)) return gettext("Please enter a valid e-mail address.");
  if (field.kind === "phone") {
    const digits = value.replace(/[^0-9]/g, "").length;
    if (!PHONE_RE.test(value) || digits < 5 || digits > 20) return gettext("Please enter a valid phone number.");
  }
  if (field.kind === "choice" && (field.choices || []).indexOf(value) < 0) return gettext("Please choose one of the options.");
  return "";
}

function submit(list) {
  const answers = {};
  let firstBad = null;
  list.forEach((field) => {
    const row = formEl.querySelector('.prechat-field[data-key="' + cssKey(field.key) + '"]');
    if (!row) return;
    const input = row.querySelector(".prechat-input");
    const raw = String(input.value || "");
    const value = field.kind === "text" ? raw.trim() : raw.replace(/\s+/g, " ").trim();
    const message = problem(field, value);
    setError(row, message);
    if (message && !firstBad) firstBad = input;
    if (value) answers[field.key] = value;
  });
  const general = formEl.querySelector(".prechat-general");
  general.hidden = true;
  if (firstBad) {
    firstBad.focus();
    return;
  }
  session.set(STORAGE_KEY, JSON.stringify(answers));
  refused = null;
  updatePrechat();
  if (S.open && ui.input && !(window.matchMedia && window.matchMedia("(pointer: coarse)").matches)) ui.input.focus();
  if (onDone) onDone();
}

function showRefusal(list) {
  const row = refused.field ? formEl.querySelector('.prechat-field[data-key="' + cssKey(refused.field) + '"]') : null;
  if (row) setError(row, refused.message);
  else {
    const general = formEl.querySelector(".prechat-general");
    general.textContent = refused.message;
    general.hidden = false;
  }
}

function messageFor(data) {
  if (data && data.code === "prechat_required") return gettext("Please fill in this field.");
  if (data && typeof data.message === "string" && data.message) return data.message; // in the visitor's language
  return gettext("This answer is not valid.");
}

// Keys are slugs (letters, digits, - and _), but never trust them inside a selector.
function cssKey(key) {
  return String(key).replace(/[^A-Za-z0-9_-]/g, "");
}
