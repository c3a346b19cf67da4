// The open conversation: opening and closing it, loading its messages over HTTP, following it
// over the socket (subscribe, resume from the last seq we hold, fill gaps) and marking it read.
import { api, conversationUrl } from "./api.js";
import { closeCanned } from "./canned.js";
import { restoreDraft, saveDraft, showComposerFor, stopTyping } from "./composer.js";
import * as socket from "./connection.js";
import { loadPanel, renderDetails } from "./details.js";
import { $ } from "./dom.js";
import { emit } from "./events.js";
import { refreshOpenHeader } from "./header.js";
import { onConversationUpdated, renderList } from "./list.js";
import { mergeConversation, putMessage, state } from "./state.js";
import { renderTranscript, scheduleTranscript } from "./transcript.js";
import { renderTyping } from "./typing.js";

const paneEmpty = $("[data-testid=no-conversation]");
const threadEl = $("[data-testid=conversation]");
let readTimer = null;
// How long a gap in the seqs may last before we fetch what is missing: the frame that fills
// it is usually on its way.
export const GAP_CHECK_MS = 2500;

export function openConversation(id) {
  if (state.open && state.open.id === id) return;
  closeConversation();
  restoreDraft(id);
  var open = {
    id: id,
    messages: new Map(), // seq -> message payload
    lastSeq: 0, // the highest seq up to which we hold every message
    loaded: false,
    subscribed: false,
    detail: null,
    error: null,
    contactReadSeq: 0,
    contactOnline: null,
    typers: new Map(), // "sender:name" -> {sender, name, until}
    panel: null, // the side panel's data: contact, product cards, past conversations
    panelError: null,
    readSent: 0,
    filling: false,
    stick: true, // keep the transcript scrolled to the bottom
  };
  state.open = open;
  state.unread.delete(id);
  state.alerts.delete(id);
  document.body.classList.add("has-open");
  paneEmpty.hidden = true;
  threadEl.hidden = false;
  refreshOpenHeader();
  renderTranscript();
  renderList();
  renderDetails();
  renderTyping();

  var detail = api(conversationUrl(id)).then(function (body) {
    if (state.open !== open) return;
    open.detail = body;
    open.contactReadSeq = Math.max(open.contactReadSeq, (body.read && body.read.contact) || 0);
    mergeConversation(body.conversation);
    refreshOpenHeader();
    renderDetails();
    renderList();
  });
  loadPanel(open);
  var messages = loadMessagesAfter(open, 0);
  Promise.all([detail, messages]).then(function () {
    if (state.open !== open) return;
    open.loaded = true;
    scheduleTranscript(true);
    if (socket.isOpen()) syncOpenConversation();
    markRead();
  }).catch(function (err) {
    if (state.open !== open) return;
    open.error = err;
    renderTranscript();
    refreshOpenHeader();
  });
  showComposerFor(id);
}

export function closeConversation() {
  var open = state.open;
  if (!open) return;
  stopTyping();
  closeCanned();
  saveDraft(open.id);
  if (open.subscribed) socket.send({ type: "unsubscribe", conversation: open.id });
  state.open = null;
  document.body.classList.remove("has-open");
  paneEmpty.hidden = false;
  threadEl.hidden = true;
  renderDetails();
  renderList();
  emit("change");
}

/** Fetch every message after `after` over HTTP, page by page, into `open`. */
function loadMessagesAfter(open, after) {
  return api(conversationUrl(open.id) + "/messages", { after: after, limit: 200 }).then(function (body) {
    if (state.open !== open) return null;
    body.messages.forEach(function (m) { putMessage(open, m); });
    scheduleTranscript();
    var last = body.messages.length ? body.messages[body.messages.length - 1].seq : after;
    if (body.has_more && last > after) return loadMessagesAfter(open, last);
    return null;
  });
}

/** Catch up over HTTP when the socket shows we are missing something. */
export function fillGap(open) {
  if (!open || open.filling || !open.loaded) return;
  open.filling = true;
  loadMessagesAfter(open, open.lastSeq).catch(function () { /* the next resume retries */ })
    .then(function () { open.filling = false; markRead(); });
}

/** Subscribe to the open conversation and ask for everything after the last seq we hold. */
export function syncOpenConversation() {
  var open = state.open;
  if (!open) return;
  socket.send({ type: "subscribe", conversation: open.id });
  socket.send({ type: "resume", conversation: open.id, seq: open.lastSeq });
  open.subscribed = true;
}

export function markRead() {
  clearTimeout(readTimer);
  readTimer = setTimeout(function () {
    var open = state.open;
    if (!open || !open.loaded || !socket.isOpen() || document.visibilityState !== "visible") return;
    if (open.lastSeq > open.readSent) {
      open.readSent = open.lastSeq;
      socket.send({ type: "read", conversation: open.id, seq: open.lastSeq });
    }
  }, 400);
}

/** Ask the server for a conversation we may have wrong (a refused action, an unknown id). */
export function refreshConversation(id) {
  api(conversationUrl(id)).then(function (body) {
    onConversationUpdated(body.conversation);
    if (state.open && state.open.id === id) {
      state.open.detail = body;
      refreshOpenHeader();
    }
  }).catch(function () { /* the next conversation.updated brings it */ });
}

export function wireConversation() {
  document.addEventListener("visibilitychange", markRead);
}
