// Staying connected: WebSocket when it works and long-polling when it does not (with probes to
// move back), reconnects with jittered backoff, a fresh token when the server refuses ours.
import { debug, TIMINGS } from "./config.js";
import { teardown } from "./connection.js";
import { handleFrame } from "./frames.js";
import { openLongPoll } from "./longpoll.js";
import { setFatal, updateUI } from "./panel.js";
import { forgetToken, S } from "./state.js";
import { obtainToken } from "./token.js";
import { openWebSocket, webSocketOpens } from "./websocket.js";

const AUTH_FAILURES_BEFORE_NEW_VISITOR = 3;

let reconnectTimer = null;
let backoffAttempt = 0;
let wsFailures = 0;
let authFailures = 0;
let probeTimer = null;
let probeDelay = TIMINGS.wsProbeFirstMs;
let upgrading = false; // the current socket comes from a successful probe

const events = {
  receive: receive,
  authFailed: onAuthFailed,
  fatal: disable,
  reconnect: () => scheduleReconnect(),
  failedBeforeWelcome: wsFailed,
};

export function connect() {
  clearTimeout(reconnectTimer);
  reconnectTimer = null;
  if (S.fatal) return;
  dropConnection();
  if (!S.token) {
    updateUI();
    obtainToken().then((r) => {
      if (r === true) connect();
      else if (r === "neterr") scheduleReconnect();
    });
    return;
  }
  const useWebSocket = S.mode === "websocket" || (S.mode === "auto" && !S.fellBack && typeof window.WebSocket === "function");
  S.transport = useWebSocket ? "websocket" : "longpoll";
  S.conn = useWebSocket ? openWebSocket(events) : openLongPoll(events);
  updateUI();
}

/** Back online or back in view: do not wait out a long backoff. */
export function wakeUp() {
  if (S.fatal) return;
  if (!S.connected && reconnectTimer) {
    backoffAttempt = Math.max(0, backoffAttempt - 1);
    connect();
  }
}

function dropConnection() {
  if (S.conn) teardown(S.conn);
  S.conn = null;
  S.connected = false;
}

function receive(c, frame) {
  const welcomedBefore = c.welcomed;
  handleFrame(c, frame);
  if (S.fatal) {
    dropConnection(); // an error frame made the widget unusable on this page
    return;
  }
  if (!welcomedBefore && c.welcomed) onWelcomed(c);
}

function onWelcomed(c) {
  clearTimeout(c.welcomeTimer);
  backoffAttempt = 0;
  authFailures = 0;
  if (c.kind === "websocket") {
    wsFailures = 0;
    S.wsEverWelcomed = true;
    upgrading = false;
    probeDelay = TIMINGS.wsProbeFirstMs;
  } else {
    if (S.fellBack) scheduleProbe();
    c.startPoll();
  }
}

function disable(reason) {
  clearTimeout(reconnectTimer);
  dropConnection();
  setFatal(reason);
}

function backoffDelay() {
  const exp = Math.min(TIMINGS.backoffCapMs, TIMINGS.backoffBaseMs * Math.pow(2, backoffAttempt));
  backoffAttempt++;
  return Math.round(exp / 2 + Math.random() * (exp / 2)); // "equal jitter"
}

function scheduleReconnect(delay) {
  if (S.fatal) return;
  dropConnection();
  clearTimeout(reconnectTimer);
  const ms = delay != null ? delay : backoffDelay();
  debug("reconnect in", ms, "ms");
  reconnectTimer = setTimeout(connect, ms);
  updateUI();
}

/** The server refused the token (4401 / HTTP 401): get a fresh one, then connect again. */
function onAuthFailed() {
  dropConnection();
  authFailures++;
  // Keep failing with this token: start over as a new visitor.
  if (authFailures > AUTH_FAILURES_BEFORE_NEW_VISITOR) forgetToken();
  updateUI();
  obtainToken().then((r) => {
    if (r === true) {
      if (authFailures > 1) scheduleReconnect();
      else connect();
    } else if (r === "neterr") scheduleReconnect();
  });
}

/** A socket that never got to `welcome`. In auto mode, fall back to long-polling at once
 *  (constructor threw, no welcome in time) or after a few such failures in a row. */
function wsFailed(c, immediate) {
  teardown(c);
  wsFailures++;
  if (S.mode === "auto") {
    // Once a socket has worked here, failures look like a server outage (a deploy), not a
    // network that blocks WebSocket: give it more tries before falling back.
    const limit = S.wsEverWelcomed ? TIMINGS.wsFailuresAfterSuccess : TIMINGS.wsFailuresBeforeFallback;
    if (upgrading || (immediate && !S.wsEverWelcomed) || wsFailures >= limit) {
      if (upgrading) probeDelay = Math.min(TIMINGS.wsProbeCapMs, probeDelay * 2);
      upgrading = false;
      S.fellBack = true;
      debug("falling back to long-polling");
      scheduleReconnect(0);
      return;
    }
  }
  scheduleReconnect();
}

function scheduleProbe() {
  if (probeTimer || S.mode !== "auto" || typeof window.WebSocket !== "function") return;
  probeTimer = setTimeout(probeWebSocket, probeDelay);
}

/** On a fallback, check now and then whether a socket opens again; if it does, move back
 *  to WebSocket (long-polling costs the server more). */
function probeWebSocket() {
  probeTimer = null;
  if (!S.fellBack || S.fatal || S.mode !== "auto") return;
  webSocketOpens().then((opens) => {
    if (opens && S.fellBack && !S.fatal) {
      debug("WebSocket reachable again, upgrading");
      S.fellBack = false;
      wsFailures = 0;
      upgrading = true;
      connect();
    } else {
      probeDelay = Math.min(TIMINGS.wsProbeCapMs, probeDelay * 2);
      scheduleProbe();
    }
  });
}
