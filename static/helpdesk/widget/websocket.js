// The WebSocket transport: hello on open, frames as JSON text, pings, and the close codes of
// docs/protocol.md. What happens next (reconnect, fall back) is transport.js's choice, through
// ``events``: {receive(c, frame), authFailed(), fatal(reason), reconnect(), failedBeforeWelcome(c, immediate)}.
import { config, debug, TIMINGS } from "./config.js";
import { newConnection } from "./connection.js";
import { S } from "./state.js";
import { now } from "./values.js";

const SOCKET_PATH = "/ws/widget/";

export function openWebSocket(events) {
  const c = newConnection("websocket");
  c.send = (frame) => {
    if (c.dead || !c.ws || c.ws.readyState !== 1) return false;
    debug("→", frame.type, frame);
    try {
      c.ws.send(JSON.stringify(frame));
      return true;
    } catch (e) {
      return false;
    }
  };
  try {
    c.ws = new window.WebSocket(config.wsBase + SOCKET_PATH);
  } catch (e) {
    debug("WebSocket constructor threw", e);
    // Asynchronously, so that this is the current connection when the failure is handled.
    setTimeout(() => {
      if (S.conn === c) events.failedBeforeWelcome(c, true);
    }, 0);
    return c;
  }
  c.welcomeTimer = setTimeout(() => {
    if (S.conn === c && !c.welcomed) {
      debug("no welcome within", TIMINGS.welcomeTimeoutMs, "ms");
      events.failedBeforeWelcome(c, true);
    }
  }, TIMINGS.welcomeTimeoutMs);
  c.ws.onopen = () => {
    if (S.conn !== c) return;
    c.send({ type: "hello", data: { inbox: config.inbox, token: S.token } });
  };
  c.ws.onmessage = (message) => {
    if (S.conn !== c) return;
    let frame;
    try {
      frame = JSON.parse(message.data);
    } catch (e) {
      return;
    }
    events.receive(c, frame);
  };
  c.ws.onerror = () => {
    /* onclose follows */
  };
  c.ws.onclose = (close) => {
    if (S.conn !== c || c.dead) return;
    const code = close && close.code;
    debug("socket closed", code, close && close.reason);
    if (code === 4401) events.authFailed();
    else if (code === 4403) events.fatal("origin_not_allowed");
    // 4503: a service behind the server is down. Reconnect (with backoff, on the same
    // transport: the socket itself worked) and resume from what we hold.
    else if (code === 4503) events.reconnect();
    else if (!c.welcomed && code !== 4408) events.failedBeforeWelcome(c, false);
    else events.reconnect();
  };
  c.pingTimer = setInterval(() => {
    if (S.conn !== c || c.dead || !c.welcomed) return;
    if (now() - c.lastFrameAt > TIMINGS.silenceLimitMs) {
      debug("socket silent, reconnecting");
      events.reconnect();
      return;
    }
    c.send({ type: "ping" });
  }, TIMINGS.pingIntervalMs);
  return c;
}

/** Resolves whether a socket opens now (it is closed again at once). */
export function webSocketOpens() {
  return new Promise((resolve) => {
    let ws = null;
    let settled = false;
    const finish = (ok) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (ws) {
        ws.onopen = ws.onerror = ws.onclose = null;
        try {
          ws.close(1000);
        } catch (e) {
          /* ignore */
        }
      }
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), TIMINGS.welcomeTimeoutMs);
    try {
      ws = new window.WebSocket(config.wsBase + SOCKET_PATH);
    } catch (e) {
      finish(false);
      return;
    }
    ws.onopen = () => finish(true);
    ws.onerror = ws.onclose = () => finish(false);
  });
}
