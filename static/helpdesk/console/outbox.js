// The agent's outgoing messages until the server has them: sent over the socket with a client
// id, sent again after a reconnect, retried or discarded by the agent when refused.
import * as socket from "./connection.js";
import { fillGap, GAP_CHECK_MS } from "./conversation.js";
import { state } from "./state.js";
import { toast } from "./toast.js";
import { scheduleTranscript } from "./transcript.js";
import { uploadIds, uploadsDone, whenUploaded } from "./uploads.js";
import { fileErrorText } from "./attachments.js";
import { gettext, interpolate } from "../shared/i18n.js";

let pendingOrder = 0;

function newClientId() {
  var c = window.crypto;
  if (c && typeof c.randomUUID === "function") {
    try { return c.randomUUID(); } catch (e) { /* insecure context: fall through */ }
  }
  if (c && typeof c.getRandomValues === "function") {
    var bytes = new Uint8Array(16);
    c.getRandomValues(bytes);
    return "c-" + Array.prototype.map.call(bytes, function (b) {
      return (b + 0x100).toString(16).slice(1);
    }).join("");
  }
  return "c-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12) +
    Math.random().toString(36).slice(2, 12);
}

/** Send a message (kind "text" or "note") to a conversation, with files (uploads.js entries)
 *  sent once they are uploaded; it shows as pending until stored. */
export function queueMessage(conversationId, text, kind, uploads) {
  var p = {
    clientId: newClientId(),
    conversation: conversationId,
    text: text,
    kind: kind,
    state: "pending",
    error: null,
    order: ++pendingOrder,
    createdAt: new Date().toISOString(),
    sentAt: 0,
    uploads: uploads && uploads.length ? uploads : null,
  };
  state.pending.set(p.clientId, p);
  scheduleTranscript(true);
  awaitUploads(p);
  transmit(p);
}

function transmit(p) {
  if (!socket.isOpen()) return; // it goes out when the socket is back
  if (!uploadsDone(p.uploads)) return; // it goes out when its files are up (awaitUploads)
  p.sentAt = Date.now();
  var data = { client_id: p.clientId, text: p.text, kind: p.kind };
  if (p.uploads) data.attachments = uploadIds(p.uploads);
  socket.send({ type: "message.send", conversation: p.conversation, data: data });
}

/** Upload the message's files not up yet (never again those that are), then send it; a failed
 *  upload fails the message. */
function awaitUploads(p) {
  if (!p.uploads || uploadsDone(p.uploads)) return;
  p.uploads.forEach(function (entry) { entry.onchange = function () { scheduleTranscript(); }; });
  whenUploaded(p.uploads, function () {
    if (state.pending.get(p.clientId) !== p || p.state !== "pending") return;
    scheduleTranscript();
    transmit(p);
  }, function (error) {
    if (state.pending.get(p.clientId) !== p) return;
    p.state = "failed";
    p.error = fileErrorText(error);
    scheduleTranscript();
  });
}

export function retry(clientId) {
  var p = state.pending.get(clientId);
  if (!p) return;
  p.state = "pending";
  p.error = null;
  scheduleTranscript();
  awaitUploads(p);
  transmit(p);
}

export function discard(clientId) {
  state.pending.delete(clientId);
  scheduleTranscript();
}

/** After a reconnect: what never reached the server goes out now. */
export function resendPending() {
  state.pending.forEach(function (p) { if (p.state === "pending") transmit(p); });
}

export function onAck(frame) {
  var data = frame.data || {};
  var p = state.pending.get(data.client_id);
  if (!p) return;
  var open = state.open;
  if (open && open.id === p.conversation && open.messages.has(frame.seq)) {
    state.pending.delete(p.clientId);
    scheduleTranscript();
    return;
  }
  p.state = "acked";
  p.seq = frame.seq;
  // message.created normally follows the ack at once; if it does not, fetch the message.
  setTimeout(function () {
    if (state.pending.get(p.clientId) !== p) return;
    state.pending.delete(p.clientId);
    if (state.open && state.open.id === p.conversation) fillGap(state.open);
    scheduleTranscript();
  }, GAP_CHECK_MS);
}

/** An `error` frame that refuses one of our messages (its `ref` is the client id); true when it
 * was one. */
export function messageRefused(frame) {
  var data = frame.data || {};
  var p = data.ref ? state.pending.get(data.ref) : null;
  if (!p) return false;
  if (data.code === "rate_limited") {
    var wait = Math.max(1, Number(data.retry_after) || 5);
    toast(interpolate(gettext("Sending too fast — retrying in %(seconds)s s."), { seconds: wait }), "warn");
    setTimeout(function () { if (state.pending.get(p.clientId) === p && p.state === "pending") transmit(p); }, wait * 1000);
    return true;
  }
  p.state = "failed";
  p.error = data.message || data.code || gettext("refused");
  scheduleTranscript();
  return true;
}
