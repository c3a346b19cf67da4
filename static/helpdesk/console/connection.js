// The WebSocket to the server (/ws/console/, docs/protocol.md): connecting, reconnecting with
// backoff, the heartbeat, and the connection status in the top bar. What the frames mean is
// frames.js's business.
import { signInAgain } from "./api.js";
import { boot } from "./boot.js";
import { $ } from "./dom.js";
import { toast } from "./toast.js";
import { gettext } from "../shared/i18n.js";

const PING_EVERY_MS = 25000;
const PONG_TIMEOUT_MS = 10000;
const BACKOFF_MAX_MS = 30000;

const connEl = $("[data-testid=connection-status]");
const connText = $(".conn__text", connEl);
const retryBtn = $("[data-testid=reconnect-now]");
let ws = null;
let attempts = 0;
let reconnectTimer = null;
let pingTimer = null;
let pongTimer = null;
let everConnected = false;
let stopped = false;
let handlers = null;

function setConnection(kind, text) {
  connEl.setAttribute("data-state", kind);
  connText.textContent = text;
  retryBtn.hidden = kind !== "reconnecting";
  document.body.setAttribute("data-connection", kind);
}

function url() {
  var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return scheme + "//" + window.location.host + boot.urls.socket;
}

export function isOpen() { return !!ws && ws.readyState === WebSocket.OPEN; }

/** Send a frame now; false when the socket is not open (nothing is queued here). */
export function send(frame) {
  if (!isOpen()) return false;
  try { ws.send(JSON.stringify(frame)); return true; } catch (e) { return false; }
}

function connect() {
  if (stopped) return;
  clearTimeout(reconnectTimer);
  reconnectTimer = null;
  if (everConnected || attempts) setConnection("reconnecting", gettext("Reconnecting…"));
  else setConnection("connecting", gettext("Connecting…"));
  var sock;
  try {
    sock = new WebSocket(url());
  } catch (e) {
    schedule();
    return;
  }
  ws = sock;
  sock.onopen = function () {
    if (ws !== sock) return;
    setConnection("online", gettext("Live"));
    var again = everConnected;
    everConnected = true;
    heartbeat();
    handlers.onConnected(again);
  };
  sock.onmessage = function (event) {
    if (ws !== sock) return;
    var frame;
    try { frame = JSON.parse(event.data); } catch (e) { return; }
    if (!frame || typeof frame !== "object") return;
    if (frame.type === "welcome" || frame.type === "pong") attempts = 0;
    if (frame.type === "pong") clearTimeout(pongTimer);
    handlers.onFrame(frame);
  };
  sock.onclose = function (event) {
    if (ws !== sock) return;
    ws = null;
    stopHeartbeat();
    handlers.onDisconnected();
    if (event.code === 4403) {
      stopped = true;
      setConnection("offline", gettext("Access removed"));
      toast(gettext("Your access to the console was removed."), "error");
      return;
    }
    if (event.code === 4401) {
      stopped = true;
      setConnection("offline", gettext("Signed out"));
      signInAgain();
      return;
    }
    schedule();
  };
  sock.onerror = function () { /* onclose follows and schedules the retry */ };
}

function schedule() {
  if (stopped || reconnectTimer) return;
  attempts += 1;
  // Exponential backoff with jitter, so a restarted server is not hit by every console at once.
  var base = Math.min(BACKOFF_MAX_MS, 1000 * Math.pow(2, Math.min(attempts - 1, 5)));
  var delay = Math.round(base / 2 + Math.random() * base / 2);
  setConnection("reconnecting", gettext("Reconnecting…"));
  connEl.setAttribute("data-retry-in", String(delay));
  reconnectTimer = setTimeout(connect, delay);
}

/** Reconnect at once instead of waiting out the backoff (the "Retry now" button, back online). */
function reconnectNow() {
  if (stopped) return;
  if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) return;
  clearTimeout(reconnectTimer);
  reconnectTimer = null;
  connect();
}

function heartbeat() {
  stopHeartbeat();
  pingTimer = setInterval(function () {
    if (!send({ type: "ping" })) return;
    clearTimeout(pongTimer);
    // No pong: the connection is dead without having said so (sleeping laptop, proxy).
    pongTimer = setTimeout(function () { if (ws) ws.close(4000, "no pong"); }, PONG_TIMEOUT_MS);
  }, PING_EVERY_MS);
}

function stopHeartbeat() {
  clearInterval(pingTimer);
  clearTimeout(pongTimer);
}

/** Connect, and keep connected. `onConnected(again)` runs on every open (`again` after a
 * reconnect), `onDisconnected()` on every close, `onFrame(frame)` for every frame. */
export function start(frameHandlers) {
  handlers = frameHandlers;
  retryBtn.addEventListener("click", reconnectNow);
  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") reconnectNow();
  });
  connect();
}
