// What the server says (docs/protocol.md), on either transport: one handler per frame type.
import { actionDone, actionFailed } from "./actions.js";
import { debug } from "./config.js";
import { applyConversation, handleDelta, handleMessage, switchConversation } from "./conversation.js";
import { markRead, setFatal, updateUI, updateUnread } from "./panel.js";
import { failItem, flushOutbox, handleAck } from "./sending.js";
import { messages, S, setToken } from "./state.js";
import { handleTyping } from "./typing.js";
import { now, sameId, toInt } from "./values.js";

export function handleFrame(c, f) {
  if (c !== S.conn || c.dead || !f || typeof f !== "object") return;
  c.lastFrameAt = now();
  debug("←", f.type, f);
  switch (f.type) {
    case "welcome":
      onWelcome(c, f);
      break;
    case "ack":
      handleAck(f);
      break;
    case "message.created":
    case "message.updated":
      handleMessage(f);
      break;
    case "message.delta":
      handleDelta(f);
      break;
    case "conversation.updated":
      if (f.data && (f.conversation == null || S.conversation == null || sameId(f.conversation, S.conversation))) {
        applyConversation(f.data);
      }
      break;
    case "typing":
      handleTyping(f);
      break;
    case "resumed":
      if (f.conversation == null || sameId(f.conversation, S.conversation)) {
        const seq = toInt(f.seq);
        if (seq != null && seq > S.lastSeq) S.lastSeq = seq;
        c.resumed = true;
        if (S.open) markRead();
        updateUnread();
      }
      break;
    case "resync":
      // The server dropped events meant for this page (it fell behind): catch up from what
      // we hold, as after a reconnect.
      if (S.conversation != null) c.send({ type: "resume", conversation: S.conversation, seq: resumeFrom() });
      break;
    case "error":
      handleError(f);
      break;
    case "action.done":
      actionDone(f); // actions.js: the answer to a request such as follow_up.request
      break;
    case "pong":
    case "presence":
    case "read":
      break;
    default:
      debug("unknown frame", f.type);
  }
}

/** The conversation's side of a welcome; the transport's side is in transport.js. */
function onWelcome(c, f) {
  const d = f.data || {};
  c.welcomed = true;
  if (typeof d.token === "string" && d.token) setToken(d.token);
  if (d.visitor) S.visitor = d.visitor;
  const conversation = d.conversation && typeof d.conversation === "object" ? d.conversation : null;
  const id = f.conversation != null ? f.conversation : conversation && conversation.id != null ? conversation.id : null;
  if (!sameId(id, S.conversation)) switchConversation(id);
  if (conversation) applyConversation(conversation);
  S.connected = true;
  S.everConnected = true;
  updateUI();
  if (S.conversation != null) c.send({ type: "resume", conversation: S.conversation, seq: resumeFrom() });
  flushOutbox();
  if (S.open) markRead();
}

// Where a resume starts: after the newest message we hold, or before the oldest reply still
// streaming here, whose final message.updated may be among what was missed.
function resumeFrom() {
  let from = S.lastSeq;
  for (const seq in messages.bySeq) {
    const item = messages.bySeq[seq];
    if (item.state === "streaming" && item.seq - 1 < from) from = item.seq - 1;
  }
  return Math.max(0, from);
}

function handleError(f) {
  const d = f.data || {};
  if (actionFailed(d)) return; // a request of actions.js was refused: it shows why
  const ref = d.ref;
  const item = typeof ref === "string" ? messages.byClient[ref] : null;
  if (item && item.local) {
    failItem(item, d);
    return;
  }
  if (d.code === "not_found" && (ref === "resume" || ref === "typing" || ref === "read")) {
    switchConversation(null);
    return;
  }
  if (d.code === "conversation_closed" && S.conversation != null) {
    S.status = "resolved";
    updateUI();
    return;
  }
  if (d.code === "origin_not_allowed") {
    setFatal("origin_not_allowed"); // transport.js closes the connection
    return;
  }
  if (window.console && d.code !== "token_invalid" && d.code !== "token_expired" && d.code !== "unauthenticated") {
    console.warn("[helpdesk] " + (d.code || "error") + (d.message ? ": " + d.message : ""));
  }
}
