// The current conversation: its messages as the server stores and streams them, its status,
// and the switch to another conversation.
import { nearBottom, scrollToBottom, ui } from "./dom.js";
import { clearRetryTimer, removeFromOutbox } from "./outbox.js";
import { markRead, updateUI, updateUnread } from "./panel.js";
import { currentGroup, newGroup, render } from "./render.js";
import { isForAnotherConversation, messages, outbox, S } from "./state.js";
import { clearAllRemoteTyping, clearRemoteTyping } from "./typing.js";
import { sameId, toInt } from "./values.js";

export function register(item) {
  if (item.seq != null) messages.bySeq[item.seq] = item;
  if (item.id != null) messages.byId[item.id] = item;
  if (item.client_id) messages.byClient[item.client_id] = item;
}

export function dropItem(item) {
  if (item.el && item.el.parentNode) item.el.parentNode.removeChild(item.el);
  if (item.seq != null && messages.bySeq[item.seq] === item) delete messages.bySeq[item.seq];
  if (item.id != null && messages.byId[item.id] === item) delete messages.byId[item.id];
  if (item.client_id && messages.byClient[item.client_id] === item) delete messages.byClient[item.client_id];
  removeFromOutbox(item);
}

/** The conversation changed (a new one started, or the server has another): keep the old
 *  messages on screen above a divider, start counting seqs afresh, keep unsent messages. */
export function switchConversation(newId) {
  if (sameId(newId, S.conversation)) return;
  const hadStored = Object.keys(messages.bySeq).length > 0;
  for (const seq in messages.bySeq) {
    const item = messages.bySeq[seq];
    if (item.state === "streaming" && item.el) item.el.setAttribute("data-state", "interrupted");
  }
  messages.bySeq = {};
  messages.byId = {};
  messages.byClient = {};
  const group = hadStored && ui.list ? newGroup(true) : currentGroup();
  for (const item of outbox) {
    item.seq = null;
    item.id = null;
    item.group = group;
    messages.byClient[item.client_id] = item;
    if (item.el) group.appendChild(item.el);
  }
  S.conversation = newId == null ? null : newId;
  S.lastSeq = 0;
  S.readSent = 0;
  S.status = null;
  S.assignee = null;
  S.rating = null; // rating.js
  clearAllRemoteTyping();
  if (S.conn && S.conn.kind === "longpoll" && S.conn.welcomed) S.conn.restartPoll();
  updateUI();
}

export function applyConversation(c) {
  if (!c || typeof c !== "object") return;
  if (c.id != null && S.conversation != null && !sameId(c.id, S.conversation)) return;
  if (typeof c.status === "string") S.status = c.status;
  if (c.rating !== undefined) S.rating = c.rating && typeof c.rating === "object" ? c.rating : null; // rating.js
  if (c.assignee === null) S.assignee = null;
  else if (c.assignee && typeof c.assignee === "object") {
    const name = c.assignee.name || c.assignee.display_name || c.assignee.username;
    S.assignee = typeof name === "string" && name.trim() ? name.trim() : null;
  } else if (typeof c.assignee === "string") S.assignee = c.assignee;
  // The server sends the assignee as an id with its display name beside it.
  if (typeof c.assignee_name === "string" && c.assignee_name.trim()) S.assignee = c.assignee_name.trim();
  if (S.status === "resolved") clearAllRemoteTyping();
  updateUI();
}

export function onNewContent(own) {
  if (own || S.open) scrollToBottom();
  if (S.open) markRead();
  updateUnread();
}

/** message.created / message.updated, or the stored copy an ack carries (``fromAck``). */
export function handleMessage(frame, fromAck) {
  const d = frame.data;
  if (!d || typeof d !== "object") return;
  if (d.kind === "note") return; // private notes never reach customers; ignore if one does
  if (isForAnotherConversation(frame)) return;
  const seq = toInt(d.seq != null ? d.seq : frame.seq);
  let item = d.client_id ? messages.byClient[d.client_id] || null : null;
  const other = (seq != null && messages.bySeq[seq]) || (d.id != null && messages.byId[d.id]) || null;
  if (item && other && other !== item) dropItem(other); // a placeholder for the same message
  if (!item) item = other;
  const isNew = !item;
  const wasLocal = !!(item && item.local);
  if (!item) item = {};
  const stick = nearBottom();
  item.seq = seq;
  if (d.id != null) item.id = d.id;
  if (d.client_id) item.client_id = d.client_id;
  item.sender = typeof d.sender === "string" ? d.sender : item.sender || "bot";
  item.sender_name = typeof d.sender_name === "string" ? d.sender_name : item.sender_name || "";
  item.kind = typeof d.kind === "string" ? d.kind : "text";
  item.text = typeof d.text === "string" ? d.text : item.text || "";
  item.metadata = d.metadata && typeof d.metadata === "object" ? d.metadata : item.metadata || {};
  if (Array.isArray(d.attachments)) item.attachments = d.attachments; // attachment-view.js
  item.state = typeof d.state === "string" ? d.state : "complete";
  item.created_at = d.created_at || item.created_at;
  item.local = false;
  item.error = null;
  clearRetryTimer(item);
  removeFromOutbox(item);
  register(item);
  // An ack's copy is not a broadcast: a message stored just before ours may still be on its way,
  // so an ack moves lastSeq (what resume asks after) only when it is the very next seq. The
  // connection that sent a message gets no message.created for it: the ack is its copy.
  if (seq != null && seq > S.lastSeq && (!fromAck || seq === S.lastSeq + 1)) S.lastSeq = seq;
  render(item);
  if (item.sender !== "contact") clearRemoteTyping(item.sender);
  if (isNew) onNewContent(item.sender === "contact");
  else {
    if (S.open && stick) scrollToBottom();
    if (S.open) markRead();
    updateUnread();
  }
  if (wasLocal) updateUI();
}

/** message.delta: a streamed reply grows. */
export function handleDelta(frame) {
  const d = frame.data || {};
  if (isForAnotherConversation(frame)) return;
  const seq = toInt(frame.seq != null ? frame.seq : d.seq);
  let item = (seq != null && messages.bySeq[seq]) || (d.id != null && messages.byId[d.id]) || null;
  if (item && item.state !== "streaming") return; // the final text is here already
  const stick = nearBottom();
  const isNew = !item;
  if (!item) {
    item = {
      seq: seq,
      id: d.id != null ? d.id : null,
      sender: typeof d.sender === "string" ? d.sender : "bot",
      sender_name: typeof d.sender_name === "string" ? d.sender_name : typeof d.name === "string" ? d.name : "",
      kind: "text",
      text: "",
      metadata: {},
      state: "streaming",
    };
    register(item);
  }
  if (typeof d.delta === "string") item.text += d.delta;
  render(item);
  clearRemoteTyping(item.sender);
  if (S.open && (isNew || stick)) scrollToBottom();
}
