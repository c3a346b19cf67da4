/*!
 * Helpdesk chat widget. Embed it with one tag:
 *
 *   <script src="https://HOST/static/helpdesk/widget.js" data-inbox="KEY" async></script>
 *
 * No dependencies, no build step. Speaks the realtime protocol of docs/protocol.md over
 * WebSocket and falls back to HTTP long-polling by itself. Documentation: docs/widget.md.
 *
 * Security rules kept throughout this file: every piece of text that comes from the network is
 * put on the page with textContent / createTextNode, never as HTML; only http(s) URLs become
 * links or images; the visitor token never travels in a URL.
 */
(function () {
  "use strict";

  var VERSION = "1.0.0";

  if (typeof window === "undefined" || !window.document) return;
  // Loaded twice on the same page (two tags, or an SPA re-inserting it): keep the first one.
  if (window.HelpdeskWidget && window.HelpdeskWidget.version) return;

  // ----------------------------------------------------------------------------------------------
  // Tunables
  // ----------------------------------------------------------------------------------------------
  var WELCOME_TIMEOUT_MS = 5000; // no welcome on a WebSocket within this → fall back to long-poll
  var WS_FAILURES_BEFORE_FALLBACK = 2; // sockets that error/close before welcome, in a row
  var WS_FAILURES_AFTER_SUCCESS = 5; // the same once WebSocket has worked on this page (outage?)
  var WS_PROBE_FIRST_MS = 30000; // on a fallback, try WebSocket again after this…
  var WS_PROBE_CAP_MS = 15 * 60000; // …doubling up to this
  var BACKOFF_BASE_MS = 1000;
  var BACKOFF_CAP_MS = 30000;
  var PING_INTERVAL_MS = 25000;
  var SILENCE_LIMIT_MS = 65000; // no frame at all (not even a pong) for this long → reconnect
  var POLL_TIMEOUT_MS = 40000; // the server holds a poll ~25 s
  var SEND_TIMEOUT_MS = 15000;
  var POLL_MIN_INTERVAL_MS = 1000; // never spin: an empty answer in under this waits a little
  var TYPING_THROTTLE_MS = 3000;
  var TYPING_IDLE_MS = 4000;
  var REMOTE_TYPING_TTL_MS = 10000;
  var OUTBOX_MAX = 50;

  // ----------------------------------------------------------------------------------------------
  // Find our own <script> tag and derive the server's base URLs from it
  // ----------------------------------------------------------------------------------------------
  function findScript() {
    var cur = document.currentScript; // null for async scripts in some browsers
    if (cur && cur.hasAttribute && cur.hasAttribute("data-inbox")) return cur;
    var scripts = document.querySelectorAll("script[data-inbox]");
    var fallback = null;
    for (var i = scripts.length - 1; i >= 0; i--) {
      var src = scripts[i].getAttribute("src") || "";
      if (/widget(?:\.[\w-]+)?\.js(?:[?#]|$)/.test(src)) return scripts[i];
      if (!fallback && src) fallback = scripts[i];
    }
    return fallback;
  }

  function baseUrlFrom(script) {
    var override = script.getAttribute("data-host"); // optional: API host ≠ the script's host
    var u;
    try {
      u = new URL(override || script.getAttribute("src") || script.src, document.baseURI);
    } catch (e) {
      return null;
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") return null;
    var path = u.pathname;
    if (override) path = path.replace(/\/+$/, "");
    else {
      // https://HOST[/prefix]/static/helpdesk/widget.js → https://HOST[/prefix]
      var at = path.indexOf("/static/");
      path = at >= 0 ? path.slice(0, at) : "";
    }
    return u.origin + path;
  }

  var SCRIPT = findScript();
  if (!SCRIPT) {
    if (window.console) console.warn("[helpdesk] widget.js: no <script data-inbox> tag found");
    return;
  }
  var INBOX = (SCRIPT.getAttribute("data-inbox") || "").trim();
  var HTTP_BASE = baseUrlFrom(SCRIPT);
  if (!INBOX || !HTTP_BASE) {
    if (window.console) console.warn("[helpdesk] widget.js: data-inbox or a http(s) src is missing");
    return;
  }
  var WS_BASE = HTTP_BASE.replace(/^http/, "ws"); // http → ws, https → wss
  var forced = (SCRIPT.getAttribute("data-transport") || "").toLowerCase();
  var MODE = forced === "longpoll" || forced === "websocket" ? forced : "auto";
  var DEBUG = /^(1|true|yes)$/i.test(SCRIPT.getAttribute("data-debug") || "");
  var TITLE = (SCRIPT.getAttribute("data-title") || "").trim() || "Chat with us";
  var ACCENT = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i.test(SCRIPT.getAttribute("data-color") || "")
    ? SCRIPT.getAttribute("data-color")
    : "#4f46e5";
  var START_OPEN = /^(1|true|yes)$/i.test(SCRIPT.getAttribute("data-open") || "");

  function debug() {
    if (DEBUG && window.console) console.debug.apply(console, ["[helpdesk]"].concat([].slice.call(arguments)));
  }

  // ----------------------------------------------------------------------------------------------
  // Storage (namespaced by inbox key; survives browsers where localStorage throws)
  // ----------------------------------------------------------------------------------------------
  var NS = "helpdesk:" + INBOX + ":";

  function makeStore(kind) {
    var mem = {};
    var s = null;
    try {
      s = window[kind];
      s.setItem(NS + "probe", "1");
      s.removeItem(NS + "probe");
    } catch (e) {
      s = null;
    }
    return {
      get: function (k) {
        var v = null;
        try {
          if (s) v = s.getItem(NS + k);
        } catch (e) { /* fall through to memory */ }
        if (v === null && Object.prototype.hasOwnProperty.call(mem, k)) v = mem[k];
        return v;
      },
      set: function (k, v) {
        mem[k] = String(v);
        try {
          if (s) s.setItem(NS + k, String(v));
        } catch (e) { /* quota, private mode: memory only */ }
      },
      del: function (k) {
        delete mem[k];
        try {
          if (s) s.removeItem(NS + k);
        } catch (e) { /* ignore */ }
      }
    };
  }

  var store = makeStore("localStorage");
  var session = makeStore("sessionStorage");

  // ----------------------------------------------------------------------------------------------
  // State
  // ----------------------------------------------------------------------------------------------
  var S = {
    mode: MODE, // "auto" | "websocket" | "longpoll"
    transport: null, // the transport in use: "websocket" | "longpoll"
    fellBack: false, // auto mode gave up on WebSocket (for now: see probeWebSocket)
    wsEverWelcomed: false, // a socket got to welcome on this page: WebSocket is not blocked here
    connected: false,
    everConnected: false,
    conversation: null,
    status: null, // bot | queued | assigned | resolved (null: no conversation yet)
    assignee: null,
    lastSeq: 0, // newest seq of a stored message we hold (created/updated/resumed)
    token: store.get("token"),
    visitor: null,
    greeting: null,
    open: false,
    fatal: null, // a reason the widget cannot work on this page (e.g. origin_not_allowed)
    unread: 0,
    readSent: 0
  };

  var conn = null; // the current connection object (see openWebSocket / openLongPoll)
  var connGen = 0;
  var backoffAttempt = 0;
  var wsFailures = 0;
  var authFailures = 0;
  var reconnectTimer = null;
  var tokenPromise = null;
  var probeTimer = null;
  var probeDelay = WS_PROBE_FIRST_MS;
  var upgrading = false; // the current socket comes from a successful probe

  // Messages of the current conversation
  var bySeq = {};
  var byId = {};
  var byClient = {};
  var outbox = []; // own messages not acknowledged yet, in the order they were written

  // ----------------------------------------------------------------------------------------------
  // Small helpers
  // ----------------------------------------------------------------------------------------------
  function now() {
    return Date.now();
  }

  function toInt(v) {
    if (v === null || v === undefined || v === "") return null;
    var n = Number(v);
    return isFinite(n) ? Math.floor(n) : null;
  }

  function sameId(a, b) {
    return a !== null && a !== undefined && b !== null && b !== undefined && String(a) === String(b);
  }

  function newClientId() {
    var rnd = "";
    try {
      if (window.crypto && crypto.randomUUID) rnd = crypto.randomUUID();
      else if (window.crypto && crypto.getRandomValues) {
        var a = new Uint32Array(4);
        crypto.getRandomValues(a);
        for (var i = 0; i < a.length; i++) rnd += a[i].toString(36);
      }
    } catch (e) { /* fall through */ }
    if (!rnd) rnd = Math.random().toString(36).slice(2) + now().toString(36);
    return "w-" + rnd.replace(/[^A-Za-z0-9._:-]/g, "").slice(0, 60);
  }

  /** The URL as a string when it parses and is http(s); otherwise null. */
  function safeHttpUrl(s) {
    if (typeof s !== "string" || !s) return null;
    try {
      var u = new URL(s.trim());
      if (u.protocol === "http:" || u.protocol === "https:") return u.href;
    } catch (e) { /* not a URL */ }
    return null;
  }

  function backoffDelay() {
    var exp = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * Math.pow(2, backoffAttempt));
    backoffAttempt++;
    return Math.round(exp / 2 + Math.random() * (exp / 2)); // "equal jitter"
  }

  function el(tag, cls, attrs) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (attrs) for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, attrs[k]);
    return e;
  }

  // ----------------------------------------------------------------------------------------------
  // Text rendering: text nodes only; http(s) URLs become <a> elements
  // ----------------------------------------------------------------------------------------------
  var URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;

  function appendLinkified(parent, text) {
    text = typeof text === "string" ? text : text == null ? "" : String(text);
    URL_RE.lastIndex = 0;
    var last = 0;
    var m;
    while ((m = URL_RE.exec(text))) {
      var raw = m[0];
      var trail = "";
      // Leave sentence punctuation out of the link, but keep balanced parentheses in it.
      while (/[.,;:!?)\]}'"»]$/.test(raw)) {
        var ch = raw.charAt(raw.length - 1);
        if (ch === ")" && raw.split("(").length > raw.split(")").length - 1) break;
        trail = ch + trail;
        raw = raw.slice(0, -1);
      }
      if (m.index > last) parent.appendChild(document.createTextNode(text.slice(last, m.index)));
      var href = safeHttpUrl(raw);
      if (href) {
        var a = el("a", "link", { target: "_blank", rel: "noopener noreferrer nofollow" });
        a.href = href;
        a.textContent = raw;
        parent.appendChild(a);
      } else {
        parent.appendChild(document.createTextNode(raw));
      }
      if (trail) parent.appendChild(document.createTextNode(trail));
      last = m.index + m[0].length;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function setLinkifiedText(node, text) {
    while (node.firstChild) node.removeChild(node.firstChild);
    appendLinkified(node, text);
  }

  // A bot's citation markers: [1], [1, 2], and the full-width 【1】 and ［1］ Chinese text uses.
  var MARKER_RE = /[\[【［]\s*(\d{1,3}(?:\s*[,，、]\s*\d{1,3})*)\s*[\]】］]/g;

  /** Like setLinkifiedText, with every citation marker a small superscript (still text nodes);
   * ``titles`` (number → source title) names the sources in the marker's tooltip. */
  function setCitedText(node, text, titles) {
    while (node.firstChild) node.removeChild(node.firstChild);
    text = typeof text === "string" ? text : "";
    MARKER_RE.lastIndex = 0;
    var last = 0;
    var m;
    while ((m = MARKER_RE.exec(text))) {
      if (m.index > last) appendLinkified(node, text.slice(last, m.index));
      var numbers = m[1].split(/\s*[,，、]\s*/);
      var sup = el("sup", "cite", { "data-testid": "cite" });
      sup.textContent = "[" + numbers.join(",") + "]";
      var names = [];
      for (var i = 0; i < numbers.length; i++) {
        if (titles[Number(numbers[i])]) names.push(titles[Number(numbers[i])]);
      }
      if (names.length) sup.title = names.join(" · ");
      node.appendChild(sup);
      last = m.index + m[0].length;
    }
    if (last < text.length) appendLinkified(node, text.slice(last));
  }

  // ----------------------------------------------------------------------------------------------
  // Human messages for error codes
  // ----------------------------------------------------------------------------------------------
  function humanError(d, secondsLeft) {
    var code = d && d.code;
    switch (code) {
      case "rate_limited":
        return "You're sending messages too fast, retrying in " + Math.max(0, secondsLeft || 0) + "s";
      case "text_empty":
        return "The message is empty.";
      case "text_too_long":
        return "This message is too long" + (d.limit ? " (at most " + d.limit + " characters)." : ".");
      case "frame_too_large":
        return "This message is too large.";
      case "conversation_closed":
        return "This conversation is closed.";
      case "not_found":
        return "This conversation no longer exists.";
      case "invalid":
        return "This message could not be sent.";
      case "server_error":
        return "Something went wrong on our side. Please try again.";
      case "unauthenticated":
      case "token_invalid":
      case "token_expired":
        return "Your session expired. Please try again.";
      case "origin_not_allowed":
        return "Chat is not available on this website.";
      default:
        return "Not delivered.";
    }
  }

  // ----------------------------------------------------------------------------------------------
  // Styles (all inside the shadow root)
  // ----------------------------------------------------------------------------------------------
  var CSS = [
    // The host element: immune to the page's CSS. Inside a shadow tree, !important beats the
    // page's !important on the host, and nothing from the page reaches elements inside.
    ":host{all:initial!important;display:block!important;position:fixed!important;right:0!important;",
    "bottom:0!important;top:auto!important;left:auto!important;width:0!important;height:0!important;",
    "margin:0!important;padding:0!important;border:0!important;z-index:2147483000!important;",
    "transform:none!important;filter:none!important;opacity:1!important;visibility:visible!important;",
    "overflow:visible!important;contain:none!important;pointer-events:auto!important}",
    "*,*::before,*::after{box-sizing:border-box}",
    "[hidden]{display:none!important}",
    ".root{all:initial;--hd-accent:#4f46e5;--hd-on-accent:#fff;--hd-bg:#f6f7f9;--hd-text:#111827;",
    "--hd-muted:#6b7280;--hd-border:#e5e7eb;--hd-danger:#dc2626;",
    "font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,'Noto Sans',sans-serif;",
    "font-size:14px;line-height:1.45;color:var(--hd-text);font-weight:400;letter-spacing:normal;",
    "text-align:left;direction:ltr;-webkit-font-smoothing:antialiased;-moz-osx-font-smoothing:grayscale;",
    "-webkit-text-size-adjust:100%;text-size-adjust:100%}",
    "button,textarea{font:inherit;color:inherit;margin:0;letter-spacing:inherit;text-transform:none}",
    "button{cursor:pointer;background:none;border:0;padding:0;-webkit-appearance:none;appearance:none}",
    "button:focus-visible,textarea:focus-visible,a:focus-visible{outline:2px solid var(--hd-accent);outline-offset:2px}",
    "svg{display:block;fill:currentColor}",

    // Launcher
    ".launcher{position:fixed;right:calc(20px + env(safe-area-inset-right,0px));",
    "bottom:calc(20px + env(safe-area-inset-bottom,0px));width:60px;height:60px;border-radius:50%;",
    "background:var(--hd-accent);color:var(--hd-on-accent);display:flex;align-items:center;",
    "justify-content:center;box-shadow:0 6px 20px rgba(17,24,39,.22),0 2px 6px rgba(17,24,39,.12);",
    "transition:transform .18s ease,box-shadow .18s ease}",
    ".launcher:hover{transform:scale(1.06);box-shadow:0 10px 28px rgba(17,24,39,.26),0 3px 8px rgba(17,24,39,.14)}",
    ".launcher:active{transform:scale(.96)}",
    ".launcher .ic{position:absolute;display:flex;transition:transform .2s ease,opacity .2s ease}",
    ".launcher .ic-close{opacity:0;transform:rotate(-90deg) scale(.6)}",
    ".root.open .launcher .ic-open{opacity:0;transform:rotate(90deg) scale(.6)}",
    ".root.open .launcher .ic-close{opacity:1;transform:none}",
    ".badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;",
    "background:var(--hd-danger);color:#fff;font-size:12px;font-weight:700;line-height:22px;text-align:center;",
    "border:2px solid #fff;box-shadow:0 1px 3px rgba(0,0,0,.2)}",

    // Panel
    ".panel{position:fixed;right:calc(20px + env(safe-area-inset-right,0px));",
    "bottom:calc(92px + env(safe-area-inset-bottom,0px));width:380px;height:min(680px,calc(100vh - 116px));",
    "min-height:320px;display:flex;flex-direction:column;background:#fff;border-radius:18px;overflow:hidden;",
    "box-shadow:0 16px 48px rgba(17,24,39,.22),0 2px 8px rgba(17,24,39,.08);",
    "transform-origin:bottom right;animation:hd-in .2s ease-out}",
    "@keyframes hd-in{from{opacity:0;transform:translateY(12px) scale(.98)}to{opacity:1;transform:none}}",
    "@keyframes hd-fade{from{opacity:0;transform:translateY(4px)}to{opacity:1;transform:none}}",

    ".header{flex:none;display:flex;align-items:center;gap:12px;padding:16px 12px 16px 18px;",
    "background-color:var(--hd-accent);background-image:linear-gradient(135deg,rgba(255,255,255,.14),rgba(0,0,0,.14));",
    "color:var(--hd-on-accent)}",
    ".avatar{flex:none;width:40px;height:40px;border-radius:50%;display:flex;align-items:center;justify-content:center;",
    "background:rgba(255,255,255,.2);color:var(--hd-on-accent)}",
    ".titles{flex:1;min-width:0}",
    ".title{margin:0;font-size:16px;font-weight:650;line-height:1.25;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}",
    ".status{margin:2px 0 0;font-size:13px;line-height:1.3;opacity:.92;display:flex;align-items:center;gap:6px;",
    "white-space:nowrap;overflow:hidden;text-overflow:ellipsis}",
    ".dot{flex:none;width:8px;height:8px;border-radius:50%;background:#9ca3af;box-shadow:0 0 0 2px rgba(255,255,255,.35)}",
    ".status[data-connection=online] .dot{background:#34d399}",
    ".status[data-connection=connecting] .dot,.status[data-connection=reconnecting] .dot{background:#fbbf24}",
    ".status[data-connection=unavailable] .dot{background:#f87171}",
    ".close{flex:none;width:36px;height:36px;border-radius:10px;display:flex;align-items:center;justify-content:center;",
    "color:var(--hd-on-accent);opacity:.9}",
    ".close:hover{background:rgba(255,255,255,.16);opacity:1}",

    ".body{flex:1;min-height:0;overflow-y:auto;overscroll-behavior:contain;background:var(--hd-bg);",
    "padding:16px 14px 8px;-webkit-overflow-scrolling:touch}",
    ".list{display:flex;flex-direction:column}",
    ".group{display:flex;flex-direction:column}",

    // Messages
    ".msg{display:flex;flex-direction:column;align-items:flex-start;max-width:100%;margin-top:10px;animation:hd-fade .18s ease-out}",
    ".msg.cont{margin-top:3px}",
    ".msg.from-contact{align-items:flex-end}",
    ".name{font-size:12px;color:var(--hd-muted);margin:0 0 3px 4px;font-weight:500}",
    ".msg.cont .name{display:none}",
    ".bubble{max-width:82%;padding:9px 13px;border-radius:18px;background:#fff;color:var(--hd-text);",
    "border:1px solid var(--hd-border);white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;",
    "box-shadow:0 1px 1px rgba(17,24,39,.04)}",
    ".msg:not(.from-contact) .bubble{border-top-left-radius:6px}",
    ".msg.from-contact .bubble{background:var(--hd-accent);color:var(--hd-on-accent);border-color:transparent;",
    "border-top-right-radius:6px}",
    ".msg.cont:not(.from-contact) .bubble{border-top-left-radius:18px}",
    ".msg.from-contact.cont .bubble{border-top-right-radius:18px}",
    ".bubble .link{color:var(--hd-accent);text-decoration:underline;text-underline-offset:2px}",
    ".msg.from-contact .bubble .link{color:inherit}",
    ".msg.state-pending .bubble,.msg.state-sent .bubble{opacity:.75}",
    ".msg.state-failed .bubble{opacity:1;background:#fff;color:var(--hd-text);border:1px solid #fca5a5}",
    ".msg.state-streaming .text::after{content:'';display:inline-block;width:7px;height:14px;margin-left:2px;",
    "vertical-align:-2px;border-radius:1px;background:currentColor;opacity:.5;animation:hd-blink 1s steps(2) infinite}",
    "@keyframes hd-blink{50%{opacity:0}}",
    ".msg.state-streaming .text:empty::after{margin-left:0}",
    ".meta{font-size:12px;color:var(--hd-muted);margin:3px 6px 0;display:flex;gap:8px;align-items:center;flex-wrap:wrap;justify-content:flex-end}",
    ".msg.state-failed .meta{color:var(--hd-danger)}",
    ".retry{font-size:12px;font-weight:600;color:var(--hd-accent);text-decoration:underline;text-underline-offset:2px}",

    // System events
    ".event{align-self:center;text-align:center;font-size:12px;color:var(--hd-muted);margin:14px 24px 4px;",
    "max-width:90%;white-space:pre-wrap;overflow-wrap:anywhere;animation:hd-fade .18s ease-out}",
    ".divider{display:flex;align-items:center;gap:10px;font-size:11px;text-transform:uppercase;letter-spacing:.06em;",
    "color:#9ca3af;margin:18px 0 6px}",
    ".divider::before,.divider::after{content:'';flex:1;height:1px;background:var(--hd-border)}",
    ".greeting{margin-top:0}",

    // Citations: markers in the text, the sources under the bubble
    ".cite{font-size:.72em;line-height:0;vertical-align:super;opacity:.75;margin-left:1px}",
    ".sources{display:flex;flex-wrap:wrap;gap:2px 8px;max-width:82%;margin:4px 6px 0;font-size:12px;",
    "color:var(--hd-muted);overflow-wrap:anywhere}",
    ".sources .source{color:inherit}",
    ".sources a.source{color:var(--hd-accent);text-decoration:underline;text-underline-offset:2px}",

    // Product cards
    ".cards{display:flex;flex-direction:column;gap:8px;margin-top:6px;max-width:82%;width:260px}",
    ".card{display:flex;flex-direction:column;background:#fff;border:1px solid var(--hd-border);border-radius:14px;",
    "overflow:hidden;color:var(--hd-text);text-decoration:none;box-shadow:0 1px 2px rgba(17,24,39,.05);",
    "transition:box-shadow .15s ease,transform .15s ease}",
    "a.card:hover{box-shadow:0 6px 16px rgba(17,24,39,.12);transform:translateY(-1px)}",
    ".card-img{display:block;width:100%;height:150px;object-fit:cover;background:#f3f4f6}",
    ".card-body{padding:10px 12px 12px;display:flex;flex-direction:column;gap:3px}",
    ".card-title{font-weight:600;font-size:14px;line-height:1.3;overflow:hidden;display:-webkit-box;",
    "-webkit-line-clamp:2;-webkit-box-orient:vertical;overflow-wrap:anywhere}",
    ".card-row{display:flex;align-items:center;justify-content:space-between;gap:8px;margin-top:2px}",
    ".card-price{font-weight:700;font-size:15px}",
    ".card-stock{font-size:12px;font-weight:600;padding:2px 8px;border-radius:999px;background:#f3f4f6;color:#374151;white-space:nowrap}",
    ".card-stock.in{background:#dcfce7;color:#166534}",
    ".card-stock.out{background:#fee2e2;color:#991b1b}",
    ".card-stock.low{background:#fef3c7;color:#92400e}",
    ".card-cta{margin-top:6px;font-size:13px;font-weight:600;color:var(--hd-accent)}",

    // Typing indicator
    ".typing{display:flex;align-items:center;gap:8px;margin:10px 0 2px;animation:hd-fade .18s ease-out}",
    ".dots{display:inline-flex;gap:4px;padding:12px 14px;background:#fff;border:1px solid var(--hd-border);",
    "border-radius:18px;border-top-left-radius:6px}",
    ".dots i{width:7px;height:7px;border-radius:50%;background:#9ca3af;animation:hd-bounce 1.2s infinite ease-in-out}",
    ".dots i:nth-child(2){animation-delay:.15s}.dots i:nth-child(3){animation-delay:.3s}",
    "@keyframes hd-bounce{0%,60%,100%{transform:translateY(0);opacity:.5}30%{transform:translateY(-4px);opacity:1}}",
    ".typing-label{font-size:12px;color:var(--hd-muted)}",

    // Notice, composer, footer
    ".notice{flex:none;padding:9px 16px;font-size:13px;line-height:1.35;text-align:center;background:#f3f4f6;",
    "color:#374151;border-top:1px solid var(--hd-border)}",
    ".notice[data-tone=warn]{background:#fffbeb;color:#92400e}",
    ".notice[data-tone=error]{background:#fef2f2;color:#991b1b}",
    ".composer{flex:none;display:flex;align-items:flex-end;gap:8px;padding:10px 10px 10px 14px;background:#fff;",
    "border-top:1px solid var(--hd-border);margin:0}",
    ".input{flex:1;min-width:0;resize:none;border:0;outline:none;background:transparent;color:var(--hd-text);",
    "font-size:15px;line-height:1.4;padding:8px 0;max-height:132px;min-height:38px;overflow-y:auto;display:block}",
    ".input::placeholder{color:#9ca3af;opacity:1}",
    ".input:focus,.input:focus-visible{outline:none}",
    ".composer:focus-within{box-shadow:inset 0 2px 0 -1px var(--hd-accent)}",
    ".input:disabled{cursor:not-allowed}",
    ".send{flex:none;width:38px;height:38px;border-radius:50%;display:flex;align-items:center;justify-content:center;",
    "background:var(--hd-accent);color:var(--hd-on-accent);transition:opacity .15s ease,transform .15s ease}",
    ".send:disabled{opacity:.35;cursor:default}",
    ".send:not(:disabled):hover{transform:scale(1.06)}",
    ".footer{flex:none;text-align:center;font-size:11px;color:#9ca3af;padding:0 0 8px;background:#fff}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",

    // Phones: the panel fills the screen, inside the safe areas
    "@media (max-width:480px){",
    ".panel{right:0;bottom:0;top:0;left:0;width:100%;height:100%;max-height:none;min-height:0;border-radius:0;",
    "padding:env(safe-area-inset-top,0px) env(safe-area-inset-right,0px) 0 env(safe-area-inset-left,0px);",
    "background:var(--hd-accent)}",
    ".panel>.body,.panel>.notice,.panel>.composer,.panel>.footer{margin:0}",
    ".footer{padding-bottom:calc(8px + env(safe-area-inset-bottom,0px))}",
    ".root.open .launcher{display:none}",
    ".input{font-size:16px}", // iOS would zoom into a smaller field
    "}",
    "@media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important}}"
  ].join("");

  var ICON_CHAT =
    '<svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" focusable="false">' +
    '<path d="M12 3C6.48 3 2 6.92 2 11.75c0 2.6 1.3 4.93 3.37 6.53-.15 1.16-.62 2.28-1.37 3.2a.5.5 0 0 0 .46.8' +
    'c1.9-.2 3.62-.92 4.86-1.87.85.2 1.74.3 2.68.3 5.52 0 10-3.92 10-8.75S17.52 3 12 3Z"/></svg>';
  var ICON_CHEVRON =
    '<svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" focusable="false">' +
    '<path d="M6.7 9.3a1 1 0 0 1 1.4 0L12 13.17l3.9-3.88a1 1 0 1 1 1.4 1.42l-4.6 4.58a1 1 0 0 1-1.4 0' +
    'L6.7 10.7a1 1 0 0 1 0-1.4Z"/></svg>';
  var ICON_CLOSE =
    '<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">' +
    '<path d="M6.3 6.3a1 1 0 0 1 1.4 0L12 10.6l4.3-4.3a1 1 0 1 1 1.4 1.4L13.4 12l4.3 4.3a1 1 0 0 1-1.4 1.4' +
    'L12 13.4l-4.3 4.3a1 1 0 0 1-1.4-1.4l4.3-4.3-4.3-4.3a1 1 0 0 1 0-1.4Z"/></svg>';
  var ICON_SEND =
    '<svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false">' +
    '<path d="M3.4 20.4 20.85 12.92a1 1 0 0 0 0-1.84L3.4 3.6a.99.99 0 0 0-1.39.91L2 9.12c0 .5.37.93.87.99' +
    'L17 12 2.87 13.88c-.5.07-.87.5-.87 1l.01 4.61c0 .71.73 1.2 1.39.91Z"/></svg>';
  var ICON_AVATAR =
    '<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">' +
    '<path d="M12 3C6.48 3 2 6.92 2 11.75c0 2.6 1.3 4.93 3.37 6.53-.15 1.16-.62 2.28-1.37 3.2a.5.5 0 0 0 .46.8' +
    'c1.9-.2 3.62-.92 4.86-1.87.85.2 1.74.3 2.68.3 5.52 0 10-3.92 10-8.75S17.52 3 12 3Zm-4 10a1.25 1.25 0 1 1 0-2.5' +
    ' 1.25 1.25 0 0 1 0 2.5Zm4 0a1.25 1.25 0 1 1 0-2.5 1.25 1.25 0 0 1 0 2.5Zm4 0a1.25 1.25 0 1 1 0-2.5 1.25 1.25 0 0 1 0 2.5Z"/></svg>';

  // A constant skeleton: no data is ever interpolated into it.
  var SKELETON =
    '<div class="root" data-testid="widget-root">' +
    '<button class="launcher" type="button" data-testid="launcher" aria-label="Open chat" aria-expanded="false" aria-controls="hd-panel">' +
    '<span class="ic ic-open">' + ICON_CHAT + '</span><span class="ic ic-close">' + ICON_CHEVRON + "</span>" +
    '<span class="badge" data-testid="unread-badge" aria-hidden="true" hidden></span></button>' +
    '<section class="panel" id="hd-panel" data-testid="panel" role="dialog" aria-label="Chat" hidden>' +
    '<header class="header"><div class="avatar">' + ICON_AVATAR + "</div>" +
    '<div class="titles"><h2 class="title"></h2>' +
    '<p class="status" data-testid="status" aria-live="polite"><span class="dot"></span><span class="status-text"></span></p></div>' +
    '<button class="close" type="button" data-testid="close" aria-label="Close chat">' + ICON_CLOSE + "</button></header>" +
    '<div class="body" data-testid="messages"><div class="list" role="log" aria-live="polite" aria-label="Messages"></div>' +
    '<div class="typing" data-testid="typing" hidden><span class="dots" aria-hidden="true"><i></i><i></i><i></i></span>' +
    '<span class="typing-label"></span></div></div>' +
    '<div class="notice" data-testid="notice" role="status" hidden></div>' +
    '<form class="composer" novalidate><textarea class="input" data-testid="input" rows="1" ' +
    'placeholder="Write a message…" aria-label="Message"></textarea>' +
    '<button class="send" type="submit" data-testid="send" aria-label="Send message" disabled>' + ICON_SEND + "</button></form>" +
    '<div class="footer">Powered by Helpdesk</div>' +
    "</section></div>";

  // ----------------------------------------------------------------------------------------------
  // UI
  // ----------------------------------------------------------------------------------------------
  var ui = {}; // host, shadow, root, launcher, badge, panel, title, status, statusText, body, list, ...
  var group = null; // the element holding the current conversation's messages
  var greetingEl = null;
  var remoteTyping = {}; // sender → {name, until}
  var typingTimer = null;

  function onAccentContrast(hex) {
    var h = hex.slice(1);
    if (h.length === 3) h = h.charAt(0) + h.charAt(0) + h.charAt(1) + h.charAt(1) + h.charAt(2) + h.charAt(2);
    var rgb = [0, 2, 4].map(function (i) {
      var c = parseInt(h.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var lum = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
    return lum > 0.45 ? "#111827" : "#ffffff";
  }

  function mount() {
    var host = document.createElement("helpdesk-chat-widget");
    host.setAttribute("data-testid", "helpdesk-widget");
    var shadow = host.attachShadow({ mode: "open" });
    var sheetDone = false;
    try {
      // Constructable stylesheets are not subject to the page's style-src CSP.
      if (shadow.adoptedStyleSheets !== undefined && typeof CSSStyleSheet === "function") {
        var sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS);
        shadow.adoptedStyleSheets = [sheet];
        sheetDone = true;
      }
    } catch (e) { /* fall back to <style> */ }
    if (!sheetDone) {
      var style = document.createElement("style");
      style.textContent = CSS;
      shadow.appendChild(style);
    }
    var tpl = document.createElement("template");
    tpl.innerHTML = SKELETON; // constant markup, see above
    shadow.appendChild(tpl.content.cloneNode(true));

    var q = function (sel) {
      return shadow.querySelector(sel);
    };
    ui.host = host;
    ui.shadow = shadow;
    ui.root = q(".root");
    ui.launcher = q(".launcher");
    ui.badge = q(".badge");
    ui.panel = q(".panel");
    ui.title = q(".title");
    ui.status = q(".status");
    ui.statusText = q(".status-text");
    ui.close = q(".close");
    ui.body = q(".body");
    ui.list = q(".list");
    ui.typing = q(".typing");
    ui.typingLabel = q(".typing-label");
    ui.notice = q(".notice");
    ui.form = q(".composer");
    ui.input = q(".input");
    ui.send = q(".send");

    ui.root.style.setProperty("--hd-accent", ACCENT);
    ui.root.style.setProperty("--hd-on-accent", onAccentContrast(ACCENT));
    ui.title.textContent = TITLE;
    ui.panel.setAttribute("aria-label", TITLE);

    group = newGroup(false);

    ui.launcher.addEventListener("click", function () {
      if (S.open) closePanel();
      else openPanel(true);
    });
    ui.close.addEventListener("click", function () {
      closePanel();
    });
    ui.root.addEventListener("keydown", function (e) {
      if ((e.key === "Escape" || e.key === "Esc") && S.open) {
        e.preventDefault();
        closePanel();
      }
    });
    ui.form.addEventListener("submit", function (e) {
      e.preventDefault();
      submitInput();
    });
    ui.input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        submitInput();
      }
    });
    ui.input.addEventListener("input", function () {
      autosize();
      updateSendButton();
      onOwnTyping();
    });
    ui.body.addEventListener("scroll", function () {
      if (S.open && nearBottom()) markRead();
    });

    (document.body || document.documentElement).appendChild(host);
    restoreOutbox();
    updateUI();
    if (START_OPEN || session.get("open") === "1") openPanel(false);
  }

  function newGroup(withDivider) {
    var g = el("div", "group");
    if (withDivider) {
      var d = el("div", "divider", { "data-testid": "divider" });
      d._hdSeq = 0;
      d.textContent = "New conversation";
      g.appendChild(d);
    }
    ui.list.appendChild(g);
    return g;
  }

  function autosize() {
    ui.input.style.height = "auto";
    ui.input.style.height = Math.min(ui.input.scrollHeight, 132) + "px";
  }

  function updateSendButton() {
    ui.send.disabled = !!S.fatal || !ui.input.value.replace(/\s+/g, "");
  }

  function nearBottom() {
    var b = ui.body;
    return b.scrollHeight - b.scrollTop - b.clientHeight < 80;
  }

  function scrollToBottom() {
    var b = ui.body;
    b.scrollTop = b.scrollHeight;
  }

  function openPanel(focus) {
    if (!ui.panel) return;
    S.open = true;
    session.set("open", "1");
    ui.panel.hidden = false;
    ui.root.classList.add("open");
    ui.launcher.setAttribute("aria-expanded", "true");
    ui.launcher.setAttribute("aria-label", "Close chat");
    scrollToBottom();
    markRead();
    updateUI();
    if (focus !== false) {
      var coarse = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
      if (!coarse) ui.input.focus();
      else ui.close.focus(); // do not pop the keyboard up on phones
    }
  }

  function closePanel() {
    if (!ui.panel) return;
    var hadFocus = ui.shadow.activeElement && ui.shadow.activeElement !== ui.launcher;
    S.open = false;
    session.del("open");
    ui.panel.hidden = true;
    ui.root.classList.remove("open");
    ui.launcher.setAttribute("aria-expanded", "false");
    stopOwnTyping();
    updateUI();
    if (hadFocus) ui.launcher.focus();
  }

  function statusText() {
    if (S.fatal) return ["Chat unavailable", "unavailable"];
    if (!S.connected) return [S.everConnected ? "Reconnecting…" : "Connecting…", S.everConnected ? "reconnecting" : "connecting"];
    switch (S.status) {
      case "queued":
        return ["Waiting for an agent", "online"];
      case "assigned":
        return [S.assignee ? "You're chatting with " + S.assignee : "An agent has joined", "online"];
      case "resolved":
        return ["Conversation resolved", "online"];
      default:
        return ["We typically reply in a few seconds", "online"];
    }
  }

  function updateUI() {
    if (!ui.root) return;
    var st = statusText();
    ui.statusText.textContent = st[0];
    ui.status.setAttribute("data-connection", st[1]);
    ui.status.setAttribute("data-status", S.status || "none");
    var transport = S.transport || "none";
    ui.panel.setAttribute("data-transport", transport);
    ui.root.setAttribute("data-transport", transport);
    ui.panel.setAttribute("data-connected", S.connected ? "true" : "false");
    ui.panel.setAttribute("data-conversation", S.conversation == null ? "" : String(S.conversation));

    // Notice line above the composer
    var notice = null;
    var tone = "info";
    if (S.fatal) {
      notice = S.fatal === "origin_not_allowed" ? humanError({ code: "origin_not_allowed" }) : "Chat is unavailable right now.";
      tone = "error";
    } else if (S.status === "resolved") {
      notice = "This conversation has been resolved. Send a message to start a new one.";
    } else if (S.status === "queued") {
      notice = "An agent will be with you shortly. You can keep writing here.";
      tone = "warn";
    } else if (!S.connected && S.everConnected && outbox.length) {
      notice = "You're offline. Messages will be sent when the connection is back.";
      tone = "warn";
    }
    if (notice) {
      ui.notice.textContent = notice;
      ui.notice.setAttribute("data-tone", tone);
      ui.notice.hidden = false;
    } else {
      ui.notice.hidden = true;
      ui.notice.textContent = "";
    }
    ui.input.disabled = !!S.fatal;
    updateSendButton();
    updateUnread();
  }

  // ---------------- unread badge ----------------
  function readKey() {
    return "read:" + S.conversation;
  }

  function updateUnread() {
    var n = 0;
    if (!S.open && S.conversation != null) {
      var lastRead = toInt(store.get(readKey())) || 0;
      for (var k in bySeq) {
        var it = bySeq[k];
        if (it.seq > lastRead && (it.sender === "agent" || it.sender === "bot") && it.kind !== "event" && it.state !== "streaming") n++;
      }
    }
    S.unread = n;
    if (!ui.badge) return;
    if (n > 0) {
      ui.badge.textContent = n > 9 ? "9+" : String(n);
      ui.badge.hidden = false;
      ui.launcher.setAttribute("aria-label", "Open chat, " + n + " unread message" + (n === 1 ? "" : "s"));
    } else {
      ui.badge.hidden = true;
      ui.badge.textContent = "";
      ui.launcher.setAttribute("aria-label", S.open ? "Close chat" : "Open chat");
    }
  }

  var readTimer = null;
  function markRead() {
    if (!S.open || S.conversation == null) return;
    if (document.visibilityState && document.visibilityState !== "visible") return;
    var lastRead = toInt(store.get(readKey())) || 0;
    if (S.lastSeq > lastRead) store.set(readKey(), S.lastSeq);
    updateUnread();
    if (S.lastSeq > S.readSent && !readTimer) {
      readTimer = setTimeout(function () {
        readTimer = null;
        if (S.connected && conn && conn.welcomed && S.conversation != null && S.lastSeq > S.readSent) {
          S.readSent = S.lastSeq;
          conn.send({ type: "read", conversation: S.conversation, seq: S.lastSeq });
        }
      }, 800);
    }
  }

  // ---------------- greeting ----------------
  function setGreeting(text) {
    S.greeting = typeof text === "string" && text.trim() ? text : null;
    if (!ui.list) return;
    if (!S.greeting) {
      if (greetingEl && greetingEl.parentNode) greetingEl.parentNode.removeChild(greetingEl);
      greetingEl = null;
      return;
    }
    if (!greetingEl) {
      greetingEl = el("div", "msg greeting from-bot", {
        "data-testid": "greeting",
        "data-sender": "bot",
        "data-kind": "greeting",
        "data-state": "complete"
      });
      var bubble = el("div", "bubble");
      var text = el("span", "text");
      bubble.appendChild(text);
      greetingEl.appendChild(bubble);
      ui.list.insertBefore(greetingEl, ui.list.firstChild);
    }
    setLinkifiedText(greetingEl.querySelector(".text"), S.greeting);
  }

  // ---------------- messages ----------------
  function isEventItem(item) {
    return item.kind === "event" || item.sender === "system";
  }

  function senderLabel(item) {
    var name = typeof item.sender_name === "string" ? item.sender_name.trim() : "";
    if (name) return name;
    if (item.sender === "agent") return "Agent";
    if (item.sender === "bot") return "Assistant";
    return "";
  }

  function buildElement(item) {
    var e;
    if (isEventItem(item)) {
      e = el("div", "event");
      e._hdEvent = true;
    } else {
      e = el("div", "msg");
      e._hdEvent = false;
      var name = el("div", "name");
      var bubble = el("div", "bubble");
      var text = el("span", "text");
      bubble.appendChild(text);
      e.appendChild(name);
      e.appendChild(bubble);
      e._hd = {
        name: name, text: text, bubble: bubble, cards: null, meta: null, cardsKey: null,
        sources: null, sourcesKey: null
      };
    }
    e.setAttribute("data-testid", "message");
    return e;
  }

  function render(item) {
    var eventLike = isEventItem(item);
    if (!item.el || item.el._hdEvent !== eventLike) {
      var fresh = buildElement(item);
      if (item.el && item.el.parentNode) item.el.parentNode.replaceChild(fresh, item.el);
      item.el = fresh;
      item._renderedText = null;
    }
    var e = item.el;
    var state = item.state || "complete";
    e.setAttribute("data-seq", item.seq != null ? String(item.seq) : "");
    e.setAttribute("data-sender", item.sender || "");
    e.setAttribute("data-kind", item.kind || "text");
    e.setAttribute("data-state", state);
    if (item.client_id) e.setAttribute("data-client-id", item.client_id);
    if (item.created_at) {
      var d = new Date(item.created_at);
      if (!isNaN(d.getTime())) e.title = d.toLocaleString();
    }
    e._hdSeq = item.seq != null ? item.seq : null;
    e._hdSender = (item.sender || "") + "|" + senderLabel(item);

    if (eventLike) {
      e.className = "event";
      if (item._renderedText !== item.text) {
        e.textContent = item.text || "";
        item._renderedText = item.text;
      }
    } else {
      e.className = "msg from-" + (item.sender || "bot") + " state-" + state + (e.classList.contains("cont") ? " cont" : "");
      var parts = e._hd;
      parts.name.textContent = senderLabel(item);
      parts.name.hidden = item.sender === "contact" || !parts.name.textContent;
      var cited = citationsOf(item);
      // Text and citations together: the final message.updated can bring both at once.
      var shown = (item.text || "") + "\u0000" + citationsKey(cited);
      if (item._renderedText !== shown) {
        if (item.sender === "bot") setCitedText(parts.text, item.text || "", citationTitles(cited));
        else setLinkifiedText(parts.text, item.text || "");
        item._renderedText = shown;
      }
      renderSources(item, parts, cited);
      renderCards(item, parts);
      renderMeta(item, parts);
    }
    place(item);
  }

  function renderMeta(item, parts) {
    var text = "";
    var retry = false;
    if (item.state === "pending") text = "Sending…";
    else if (item.state === "failed") {
      text = item.error || "Not delivered.";
      retry = true;
    } else if (item.state === "interrupted") text = "Reply interrupted";
    if (!text) {
      if (parts.meta) {
        parts.meta.parentNode.removeChild(parts.meta);
        parts.meta = null;
      }
      return;
    }
    if (!parts.meta) {
      parts.meta = el("div", "meta");
      parts.meta.appendChild(el("span", "meta-text", { "data-testid": "message-error" }));
      item.el.appendChild(parts.meta);
    }
    var label = parts.meta.firstChild;
    label.textContent = text;
    label.setAttribute("data-testid", item.state === "failed" ? "message-error" : "message-meta");
    var btn = parts.meta.querySelector(".retry");
    if (retry && !btn) {
      btn = el("button", "retry", { type: "button", "data-testid": "retry" });
      btn.textContent = "Retry";
      btn.addEventListener("click", function () {
        retryItem(item);
      });
      parts.meta.appendChild(btn);
    } else if (!retry && btn) {
      btn.parentNode.removeChild(btn);
    }
  }

  /** The sources a bot message cites (``metadata.citations``), checked: {n, title, href}. */
  function citationsOf(item) {
    var list = item.sender === "bot" && item.metadata && Array.isArray(item.metadata.citations)
      ? item.metadata.citations : [];
    var out = [];
    for (var i = 0; i < list.length && out.length < 10; i++) {
      var c = list[i];
      if (!c || typeof c !== "object") continue;
      var n = typeof c.n === "number" ? c.n : Number(c.n);
      if (!(n >= 1 && n <= 999 && Math.floor(n) === n)) continue;
      var title = typeof c.title === "string" ? c.title.trim() : "";
      out.push({ n: n, title: title.slice(0, 200), href: safeHttpUrl(c.url) });
    }
    return out;
  }

  function citationsKey(cited) {
    var parts = [];
    for (var i = 0; i < cited.length; i++) parts.push(cited[i].n + "|" + cited[i].title + "|" + (cited[i].href || ""));
    return parts.join("\n");
  }

  function citationTitles(cited) {
    var titles = {};
    for (var i = 0; i < cited.length; i++) titles[cited[i].n] = cited[i].title;
    return titles;
  }

  /** "Sources: [1] Title [2] Title" under the bubble; a source with an http(s) page is a link. */
  function renderSources(item, parts, cited) {
    var key = citationsKey(cited);
    if (parts.sourcesKey === key) return;
    parts.sourcesKey = key;
    if (parts.sources) {
      parts.sources.parentNode.removeChild(parts.sources);
      parts.sources = null;
    }
    if (!cited.length) return;
    var box = el("div", "sources", { "data-testid": "sources" });
    var label = el("span", "sources-label");
    label.textContent = "Sources:";
    box.appendChild(label);
    for (var i = 0; i < cited.length; i++) {
      var c = cited[i];
      var source = c.href
        ? el("a", "source", { target: "_blank", rel: "noopener noreferrer nofollow" })
        : el("span", "source");
      source.setAttribute("data-testid", "source");
      if (c.href) source.href = c.href;
      source.textContent = "[" + c.n + "] " + (c.title || "Source " + c.n);
      box.appendChild(source);
    }
    // right under the bubble, before any cards and the meta line
    item.el.insertBefore(box, parts.bubble.nextSibling);
    parts.sources = box;
  }

  function formatPrice(price, currency) {
    if (price === null || price === undefined || price === "") return "";
    var n = typeof price === "number" ? price : Number(String(price).replace(/,/g, ""));
    var cur = typeof currency === "string" ? currency.trim().toUpperCase() : "";
    if (isFinite(n) && /^[A-Z]{3}$/.test(cur)) {
      try {
        return new Intl.NumberFormat(undefined, { style: "currency", currency: cur }).format(n);
      } catch (e) { /* unknown currency */ }
    }
    return String(price) + (cur ? " " + cur : "");
  }

  function stockInfo(stock) {
    if (stock === null || stock === undefined || stock === "") return null;
    if (typeof stock === "boolean") return stock ? ["In stock", "in"] : ["Out of stock", "out"];
    if (typeof stock === "number") {
      if (stock <= 0) return ["Out of stock", "out"];
      if (stock < 5) return ["Only " + stock + " left", "low"];
      return ["In stock", "in"];
    }
    var s = String(stock).trim();
    var k = s.toLowerCase().replace(/[\s-]+/g, "_");
    if (/^(in_?stock|available|yes|true)$/.test(k)) return ["In stock", "in"];
    if (/^(out_?of_?stock|sold_?out|unavailable|no|false)$/.test(k)) return ["Out of stock", "out"];
    if (/^(low|low_?stock|limited)$/.test(k)) return ["Low stock", "low"];
    if (/^\d+$/.test(k)) return stockInfo(Number(k));
    return [s.slice(0, 40), ""];
  }

  function renderCards(item, parts) {
    var cards = item.metadata && Array.isArray(item.metadata.cards) ? item.metadata.cards : [];
    var key;
    try {
      key = JSON.stringify(cards);
    } catch (e) {
      key = String(cards.length);
    }
    if (parts.cardsKey === key) return;
    parts.cardsKey = key;
    if (parts.cards) {
      parts.cards.parentNode.removeChild(parts.cards);
      parts.cards = null;
    }
    if (!cards.length) return;
    var box = el("div", "cards", { "data-testid": "cards" });
    for (var i = 0; i < cards.length && i < 10; i++) {
      var c = cards[i];
      if (!c || typeof c !== "object") continue;
      var href = safeHttpUrl(c.url);
      var card = href ? el("a", "card", { target: "_blank", rel: "noopener noreferrer nofollow" }) : el("div", "card");
      card.setAttribute("data-testid", "card");
      if (href) card.href = href;
      var img = safeHttpUrl(c.image);
      if (img) {
        var im = el("img", "card-img", { alt: "", loading: "lazy", decoding: "async", referrerpolicy: "no-referrer" });
        im.addEventListener("error", function () {
          if (this.parentNode) this.parentNode.removeChild(this);
        });
        im.src = img;
        card.appendChild(im);
      }
      var body = el("div", "card-body");
      var title = el("div", "card-title", { "data-testid": "card-title" });
      title.textContent = typeof c.title === "string" ? c.title : c.title == null ? "" : String(c.title);
      body.appendChild(title);
      var price = formatPrice(c.price, c.currency);
      var stock = stockInfo(c.stock);
      if (price || stock) {
        var row = el("div", "card-row");
        if (price) {
          var p = el("span", "card-price", { "data-testid": "card-price" });
          p.textContent = price;
          row.appendChild(p);
        }
        if (stock) {
          var st = el("span", "card-stock" + (stock[1] ? " " + stock[1] : ""), { "data-testid": "card-stock" });
          st.textContent = stock[0];
          row.appendChild(st);
        }
        body.appendChild(row);
      }
      if (href) {
        var cta = el("span", "card-cta");
        cta.textContent = "View product →";
        body.appendChild(cta);
      }
      card.appendChild(body);
      box.appendChild(card);
    }
    // cards go after the bubble, before the meta line
    if (parts.meta) item.el.insertBefore(box, parts.meta);
    else item.el.appendChild(box);
    parts.cards = box;
  }

  /** Put the element in seq order inside the current group; local pending echoes stay last. */
  function place(item) {
    var e = item.el;
    var g = item.group || group;
    item.group = g;
    if (item.seq == null) {
      if (e.parentNode !== g) g.appendChild(e);
    } else {
      var ref = null;
      for (var n = g.firstChild; n; n = n.nextSibling) {
        if (n === e) continue;
        var s = n._hdSeq;
        if (s == null || s > item.seq) {
          ref = n;
          break;
        }
      }
      if (e.parentNode !== g || e.nextSibling !== ref) g.insertBefore(e, ref);
    }
    updateRun(e);
    if (e.nextSibling) updateRun(e.nextSibling);
  }

  /** A message that follows one from the same sender hides its name and tightens the gap. */
  function updateRun(e) {
    if (!e || e._hdEvent === undefined || e._hdEvent) return;
    var prev = e.previousSibling;
    var cont = !!(prev && prev._hdEvent === false && prev._hdSender === e._hdSender);
    e.classList.toggle("cont", cont);
  }

  function register(item) {
    if (item.seq != null) bySeq[item.seq] = item;
    if (item.id != null) byId[item.id] = item;
    if (item.client_id) byClient[item.client_id] = item;
  }

  function dropItem(item) {
    if (item.el && item.el.parentNode) item.el.parentNode.removeChild(item.el);
    if (item.seq != null && bySeq[item.seq] === item) delete bySeq[item.seq];
    if (item.id != null && byId[item.id] === item) delete byId[item.id];
    if (item.client_id && byClient[item.client_id] === item) delete byClient[item.client_id];
    removeFromOutbox(item);
  }

  /** The conversation changed (a new one started, or the server has another): keep the old
   *  messages on screen above a divider, start counting seqs afresh, keep unsent messages. */
  function switchConversation(newId) {
    if (sameId(newId, S.conversation)) return;
    var hasStored = false;
    for (var k in bySeq) {
      hasStored = true;
      break;
    }
    var keep = outbox.slice();
    for (var s in bySeq) if (bySeq[s].state === "streaming") bySeq[s].el && bySeq[s].el.setAttribute("data-state", "interrupted");
    bySeq = {};
    byId = {};
    byClient = {};
    if (hasStored && ui.list) group = newGroup(true);
    for (var i = 0; i < keep.length; i++) {
      var it = keep[i];
      it.seq = null;
      it.id = null;
      it.group = group;
      byClient[it.client_id] = it;
      if (it.el) group.appendChild(it.el);
    }
    S.conversation = newId == null ? null : newId;
    S.lastSeq = 0;
    S.readSent = 0;
    S.status = null;
    S.assignee = null;
    clearAllRemoteTyping();
    if (conn && conn.kind === "longpoll" && conn.welcomed) conn.restartPoll();
    updateUI();
  }

  function applyConversation(c) {
    if (!c || typeof c !== "object") return;
    if (c.id != null && S.conversation != null && !sameId(c.id, S.conversation)) return;
    if (typeof c.status === "string") S.status = c.status;
    if (c.assignee === null) S.assignee = null;
    else if (c.assignee && typeof c.assignee === "object") {
      var n = c.assignee.name || c.assignee.display_name || c.assignee.username;
      S.assignee = typeof n === "string" && n.trim() ? n.trim() : null;
    } else if (typeof c.assignee === "string") S.assignee = c.assignee;
    // The server sends the assignee as an id with its display name beside it.
    if (typeof c.assignee_name === "string" && c.assignee_name.trim()) {
      S.assignee = c.assignee_name.trim();
    }
    if (S.status === "resolved") clearAllRemoteTyping();
    updateUI();
  }

  function onNewContent(own) {
    if (own || S.open) scrollToBottom();
    if (S.open) markRead();
    updateUnread();
  }

  function handleMessage(f, fromAck) {
    var d = f.data;
    if (!d || typeof d !== "object") return;
    if (d.kind === "note") return; // private notes never reach customers; ignore if one does
    if (f.conversation != null && S.conversation != null && !sameId(f.conversation, S.conversation)) return;
    var seq = toInt(d.seq != null ? d.seq : f.seq);
    var item = null;
    if (d.client_id && byClient[d.client_id]) item = byClient[d.client_id];
    var other = (seq != null && bySeq[seq]) || (d.id != null && byId[d.id]) || null;
    if (item && other && other !== item) dropItem(other); // a placeholder for the same message
    if (!item) item = other;
    var isNew = !item;
    var wasLocal = !!(item && item.local);
    if (!item) item = {};
    var stick = nearBottom();
    item.seq = seq;
    if (d.id != null) item.id = d.id;
    if (d.client_id) item.client_id = d.client_id;
    item.sender = typeof d.sender === "string" ? d.sender : item.sender || "bot";
    item.sender_name = typeof d.sender_name === "string" ? d.sender_name : item.sender_name || "";
    item.kind = typeof d.kind === "string" ? d.kind : "text";
    item.text = typeof d.text === "string" ? d.text : item.text || "";
    item.metadata = d.metadata && typeof d.metadata === "object" ? d.metadata : item.metadata || {};
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

  function handleDelta(f) {
    var d = f.data || {};
    if (f.conversation != null && S.conversation != null && !sameId(f.conversation, S.conversation)) return;
    var seq = toInt(f.seq != null ? f.seq : d.seq);
    var item = (seq != null && bySeq[seq]) || (d.id != null && byId[d.id]) || null;
    if (item && item.state !== "streaming") return; // the final text is here already
    var stick = nearBottom();
    var isNew = !item;
    if (!item) {
      item = {
        seq: seq,
        id: d.id != null ? d.id : null,
        sender: typeof d.sender === "string" ? d.sender : "bot",
        sender_name: typeof d.sender_name === "string" ? d.sender_name : typeof d.name === "string" ? d.name : "",
        kind: "text",
        text: "",
        metadata: {},
        state: "streaming"
      };
      register(item);
    }
    if (typeof d.delta === "string") item.text += d.delta;
    render(item);
    clearRemoteTyping(item.sender);
    if (S.open && (isNew || stick)) scrollToBottom();
  }

  // ---------------- typing ----------------
  function handleTyping(f) {
    var d = f.data || {};
    if (f.conversation != null && S.conversation != null && !sameId(f.conversation, S.conversation)) return;
    var sender = typeof d.sender === "string" ? d.sender : "agent";
    if (sender === "contact") return; // our own echo (another tab)
    if (d.typing) {
      remoteTyping[sender] = { name: typeof d.name === "string" ? d.name : "", until: now() + REMOTE_TYPING_TTL_MS };
    } else delete remoteTyping[sender];
    renderTyping();
  }

  function clearRemoteTyping(sender) {
    if (remoteTyping[sender]) {
      delete remoteTyping[sender];
      renderTyping();
    }
  }

  function clearAllRemoteTyping() {
    remoteTyping = {};
    renderTyping();
  }

  function renderTyping() {
    if (!ui.typing) return;
    var t = now();
    var who = null;
    var soonest = Infinity;
    for (var k in remoteTyping) {
      if (remoteTyping[k].until <= t) {
        delete remoteTyping[k];
        continue;
      }
      soonest = Math.min(soonest, remoteTyping[k].until);
      if (!who || k === "agent") who = k;
    }
    clearTimeout(typingTimer);
    if (!who) {
      ui.typing.hidden = true;
      ui.typing.removeAttribute("data-sender");
      return;
    }
    var stick = nearBottom();
    var name = remoteTyping[who].name || (who === "bot" ? "Assistant" : "An agent");
    ui.typingLabel.textContent = name + " is typing…";
    ui.typing.setAttribute("data-sender", who);
    ui.typing.hidden = false;
    if (S.open && stick) scrollToBottom();
    typingTimer = setTimeout(renderTyping, Math.max(50, soonest - t));
  }

  var ownTyping = { active: false, sentAt: 0, idle: null };

  function onOwnTyping() {
    if (!ui.input.value.trim()) {
      stopOwnTyping();
      return;
    }
    if (S.conversation == null || !S.connected || !conn || !conn.welcomed) return;
    var t = now();
    if (!ownTyping.active || t - ownTyping.sentAt > TYPING_THROTTLE_MS) {
      ownTyping.active = true;
      ownTyping.sentAt = t;
      conn.send({ type: "typing", conversation: S.conversation, data: { typing: true } });
    }
    clearTimeout(ownTyping.idle);
    ownTyping.idle = setTimeout(stopOwnTyping, TYPING_IDLE_MS);
  }

  function stopOwnTyping() {
    clearTimeout(ownTyping.idle);
    ownTyping.idle = null;
    if (!ownTyping.active) return;
    ownTyping.active = false;
    if (S.conversation != null && S.connected && conn && conn.welcomed) {
      conn.send({ type: "typing", conversation: S.conversation, data: { typing: false } });
    }
  }

  // ---------------- sending ----------------
  function submitInput() {
    if (S.fatal) return;
    var text = ui.input.value.replace(/^\s+|\s+$/g, "");
    if (!text) return;
    ui.input.value = "";
    autosize();
    updateSendButton();
    stopOwnTyping();
    sendText(text);
  }

  function sendText(text) {
    var item = {
      local: true,
      client_id: newClientId(),
      text: String(text),
      sender: "contact",
      sender_name: "",
      kind: "text",
      metadata: {},
      state: "pending",
      seq: null,
      id: null,
      created_at: new Date().toISOString()
    };
    byClient[item.client_id] = item;
    outbox.push(item);
    saveOutbox();
    render(item);
    onNewContent(true);
    flushOutbox();
    return item.client_id;
  }

  function removeFromOutbox(item) {
    var i = outbox.indexOf(item);
    if (i >= 0) {
      outbox.splice(i, 1);
      saveOutbox();
    }
  }

  function saveOutbox() {
    var list = [];
    for (var i = 0; i < outbox.length && i < OUTBOX_MAX; i++) {
      list.push({ client_id: outbox[i].client_id, text: outbox[i].text, created_at: outbox[i].created_at });
    }
    if (list.length) store.set("outbox", JSON.stringify(list));
    else store.del("outbox");
  }

  function restoreOutbox() {
    var raw = store.get("outbox");
    if (!raw) return;
    var list;
    try {
      list = JSON.parse(raw);
    } catch (e) {
      store.del("outbox");
      return;
    }
    if (!Array.isArray(list)) return;
    var cutoff = now() - 24 * 3600 * 1000;
    for (var i = 0; i < list.length && i < OUTBOX_MAX; i++) {
      var o = list[i];
      if (!o || typeof o.client_id !== "string" || typeof o.text !== "string" || byClient[o.client_id]) continue;
      var t = new Date(o.created_at).getTime();
      if (isFinite(t) && t < cutoff) continue;
      var item = {
        local: true,
        client_id: o.client_id,
        text: o.text,
        sender: "contact",
        sender_name: "",
        kind: "text",
        metadata: {},
        state: "pending",
        seq: null,
        id: null,
        created_at: o.created_at
      };
      byClient[item.client_id] = item;
      outbox.push(item);
      render(item);
    }
    saveOutbox();
  }

  /** Send every unacknowledged message not sent on this connection yet. While there is no
   *  conversation, send one at a time: its ack tells the id the others go to. */
  function flushOutbox() {
    if (!conn || !conn.welcomed || !S.connected) return;
    for (var i = 0; i < outbox.length; i++) {
      var item = outbox[i];
      if (item.state !== "pending") continue;
      if (item.sentGen === conn.gen) {
        if (S.conversation == null) return; // waiting for the first message's ack
        continue;
      }
      item.sentGen = conn.gen;
      conn.send({
        type: "message.send",
        conversation: S.conversation,
        data: { client_id: item.client_id, text: item.text }
      });
      if (S.conversation == null) return;
    }
  }

  function handleAck(f) {
    var d = f.data || {};
    if (f.conversation != null && S.conversation == null) switchConversation(f.conversation);
    var item = d.client_id ? byClient[d.client_id] : null;
    if (!item) return;
    removeFromOutbox(item);
    clearRetryTimer(item);
    var seq = toInt(f.seq != null ? f.seq : d.seq);
    if (seq != null) {
      var other = bySeq[seq];
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
      handleMessage({ type: "message.created", conversation: f.conversation, seq: seq, data: d.message }, true);
    }
    flushOutbox();
    updateUI();
  }

  function clearRetryTimer(item) {
    if (item.retryTimer) {
      clearInterval(item.retryTimer);
      item.retryTimer = null;
    }
  }

  function retryItem(item) {
    clearRetryTimer(item);
    if (item.state !== "failed") return;
    item.state = "pending";
    item.error = null;
    item.sentGen = null;
    if (outbox.indexOf(item) < 0) outbox.push(item);
    saveOutbox();
    render(item);
    updateUI();
    flushOutbox();
  }

  function failItem(item, d) {
    var code = d.code;
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
      var wait = toInt(d.retry_after);
      if (wait == null || wait < 1) wait = 5;
      var until = now() + wait * 1000;
      item.error = humanError(d, wait);
      item.retryTimer = setInterval(function () {
        var left = Math.ceil((until - now()) / 1000);
        if (left <= 0) {
          clearRetryTimer(item);
          retryItem(item);
          return;
        }
        item.error = humanError(d, left);
        render(item);
      }, 1000);
    } else {
      item.error = humanError(d);
    }
    render(item);
    updateUI();
  }

  function handleError(f) {
    var d = f.data || {};
    var ref = d.ref;
    var item = typeof ref === "string" ? byClient[ref] : null;
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
      setFatal("origin_not_allowed");
      return;
    }
    if (window.console && d.code !== "token_invalid" && d.code !== "token_expired" && d.code !== "unauthenticated") {
      console.warn("[helpdesk] " + (d.code || "error") + (d.message ? ": " + d.message : ""));
    }
  }

  // ---------------- incoming frames (both transports) ----------------
  function handleFrame(c, f) {
    if (c !== conn || c.dead || !f || typeof f !== "object") return;
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
          var s = toInt(f.seq);
          if (s != null && s > S.lastSeq) S.lastSeq = s;
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
      case "pong":
      case "presence":
      case "read":
        break;
      default:
        debug("unknown frame", f.type);
    }
  }

  function onWelcome(c, f) {
    var d = f.data || {};
    c.welcomed = true;
    clearTimeout(c.welcomeTimer);
    if (typeof d.token === "string" && d.token) setToken(d.token);
    if (d.visitor) S.visitor = d.visitor;
    if (typeof d.greeting === "string") setGreeting(d.greeting);
    var convObj = d.conversation && typeof d.conversation === "object" ? d.conversation : null;
    var convId = f.conversation != null ? f.conversation : convObj && convObj.id != null ? convObj.id : null;
    if (!sameId(convId, S.conversation)) switchConversation(convId);
    if (convObj) applyConversation(convObj);
    S.connected = true;
    S.everConnected = true;
    backoffAttempt = 0;
    authFailures = 0;
    if (c.kind === "websocket") {
      wsFailures = 0;
      S.wsEverWelcomed = true;
      upgrading = false;
      probeDelay = WS_PROBE_FIRST_MS;
    } else if (S.fellBack) scheduleProbe();
    updateUI();
    if (S.conversation != null) c.send({ type: "resume", conversation: S.conversation, seq: resumeFrom() });
    flushOutbox();
    if (c.kind === "longpoll") c.startPoll();
    if (S.open) markRead();
  }

  // Where a resume starts: after the newest message we hold, or before the oldest reply still
  // streaming here, whose final message.updated may be among what was missed.
  function resumeFrom() {
    var from = S.lastSeq;
    for (var k in bySeq) {
      if (bySeq[k].state === "streaming" && bySeq[k].seq - 1 < from) from = bySeq[k].seq - 1;
    }
    return Math.max(0, from);
  }

  function setToken(t) {
    S.token = t;
    store.set("token", t);
  }

  function setFatal(reason) {
    S.fatal = reason;
    S.connected = false;
    clearTimeout(reconnectTimer);
    if (conn) teardown(conn);
    conn = null;
    if (window.console) console.warn("[helpdesk] widget disabled: " + reason);
    updateUI();
  }

  // ----------------------------------------------------------------------------------------------
  // HTTP helper
  // ----------------------------------------------------------------------------------------------
  function http(method, path, body, withAuth, timeoutMs, c) {
    var ctrl = typeof AbortController === "function" ? new AbortController() : null;
    var timer = setTimeout(function () {
      if (ctrl) ctrl.abort();
    }, timeoutMs);
    if (c && ctrl) c.aborts.push(ctrl);
    var headers = { Accept: "application/json" };
    if (body !== null && body !== undefined) headers["Content-Type"] = "application/json";
    if (withAuth) {
      headers["X-Inbox-Key"] = INBOX;
      if (S.token) headers.Authorization = "Bearer " + S.token;
    }
    return fetch(HTTP_BASE + path, {
      method: method,
      headers: headers,
      body: body !== null && body !== undefined ? JSON.stringify(body) : undefined,
      credentials: "omit",
      cache: "no-store",
      mode: "cors",
      signal: ctrl ? ctrl.signal : undefined
    })
      .then(function (res) {
        return res.text().then(function (txt) {
          var json = null;
          try {
            json = txt ? JSON.parse(txt) : null;
          } catch (e) { /* not JSON */ }
          return { status: res.status, ok: res.ok, json: json, headers: res.headers };
        });
      })
      .then(
        function (r) {
          done();
          return r;
        },
        function (err) {
          done();
          throw err;
        }
      );

    function done() {
      clearTimeout(timer);
      if (c && ctrl) {
        var i = c.aborts.indexOf(ctrl);
        if (i >= 0) c.aborts.splice(i, 1);
      }
    }
  }

  function eventsOf(json) {
    return json && Array.isArray(json.events) ? json.events : [];
  }

  function firstErrorCode(json) {
    var ev = eventsOf(json);
    for (var i = 0; i < ev.length; i++) if (ev[i] && ev[i].type === "error" && ev[i].data) return ev[i].data.code;
    if (json && typeof json.code === "string") return json.code;
    if (json && json.error && typeof json.error === "string") return json.error;
    return null;
  }

  // ----------------------------------------------------------------------------------------------
  // Visitor token
  // ----------------------------------------------------------------------------------------------
  /** Resolves true (token in hand), false (fatal: do not retry) or "neterr" (try again later). */
  function obtainToken() {
    if (tokenPromise) return tokenPromise;
    var body = { inbox: INBOX };
    if (S.token) body.token = S.token;
    tokenPromise = http("POST", "/widget/api/visitor", body, false, SEND_TIMEOUT_MS, null)
      .then(function (r) {
        tokenPromise = null;
        if (r.ok && r.json && typeof r.json.token === "string" && r.json.token) {
          setToken(r.json.token);
          if (r.json.visitor) S.visitor = r.json.visitor;
          if (typeof r.json.greeting === "string") setGreeting(r.json.greeting);
          return true;
        }
        var code = firstErrorCode(r.json);
        if (r.status === 403 || code === "origin_not_allowed") {
          setFatal("origin_not_allowed");
          return false;
        }
        if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) {
          setFatal(code || "http_" + r.status);
          return false;
        }
        return "neterr";
      })
      .catch(function () {
        tokenPromise = null;
        return "neterr";
      });
    return tokenPromise;
  }

  // ----------------------------------------------------------------------------------------------
  // Connection management
  // ----------------------------------------------------------------------------------------------
  function teardown(c) {
    if (!c || c.dead) return;
    c.dead = true;
    clearTimeout(c.welcomeTimer);
    clearInterval(c.pingTimer);
    clearTimeout(c.pollTimer);
    if (c.ws) {
      c.ws.onopen = c.ws.onmessage = c.ws.onerror = c.ws.onclose = null;
      try {
        c.ws.close(1000);
      } catch (e) { /* ignore */ }
    }
    for (var i = 0; i < c.aborts.length; i++) {
      try {
        c.aborts[i].abort();
      } catch (e) { /* ignore */ }
    }
    c.aborts = [];
  }

  function connect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    if (S.fatal) return;
    if (conn) teardown(conn);
    conn = null;
    S.connected = false;
    if (!S.token) {
      updateUI();
      obtainToken().then(function (r) {
        if (r === true) connect();
        else if (r === "neterr") scheduleReconnect();
      });
      return;
    }
    var useWs = S.mode === "websocket" || (S.mode === "auto" && !S.fellBack && typeof window.WebSocket === "function");
    conn = useWs ? openWebSocket() : openLongPoll();
    updateUI();
  }

  function scheduleReconnect(delay) {
    if (S.fatal) return;
    if (conn) teardown(conn);
    conn = null;
    S.connected = false;
    clearTimeout(reconnectTimer);
    var ms = delay != null ? delay : backoffDelay();
    debug("reconnect in", ms, "ms");
    reconnectTimer = setTimeout(connect, ms);
    updateUI();
  }

  /** The server refused the token (4401 / HTTP 401): get a fresh one, then connect again. */
  function onAuthFailed() {
    if (conn) teardown(conn);
    conn = null;
    S.connected = false;
    authFailures++;
    if (authFailures > 3) {
      // Keep failing with this token: start over as a new visitor.
      S.token = null;
      store.del("token");
    }
    updateUI();
    obtainToken().then(function (r) {
      if (r === true) {
        if (authFailures > 1) scheduleReconnect();
        else connect();
      } else if (r === "neterr") scheduleReconnect();
    });
  }

  function newConn(kind) {
    return { kind: kind, gen: ++connGen, welcomed: false, dead: false, aborts: [], lastFrameAt: now() };
  }

  // ---------------- WebSocket ----------------
  function openWebSocket() {
    var c = newConn("websocket");
    S.transport = "websocket";
    c.send = function (frame) {
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
      c.ws = new window.WebSocket(WS_BASE + "/ws/widget/");
    } catch (e) {
      debug("WebSocket constructor threw", e);
      // Asynchronously, so that `conn` is this connection when the failure is handled.
      setTimeout(function () {
        if (conn === c) wsFailed(c, true);
      }, 0);
      return c;
    }
    c.welcomeTimer = setTimeout(function () {
      if (conn === c && !c.welcomed) {
        debug("no welcome within", WELCOME_TIMEOUT_MS, "ms");
        wsFailed(c, true);
      }
    }, WELCOME_TIMEOUT_MS);
    c.ws.onopen = function () {
      if (conn !== c) return;
      c.send({ type: "hello", data: { inbox: INBOX, token: S.token } });
    };
    c.ws.onmessage = function (ev) {
      if (conn !== c) return;
      var f;
      try {
        f = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      handleFrame(c, f);
    };
    c.ws.onerror = function () {
      /* onclose follows */
    };
    c.ws.onclose = function (ev) {
      if (conn !== c || c.dead) return;
      var code = ev && ev.code;
      debug("socket closed", code, ev && ev.reason);
      if (code === 4401) onAuthFailed();
      else if (code === 4403) setFatal("origin_not_allowed");
      // 4503: a service behind the server is down. Reconnect (with backoff, on the same
      // transport: the socket itself worked) and resume from what we hold.
      else if (code === 4503) scheduleReconnect();
      else if (!c.welcomed && code !== 4408) wsFailed(c, false);
      else scheduleReconnect();
    };
    c.pingTimer = setInterval(function () {
      if (conn !== c || c.dead || !c.welcomed) return;
      if (now() - c.lastFrameAt > SILENCE_LIMIT_MS) {
        debug("socket silent, reconnecting");
        scheduleReconnect();
        return;
      }
      c.send({ type: "ping" });
    }, PING_INTERVAL_MS);
    return c;
  }

  /** A socket that never got to `welcome`. In auto mode, fall back to long-polling at once
   *  (constructor threw, no welcome in time) or after a few such failures in a row. */
  function wsFailed(c, immediate) {
    teardown(c);
    wsFailures++;
    if (S.mode === "auto") {
      // Once a socket has worked here, failures look like a server outage (a deploy), not a
      // network that blocks WebSocket: give it more tries before falling back.
      var limit = S.wsEverWelcomed ? WS_FAILURES_AFTER_SUCCESS : WS_FAILURES_BEFORE_FALLBACK;
      if (upgrading || (immediate && !S.wsEverWelcomed) || wsFailures >= limit) {
        if (upgrading) probeDelay = Math.min(WS_PROBE_CAP_MS, probeDelay * 2);
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
    var done = false;
    var ws;
    function finish(ok) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (ws) {
        ws.onopen = ws.onerror = ws.onclose = null;
        try {
          ws.close(1000);
        } catch (e) { /* ignore */ }
      }
      if (ok && S.fellBack && !S.fatal) {
        debug("WebSocket reachable again, upgrading");
        S.fellBack = false;
        wsFailures = 0;
        upgrading = true;
        connect();
      } else {
        probeDelay = Math.min(WS_PROBE_CAP_MS, probeDelay * 2);
        scheduleProbe();
      }
    }
    var timer = setTimeout(function () {
      finish(false);
    }, WELCOME_TIMEOUT_MS);
    try {
      ws = new window.WebSocket(WS_BASE + "/ws/widget/");
    } catch (e) {
      finish(false);
      return;
    }
    ws.onopen = function () {
      finish(true);
    };
    ws.onerror = ws.onclose = function () {
      finish(false);
    };
  }

  // ---------------- HTTP long-polling ----------------
  function openLongPoll() {
    var c = newConn("longpoll");
    S.transport = "longpoll";
    c.queue = Promise.resolve();
    c.polling = false;
    c.pollCtrl = null;

    c.send = function (frame) {
      if (c.dead) return false;
      c.queue = c.queue.then(function () {
        return lpPost(c, frame);
      });
      return true;
    };

    c.startPoll = function () {
      // Poll once the frames queued so far (resume, resends) have been answered.
      c.queue.then(function () {
        pollLoop(c);
      });
    };

    c.restartPoll = function () {
      if (c.pollCtrl) {
        try {
          c.pollCtrl.abort();
        } catch (e) { /* ignore */ }
      }
      c.startPoll();
    };

    c.queue = c.queue.then(function () {
      return lpPost(c, { type: "hello", data: { inbox: INBOX, token: S.token } });
    });
    return c;
  }

  function lpPost(c, frame) {
    if (c.dead || conn !== c) return Promise.resolve();
    debug("→ POST", frame.type, frame);
    return http("POST", "/widget/api/poll/send", frame, true, SEND_TIMEOUT_MS, c).then(
      function (r) {
        if (c.dead || conn !== c) return;
        lpAnswer(c, r, frame);
      },
      function (err) {
        if (c.dead || conn !== c) return;
        debug("long-poll send failed", err);
        scheduleReconnect();
      }
    );
  }

  /** Handle an HTTP answer of the long-poll endpoints. */
  function lpAnswer(c, r, frame) {
    var events = eventsOf(r.json);
    if (r.status === 401) {
      onAuthFailed();
      return false;
    }
    if (r.status === 403) {
      setFatal("origin_not_allowed");
      return false;
    }
    if (r.status >= 500 || (r.status !== 200 && !events.length && r.status !== 404 && r.status !== 409)) {
      if (r.status >= 400 && r.status < 500 && frame) {
        // A refusal with no body we understand: fail the message, not the connection.
        var cid = frame.data && frame.data.client_id;
        handleFrame(c, { type: "error", data: { code: r.status === 429 ? "rate_limited" : "invalid", ref: cid || frame.type } });
        return true;
      }
      scheduleReconnect();
      return false;
    }
    if (!events.length && (r.status === 404 || r.status === 409) && frame) {
      events = [{ type: "error", data: { code: r.status === 404 ? "not_found" : "conversation_closed", ref: (frame.data && frame.data.client_id) || frame.type } }];
    }
    var retryAfter = r.headers && r.headers.get ? toInt(r.headers.get("Retry-After")) : null;
    for (var i = 0; i < events.length; i++) {
      var ev = events[i];
      if (ev && ev.type === "error" && ev.data && ev.data.code === "rate_limited" && ev.data.retry_after == null && retryAfter != null) {
        ev.data.retry_after = retryAfter;
      }
      if (ev && ev.type === "error" && ev.data && !ev.data.ref && frame) {
        ev.data.ref = (frame.data && frame.data.client_id) || frame.type;
      }
      handleFrame(c, ev);
      if (c.dead || conn !== c) return false;
    }
    if (frame && frame.type === "hello" && !c.welcomed) {
      // 200 without a welcome: the server does not speak our protocol here.
      scheduleReconnect();
      return false;
    }
    return true;
  }

  function pollLoop(c) {
    if (c.dead || conn !== c || c.polling || S.conversation == null) return;
    c.polling = true;
    var conv = S.conversation;
    var since = S.lastSeq;
    var started = now();
    var before = c.aborts.length;
    var p = http(
      "GET",
      "/widget/api/poll?conversation=" + encodeURIComponent(String(conv)) + "&seq=" + encodeURIComponent(String(since)),
      null,
      true,
      POLL_TIMEOUT_MS,
      c
    );
    c.pollCtrl = c.aborts.length > before ? c.aborts[c.aborts.length - 1] : null;
    p.then(
      function (r) {
        c.polling = false;
        if (c.dead || conn !== c) return;
        if (!sameId(conv, S.conversation)) {
          pollLoop(c); // the conversation changed while we waited
          return;
        }
        if (r.status === 404) {
          switchConversation(null);
          return;
        }
        if (!lpAnswer(c, r, null)) return;
        S.connected = true;
        updateUI();
        var progressed = S.lastSeq > since || eventsOf(r.json).length > 0;
        var wait = !progressed && now() - started < POLL_MIN_INTERVAL_MS ? POLL_MIN_INTERVAL_MS : 0;
        c.pollTimer = setTimeout(function () {
          pollLoop(c);
        }, wait);
      },
      function (err) {
        c.polling = false;
        if (c.dead || conn !== c) return;
        if (err && err.name === "AbortError" && !sameId(conv, S.conversation)) {
          pollLoop(c); // aborted on purpose: a new conversation
          return;
        }
        debug("poll failed", err);
        scheduleReconnect();
      }
    );
  }

  // ----------------------------------------------------------------------------------------------
  // Page life
  // ----------------------------------------------------------------------------------------------
  function wakeUp() {
    if (S.fatal) return;
    if (!S.connected && reconnectTimer) {
      backoffAttempt = Math.max(0, backoffAttempt - 1);
      connect();
    }
  }

  window.addEventListener("online", wakeUp);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      wakeUp();
      if (S.open && nearBottom()) markRead();
    }
  });

  // Debug / test hook
  window.HelpdeskWidget = {
    version: VERSION,
    state: function () {
      return {
        transport: S.transport,
        mode: S.mode,
        conversation: S.conversation,
        lastSeq: S.lastSeq,
        connected: S.connected,
        status: S.status,
        open: S.open,
        unread: S.unread,
        pending: outbox.length,
        visitor: S.visitor,
        fatal: S.fatal
      };
    },
    open: function () {
      openPanel(true);
    },
    close: function () {
      closePanel();
    },
    toggle: function () {
      if (S.open) closePanel();
      else openPanel(true);
    },
    send: function (text) {
      if (S.fatal || typeof text !== "string" || !text.trim()) return null;
      return sendText(text.trim());
    }
  };

  function start() {
    mount();
    obtainToken().then(function (r) {
      if (r === false) return; // fatal, shown in the panel
      connect(); // on a network error with a stored token, try the socket anyway
    });
  }

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
