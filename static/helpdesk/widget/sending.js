// Sending own messages: the outbox goes out on the connection, acks settle it, refusals fail
// a message (rate limits retry by themselves) or move it to a new conversation.
import { dropItem, handleMessage, onNewContent, register, switchConversation } from "./conversation.js";
import { humanError } from "./errors.js";
import { addToOutbox, clearRetryTimer, pendingItem, removeFromOutbox, saveOutbox } from "./outbox.js";
import { updateUI } from "./panel.js";
import { prechatAnswers, prechatHolds, prechatRefused } from "./prechat.js";
import { render } from "./render.js";
import { liveConnection, messages, outbox, S } from "./state.js";
import { uploadIds, uploadsDone, whenUploaded } from "./uploads.js";
import { newClientId, now, toInt } from "./values.js";

const RATE_LIMIT_DEFAULT_WAIT_S = 5;

export function sendText(text, uploads) {
  const item = pendingItem(newClientId(), String(text), new Date().toISOString());
  if (uploads && uploads.length) item.uploads = uploads; // files (uploads.js): sent once they are up
  addToOutbox(item);
  render(item);
  onNewContent(true);
  awaitUploads(item);
  flushOutbox();
  return item.client_id;
}

/** Send every unacknowledged message not sent on this connection yet. While there is no
 *  conversation, send one at a time: its ack tells the id the others go to. */
export function flushOutbox() {
  const connection = liveConnection();
  if (!connection) return;
  for (const item of outbox) {
    if (item.state !== "pending") continue;
    if (!uploadsDone(item.uploads)) return; // its files are still going up: it, and what follows, wait
    if (item.sentGen === connection.gen) {
      if (S.conversation == null) return; // waiting for the first message's ack
      continue;
    }
    if (S.conversation == null && prechatHolds()) return; // the pre-chat form first (prechat.js)
    item.sentGen = connection.gen;
    const data = { client_id: item.client_id, text: item.text };
    if (S.conversation == null && prechatAnswers()) data.prechat = prechatAnswers();
    if (item.uploads && item.uploads.length) data.attachments = uploadIds(item.uploads);
    connection.send({ type: "message.send", conversation: S.conversation, data: data });
    if (S.conversation == null) return;
  }
}

export function handleAck(frame) {
  const d = frame.data || {};
  if (frame.conversation != null && S.conversation == null) switchConversation(frame.conversation);
  const item = d.client_id ? messages.byClient[d.client_id] : null;
  if (!item) return;
  removeFromOutbox(item);
  clearRetryTimer(item);
  const seq = toInt(frame.seq != null ? frame.seq : d.seq);
  if (seq != null) {
    const other = messages.bySeq[seq];
    if (other && other !== item) {
      // message.created got here first without a client_id match: keep the stored one
      dropItem(item);
      flushOutbox();
      updateUI();
      return;
    }
    item.seq = seq;
  }
  if (d.id != null) item.id = d.id;
  if (item.state === "pending" || item.state === "failed") item.state = "sent";
  item.error = null;
  register(item);
  render(item);
  if (d.message && typeof d.message === "object" && d.message.client_id === d.client_id) {
    // The server sends the stored message along: show it in full (final state, metadata).
    handleMessage({ type: "message.created", conversation: frame.conversation, seq: seq, data: d.message }, true);
  }
  flushOutbox();
  updateUI();
}

export function retryItem(item) {
  clearRetryTimer(item);
  if (item.state !== "failed") return;
  item.state = "pending";
  item.error = null;
  item.sentGen = null;
  if (outbox.indexOf(item) < 0) outbox.push(item);
  saveOutbox();
  render(item);
  updateUI();
  awaitUploads(item); // only the files not up yet are uploaded again
  flushOutbox();
}

/** A message with files goes out when they are uploaded; a failed upload fails the message. */
function awaitUploads(item) {
  if (!item.uploads || uploadsDone(item.uploads)) return;
  for (const entry of item.uploads) entry.onchange = () => render(item);
  whenUploaded(
    item.uploads,
    () => {
      saveOutbox(); // now with the files' ids, for a reload
      render(item);
      flushOutbox();
    },
    (error) => {
      if (item.state === "pending") failItem(item, error);
    },
  );
}

/** The server refused an own message (error frame ``data``, whose ref is its client id). */
export function failItem(item, data) {
  const code = data.code;
  if (code === "prechat_required" || code === "prechat_invalid") {
    // The answers were refused: the message waits for the form (shown again with the error).
    item.sentGen = null;
    prechatRefused(data);
    return;
  }
  if ((code === "conversation_closed" || code === "not_found") && !item.restarted) {
    // The conversation was resolved (or is gone): this message starts a new one.
    item.restarted = true;
    if (code === "conversation_closed" && S.conversation != null) S.status = "resolved";
    item.sentGen = null;
    switchConversation(null);
    flushOutbox();
    return;
  }
  removeFromOutbox(item);
  clearRetryTimer(item);
  item.state = "failed";
  if (code === "rate_limited") {
    let wait = toInt(data.retry_after);
    if (wait == null || wait < 1) wait = RATE_LIMIT_DEFAULT_WAIT_S;
    const until = now() + wait * 1000;
    item.error = humanError(data, wait);
    item.retryTimer = setInterval(() => {
      const left = Math.ceil((until - now()) / 1000);
      if (left <= 0) {
        clearRetryTimer(item);
        retryItem(item);
        return;
      }
      item.error = humanError(data, left);
      render(item);
    }, 1000);
  } else {
    item.error = humanError(data);
  }
  render(item);
  updateUI();
}
