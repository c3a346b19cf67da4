// What the page's <script> tag asks for (docs/widget.md, "Attributes") and the widget's timings.

export const VERSION = "1.0.0";

export const TIMINGS = {
  welcomeTimeoutMs: 5000, // no welcome on a WebSocket within this → fall back to long-poll
  wsFailuresBeforeFallback: 2, // sockets that error/close before welcome, in a row
  wsFailuresAfterSuccess: 5, // the same once WebSocket has worked on this page (outage?)
  wsProbeFirstMs: 30000, // on a fallback, try WebSocket again after this…
  wsProbeCapMs: 15 * 60000, // …doubling up to this
  backoffBaseMs: 1000,
  backoffCapMs: 30000,
  pingIntervalMs: 25000,
  silenceLimitMs: 65000, // no frame at all (not even a pong) for this long → reconnect
  pollTimeoutMs: 40000, // the server holds a poll ~25 s
  sendTimeoutMs: 15000,
  pollMinIntervalMs: 1000, // never spin: an empty answer in under this waits a little
  typingThrottleMs: 3000,
  typingIdleMs: 4000,
  remoteTypingTtlMs: 10000,
  outboxMax: 50,
};

const DEFAULT_ACCENT = "#4f46e5";

function findScript() {
  const current = document.currentScript; // null for async scripts in some browsers
  if (current && current.hasAttribute && current.hasAttribute("data-inbox")) return current;
  const scripts = document.querySelectorAll("script[data-inbox]");
  let fallback = null;
  for (let i = scripts.length - 1; i >= 0; i--) {
    const src = scripts[i].getAttribute("src") || "";
    if (/widget(?:\.[\w-]+)?\.js(?:[?#]|$)/.test(src)) return scripts[i];
    if (!fallback && src) fallback = scripts[i];
  }
  return fallback;
}

function baseUrlFrom(script) {
  const override = script.getAttribute("data-host"); // optional: API host ≠ the script's host
  let url;
  try {
    url = new URL(override || script.getAttribute("src") || script.src, document.baseURI);
  } catch (e) {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  let path = url.pathname;
  if (override) path = path.replace(/\/+$/, "");
  else {
    // https://HOST[/prefix]/static/helpdesk/widget.js → https://HOST[/prefix]
    const at = path.indexOf("/static/");
    path = at >= 0 ? path.slice(0, at) : "";
  }
  return url.origin + path;
}

function isOn(script, name) {
  return /^(1|true|yes)$/i.test(script.getAttribute(name) || "");
}

/** The settings of this page's tag; ``problem`` says why the widget cannot start, if it can't. */
function readConfig() {
  const script = typeof document === "undefined" ? null : findScript();
  if (!script) return { problem: "no <script data-inbox> tag found", inbox: "" };
  const inbox = (script.getAttribute("data-inbox") || "").trim();
  const httpBase = baseUrlFrom(script);
  if (!inbox || !httpBase) return { problem: "data-inbox or a http(s) src is missing", inbox: "" };
  const forced = (script.getAttribute("data-transport") || "").toLowerCase();
  const color = script.getAttribute("data-color") || "";
  return {
    problem: null,
    inbox: inbox,
    httpBase: httpBase,
    wsBase: httpBase.replace(/^http/, "ws"), // http → ws, https → wss
    mode: forced === "longpoll" || forced === "websocket" ? forced : "auto",
    debug: isOn(script, "data-debug"),
    title: (script.getAttribute("data-title") || "").trim(), // empty: the translated default
    accent: /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i.test(color) ? color : DEFAULT_ACCENT,
    startOpen: isOn(script, "data-open"),
    locale: (script.getAttribute("data-locale") || "").trim().slice(0, 35), // empty: the server decides
    theme: (script.getAttribute("data-theme") || "auto").trim().toLowerCase(), // light | dark | auto (theme.js)
  };
}

// Read while the script runs: document.currentScript is only set then.
export const config = readConfig();

export function debug(...args) {
  if (config.debug && window.console) console.debug("[helpdesk]", ...args);
}
