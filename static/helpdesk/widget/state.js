// What the widget knows: connection and conversation state, the messages it holds and the
// messages not acknowledged yet. Modules change these objects in place.
import { config } from "./config.js";
import { store } from "./storage.js";
import { sameId } from "./values.js";

export const S = {
  mode: config.mode, // "auto" | "websocket" | "longpoll"
  transport: null, // the transport in use: "websocket" | "longpoll"
  conn: null, // the current connection (connection.js)
  fellBack: false, // auto mode gave up on WebSocket (for now: see transport.js, probes)
  wsEverWelcomed: false, // a socket got to welcome on this page: WebSocket is not blocked here
  connected: false,
  everConnected: false,
  conversation: null,
  status: null, // bot | queued | assigned | resolved (null: no conversation yet)
  assignee: null,
  rating: null, // the conversation's rating ({score, scale, comment}) once given (rating.js)
  lastSeq: 0, // newest seq of a stored message we hold (created/updated/resumed)
  token: store.get("token"),
  visitor: null,
  greeting: null,
  options: null, // the inbox's widget options (/widget/api/visitor's `options`, docs/widget.md)
  identityUser: null, // {name, email} the site gave with a verified identity (identity.js)
  open: false,
  fatal: null, // a reason the widget cannot work on this page (e.g. origin_not_allowed)
  unread: 0,
  readSent: 0,
};

// Messages of the current conversation, by seq, by server id and by client id.
export const messages = { bySeq: {}, byId: {}, byClient: {} };

// Own messages not acknowledged yet, in the order they were written.
export const outbox = [];

/** The current connection when frames can go out on it, else null. */
export function liveConnection() {
  return S.connected && S.conn && S.conn.welcomed ? S.conn : null;
}

/** A frame about another conversation than ours (a late one, from before a switch). */
export function isForAnotherConversation(frame) {
  return frame.conversation != null && S.conversation != null && !sameId(frame.conversation, S.conversation);
}

export function setToken(token) {
  S.token = token;
  store.set("token", token);
}

export function forgetToken() {
  S.token = null;
  store.del("token");
}
