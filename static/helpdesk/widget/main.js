/*
 * Helpdesk chat widget: the entry module, bundled with what it imports into
 * static/helpdesk/widget.js (`manage.py build_widget`). Tenants embed that one file:
 *
 *   <script src="https://HOST/static/helpdesk/widget.js" data-inbox="KEY" async></script>
 *
 * It speaks the realtime protocol of docs/protocol.md over WebSocket and falls back to HTTP
 * long-polling by itself. Documentation: docs/widget.md.
 *
 * Security rules kept in every module: text that comes from the network is put on the page with
 * textContent / createTextNode, never as HTML; only http(s) URLs become links or images; the
 * visitor token never travels in a URL.
 */
import { bindComposer } from "./composer.js";
import { config, VERSION } from "./config.js";
import { nearBottom } from "./dom.js";
import { firstToken, identify, logout } from "./identity.js";
import { restoreOutbox } from "./outbox.js";
import { closePanel, markRead, mountPanel, openPanel, togglePanel, updateUI } from "./panel.js";
import { mountOffline } from "./offline.js";
import { newGroup } from "./render.js";
import { mountPrechat } from "./prechat.js";
import { mountRating } from "./rating.js";
import { flushOutbox, sendText } from "./sending.js";
import { outbox, S } from "./state.js";
import { session } from "./storage.js";
import { connect, wakeUp } from "./transport.js";
import { mountTouches } from "./touches.js";

// The page's debug / test hook, and the API a tenant's page may call.
const publicApi = {
  version: VERSION,
  state: () => ({
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
    identified: !!(S.options && S.options.identity && S.options.identity.verified),
    fatal: S.fatal,
  }),
  open: () => openPanel(true),
  close: () => closePanel(),
  toggle: () => togglePanel(),
  // Verified identity (identity.js, docs/widget.md).
  identify: (user, signature, options) => identify(user, signature, options),
  logout: () => logout(),
  send: (text) => {
    if (S.fatal || typeof text !== "string" || !text.trim()) return null;
    return sendText(text.trim());
  },
};

function start() {
  mountPanel();
  newGroup(false);
  bindComposer();
  mountTouches();
  mountOffline();
  mountRating();
  mountPrechat(flushOutbox);
  restoreOutbox();
  updateUI();
  if (config.startOpen || session.get("open") === "1") openPanel(false);
  firstToken().then((r) => {
    if (r === false) return; // fatal, shown in the panel
    connect(); // on a network error with a stored token, try the socket anyway
  });
}

function boot() {
  // Loaded twice on the same page (two tags, or an SPA re-inserting it): keep the first one.
  if (window.HelpdeskWidget && window.HelpdeskWidget.version) return;
  if (config.problem) {
    if (window.console) console.warn("[helpdesk] widget.js: " + config.problem);
    return;
  }
  window.addEventListener("online", wakeUp);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      wakeUp();
      if (S.open && nearBottom()) markRead();
    }
  });
  window.HelpdeskWidget = publicApi;
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
}

if (typeof window !== "undefined" && window.document) boot();
