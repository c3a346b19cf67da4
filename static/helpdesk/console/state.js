// What the console knows: conversations by id, the open one and its messages by seq, the
// current view, outgoing messages not yet confirmed. The database is the source of truth: this
// is a cache of it that the socket's events and the API's answers keep up to date.
import { ME } from "./boot.js";
import { parseTime } from "./time.js";

export const state = {
  view: "all",
  conversations: new Map(), // id -> conversation payload (list rows and live updates)
  listLoaded: false,
  listError: null,
  listToken: 0,
  listIds: new Set(), // the rows of the current view (filtered again on every render)
  arrivedDuringLoad: new Set(), // live updates that a list load in flight may not include
  nextCursor: null,
  unread: new Set(),
  open: null, // the open conversation, see openConversation() in conversation.js
  pending: new Map(), // client_id -> outgoing message not yet confirmed by message.created
  alerts: new Map(), // conversation id -> notification kind not yet looked at (queued/assigned/waiting)
  waiting: new Set(), // queued conversations the server reminded us of ("waiting")
  action: null, // the conversation action waiting for its answer, see runAction() in actions.js
  selfAssigned: new Map(), // conversation id -> when we took it ourselves (no "assigned to you" ping)
  detailsVisible: window.matchMedia("(min-width: 1200px)").matches,
};

export function byActivity(a, b) {
  var ta = parseTime(a.last_message_at);
  var tb = parseTime(b.last_message_at);
  if (ta !== tb) {
    if (ta === null) return 1;
    if (tb === null) return -1;
    return tb - ta;
  }
  return b.id - a.id;
}

export function inView(conversation, view) {
  switch (view) {
    case "bot": return conversation.status === "bot";
    case "queued": return conversation.status === "queued";
    case "mine": return conversation.assignee === ME.id && conversation.status !== "resolved";
    case "follow_up": return conversation.follow_up === true && conversation.status !== "resolved";
    default: return true;
  }
}

/** Merge a conversation snapshot; an older snapshot never rolls back the last message. */
export function mergeConversation(data) {
  if (!data || typeof data.id !== "number") return null;
  var old = state.conversations.get(data.id);
  var merged = Object.assign({}, old || {}, data);
  if (old && typeof old.last_seq === "number" && typeof data.last_seq === "number" && data.last_seq < old.last_seq) {
    merged.last_seq = old.last_seq;
    merged.last_message_at = old.last_message_at;
    merged.last_message = old.last_message;
  } else if (!data.last_message && old && old.last_message) {
    // Status-only updates carry no last message; keep the preview we have.
    merged.last_message = old.last_message;
  }
  state.conversations.set(data.id, merged);
  return { old: old, now: merged };
}

export function currentConversation() {
  return state.open ? state.conversations.get(state.open.id) || null : null;
}

/** The open conversation for add-ons: {id, error (when it could not be loaded)}, or null. */
export function openConversationInfo() {
  return state.open ? { id: state.open.id, error: state.open.error } : null;
}

/** The outgoing messages of a conversation, in the order they were written. */
export function pendingFor(conversationId) {
  var list = [];
  state.pending.forEach(function (p) { if (p.conversation === conversationId) list.push(p); });
  return list.sort(function (a, b) { return a.order - b.order; });
}

function advanceLastSeq(open) {
  while (open.messages.has(open.lastSeq + 1) && !open.messages.get(open.lastSeq + 1)._placeholder) {
    open.lastSeq += 1;
  }
}

export function putMessage(open, m) {
  if (!m || typeof m.seq !== "number") return;
  var existing = open.messages.get(m.seq);
  // A stored copy replaces a placeholder built from deltas; between stored copies the newer
  // state wins, and a late "streaming" copy never overwrites a finished one.
  if (existing && !existing._placeholder && existing.state !== "streaming" && m.state === "streaming") return;
  open.messages.set(m.seq, Object.assign({}, m));
  if (m.client_id && state.pending.has(m.client_id)) state.pending.delete(m.client_id);
  advanceLastSeq(open);
}
