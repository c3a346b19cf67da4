// The composer: replies and private notes, drafts kept per conversation, the length limit, and
// "agent is typing" for the customer.
import { MAX_CHARS } from "./boot.js";
import { hasPickedFiles, switchFiles, takeFiles, wireAttachments } from "./attachments.js";
import { cannedKeydown, updateCanned } from "./canned.js";
import * as socket from "./connection.js";
import { $ } from "./dom.js";
import { queueMessage } from "./outbox.js";
import { state } from "./state.js";
import { toast } from "./toast.js";
import { gettext, interpolate } from "../shared/i18n.js";

const TYPING_SEND_EVERY_MS = 3000;
const TYPING_IDLE_MS = 4000;

const composer = $("[data-testid=composer]");
const input = $("[data-testid=composer-input]");
const sendBtn = $("[data-testid=send-button]");
const countEl = $("[data-testid=composer-count]");
let mode = "text";
let typingSentAt = 0;
let typingIdle = null;
let typingFor = null;
// What the agent was writing stays with its conversation when they look at another one.
const drafts = new Map();

export function saveDraft(id) {
  if (input.value || mode !== "text") drafts.set(id, { text: input.value, mode: mode });
  else drafts.delete(id);
}

export function restoreDraft(id) {
  var draft = drafts.get(id) || { text: "", mode: "text" };
  switchFiles(id); // the files picked in this conversation (attachments.js)
  input.value = draft.text;
  setMode(draft.mode, true);
  autosize();
  updateComposer();
}

export function setMode(next, quiet) {
  if (next === "note" && mode !== "note") stopTyping();
  mode = next === "note" ? "note" : "text";
  composer.setAttribute("data-mode", mode);
  composer.querySelectorAll(".mode").forEach(function (b) {
    b.setAttribute("aria-pressed", b.getAttribute("data-mode") === mode ? "true" : "false");
  });
  input.placeholder = mode === "note"
    ? gettext("Write a private note — only agents see it…")
    : gettext("Write a reply…");
  if (!quiet) input.focus();
}

/** Put `text` in the composer as a reply for the agent to edit (agent assist's draft). Not
 * typing: the customer sees "typing" only when the agent edits it. */
export function fillComposer(text) {
  if (mode !== "text") setMode("text", true);
  input.value = text;
  autosize();
  updateComposer();
}

function autosize() {
  input.style.height = "auto";
  input.style.height = Math.min(input.scrollHeight, 200) + "px";
}

export function updateComposer() {
  var length = input.value.trim().length;
  var over = input.value.length > MAX_CHARS;
  sendBtn.disabled = !state.open || input.disabled || (!length && !hasPickedFiles()) || over;
  sendBtn.textContent = mode === "note" ? gettext("Add note") : gettext("Send");
  var near = input.value.length > MAX_CHARS * 0.8;
  countEl.hidden = !near;
  countEl.textContent = input.value.length + " / " + MAX_CHARS;
  countEl.classList.toggle("composer__count--over", over);
}

function sendTyping(typing) {
  var open = state.open;
  if (!open || !socket.isOpen()) return;
  socket.send({ type: "typing", conversation: open.id, data: { typing: typing } });
}

export function onComposerInput() {
  autosize();
  updateComposer();
  updateCanned();
  // A private note is not the customer's business: never show them "agent is typing" for it.
  if (mode !== "text" || !state.open) return;
  var now = Date.now();
  if (input.value.trim() && now - typingSentAt > TYPING_SEND_EVERY_MS) {
    typingSentAt = now;
    typingFor = state.open.id;
    sendTyping(true);
  }
  clearTimeout(typingIdle);
  typingIdle = setTimeout(stopTyping, TYPING_IDLE_MS);
}

export function stopTyping() {
  clearTimeout(typingIdle);
  if (typingFor !== null && state.open && state.open.id === typingFor) sendTyping(false);
  typingFor = null;
  typingSentAt = 0;
}

function submit() {
  var open = state.open;
  var text = input.value.trim();
  if (!open || (!text && !hasPickedFiles()) || input.disabled) return;
  if (input.value.length > MAX_CHARS) {
    toast(interpolate(gettext("The message is longer than %(max)s characters."), { max: MAX_CHARS }), "error");
    return;
  }
  stopTyping();
  input.value = "";
  autosize();
  updateComposer();
  queueMessage(open.id, text, mode, takeFiles());
}

/** The open conversation's composer, focused on wide screens (a phone's keyboard would cover
 * the transcript). */
export function showComposerFor(id) {
  composer.setAttribute("data-conversation", String(id));
  if (window.matchMedia("(max-width: 767px)").matches) input.blur();
  else input.focus({ preventScroll: true });
}

/** Whether the agent may write (not in a resolved conversation), and whether the composer
 * shows at all (not for a conversation that could not be loaded). */
export function setComposerOpen(writable, shown) {
  composer.classList.toggle("composer--disabled", !writable);
  composer.hidden = !shown;
  input.disabled = !writable || !shown;
  updateComposer();
}

export function focusComposer() { input.focus({ preventScroll: true }); }

export function wireComposer() {
  wireAttachments(updateComposer);
  input.addEventListener("input", onComposerInput);
  input.addEventListener("keydown", function (e) {
    if (cannedKeydown(e)) return;
    // isComposing: Enter that confirms an IME candidate (Japanese, Chinese, ...) is not "send".
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submit();
    }
  });
  composer.addEventListener("submit", function (e) { e.preventDefault(); submit(); });
  composer.querySelectorAll(".mode").forEach(function (b) {
    b.addEventListener("click", function () {
      var wanted = b.getAttribute("data-mode");
      // The note toggle toggles; "Reply" always goes back to replying.
      setMode(wanted === "note" && mode === "note" ? "text" : wanted);
      updateComposer();
    });
  });
}
