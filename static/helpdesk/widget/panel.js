// The launcher and the panel around the messages: mounting, opening and closing, the header's
// status line, the notice above the composer, the unread badge and read receipts.
import { currentLocale, gettext, interpolate, loadCatalog, ngettext } from "../shared/i18n.js";
import { attachmentsEnabled, hasPickedFiles, tray } from "./attach-state.js";
import { config } from "./config.js";
import { el, nearBottom, scrollToBottom, ui } from "./dom.js";
import { humanError } from "./errors.js";
import { hoursStatus } from "./hours-text.js";
import { SKELETON } from "./skeleton.js";
import { liveConnection, messages, outbox, S } from "./state.js";
import { session, store } from "./storage.js";
import { CSS, onAccentContrast } from "./styles.js";
import { stopOwnTyping } from "./typing.js";
import { runAfterUpdate } from "./ui-hooks.js";
import { toInt } from "./values.js";

const READ_DELAY_MS = 800;

export function mountPanel() {
  const host = document.createElement("helpdesk-chat-widget");
  host.setAttribute("data-testid", "helpdesk-widget");
  const shadow = host.attachShadow({ mode: "open" });
  adoptStyles(shadow);
  const template = document.createElement("template");
  template.innerHTML = SKELETON; // constant markup, see skeleton.js
  shadow.appendChild(template.content.cloneNode(true));

  const q = (selector) => shadow.querySelector(selector);
  Object.assign(ui, {
    host: host,
    shadow: shadow,
    root: q(".root"),
    launcher: q(".launcher"),
    badge: q(".badge"),
    panel: q(".panel"),
    title: q(".title"),
    status: q(".status"),
    statusText: q(".status-text"),
    close: q(".close"),
    body: q(".body"),
    list: q(".list"),
    typing: q(".typing"),
    typingLabel: q(".typing-label"),
    notice: q(".notice"),
    form: q(".composer"),
    input: q(".input"),
    send: q(".send"),
    footer: q(".footer"),
  });
  ui.root.style.setProperty("--hd-accent", config.accent);
  ui.root.style.setProperty("--hd-on-accent", onAccentContrast(config.accent));
  applyLabels();

  ui.launcher.addEventListener("click", () => {
    if (S.open) closePanel();
    else openPanel(true);
  });
  ui.close.addEventListener("click", () => closePanel());
  ui.root.addEventListener("keydown", (event) => {
    if ((event.key === "Escape" || event.key === "Esc") && S.open) {
      event.preventDefault();
      closePanel();
    }
  });
  ui.body.addEventListener("scroll", () => {
    if (S.open && nearBottom()) markRead();
  });
  (document.body || document.documentElement).appendChild(host);
}

function adoptStyles(shadow) {
  try {
    // Constructable stylesheets are not subject to the page's style-src CSP.
    if (shadow.adoptedStyleSheets !== undefined && typeof CSSStyleSheet === "function") {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      shadow.adoptedStyleSheets = [sheet];
      return;
    }
  } catch (e) {
    /* fall back to <style> */
  }
  const style = el("style");
  style.textContent = CSS;
  shadow.appendChild(style);
}

/** The fixed labels, in the current language. */
function applyLabels() {
  const title = config.title || gettext("Chat with us");
  ui.title.textContent = title;
  ui.panel.setAttribute("aria-label", title);
  ui.close.setAttribute("aria-label", gettext("Close chat"));
  ui.list.setAttribute("aria-label", gettext("Messages"));
  ui.input.setAttribute("placeholder", gettext("Write a message…"));
  ui.input.setAttribute("aria-label", gettext("Message"));
  ui.send.setAttribute("aria-label", gettext("Send message"));
  ui.footer.textContent = gettext("Powered by Helpdesk");
  if (tray.relabel) tray.relabel(); // attachments.js
}

/** The server's translations for this visitor (a Django JSON catalog with its ``locale``,
 *  catalog.js); until they arrive, and for what a catalog lacks, English shows. */
export function useCatalog(i18n) {
  if (!i18n || typeof i18n !== "object" || !i18n.catalog || typeof i18n.catalog !== "object") return;
  loadCatalog(i18n, i18n.locale);
  if (!ui.root) return;
  // The language of the widget's texts, for the browser's font choice and screen readers.
  ui.root.setAttribute("lang", currentLocale());
  applyLabels();
  updateUI();
}

export function openPanel(focus) {
  if (!ui.panel) return;
  S.open = true;
  session.set("open", "1");
  ui.panel.hidden = false;
  ui.root.classList.add("open");
  ui.launcher.setAttribute("aria-expanded", "true");
  scrollToBottom();
  markRead();
  updateUI();
  if (focus !== false) {
    const coarse = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
    if (!coarse) ui.input.focus();
    else ui.close.focus(); // do not pop the keyboard up on phones
  }
}

export function closePanel() {
  if (!ui.panel) return;
  const hadFocus = ui.shadow.activeElement && ui.shadow.activeElement !== ui.launcher;
  S.open = false;
  session.del("open");
  ui.panel.hidden = true;
  ui.root.classList.remove("open");
  ui.launcher.setAttribute("aria-expanded", "false");
  stopOwnTyping();
  updateUI();
  if (hadFocus) ui.launcher.focus();
}

export function togglePanel() {
  if (S.open) closePanel();
  else openPanel(true);
}

/** The widget cannot work on this page (say, its origin is not allowed): say so and stay idle. */
export function setFatal(reason) {
  S.fatal = reason;
  S.connected = false;
  if (window.console) console.warn("[helpdesk] widget disabled: " + reason);
  updateUI();
}

function statusLine() {
  if (S.fatal) return [gettext("Chat unavailable"), "unavailable"];
  if (!S.connected) {
    return S.everConnected ? [gettext("Reconnecting…"), "reconnecting"] : [gettext("Connecting…"), "connecting"];
  }
  switch (S.status) {
    case "queued":
      return [gettext("Waiting for an agent"), "online"];
    case "assigned":
      return [
        S.assignee
          ? interpolate(gettext("You're chatting with %(name)s"), { name: S.assignee })
          : gettext("An agent has joined"),
        "online",
      ];
    case "resolved":
      return [gettext("Conversation resolved"), "online"];
    default:
      return [hoursStatus() || gettext("We typically reply in a few seconds"), "online"];
  }
}

/** [text, tone] of the line above the composer, or null for none. */
function noticeLine() {
  if (S.fatal) {
    const text =
      S.fatal === "origin_not_allowed"
        ? humanError({ code: "origin_not_allowed" })
        : gettext("Chat is unavailable right now.");
    return [text, "error"];
  }
  if (tray.notice) return [tray.notice, "error"]; // a file that cannot be sent (attachments.js)
  if (S.status === "resolved") {
    return [gettext("This conversation has been resolved. Send a message to start a new one."), "info"];
  }
  if (S.status === "queued") return [gettext("An agent will be with you shortly. You can keep writing here."), "warn"];
  if (!S.connected && S.everConnected && outbox.length) {
    return [gettext("You're offline. Messages will be sent when the connection is back."), "warn"];
  }
  return null;
}

export function updateUI() {
  if (!ui.root) return;
  const status = statusLine();
  ui.statusText.textContent = status[0];
  ui.status.setAttribute("data-connection", status[1]);
  ui.status.setAttribute("data-status", S.status || "none");
  const transport = S.transport || "none";
  ui.panel.setAttribute("data-transport", transport);
  ui.root.setAttribute("data-transport", transport);
  ui.panel.setAttribute("data-connected", S.connected ? "true" : "false");
  ui.panel.setAttribute("data-conversation", S.conversation == null ? "" : String(S.conversation));

  const notice = noticeLine();
  if (notice) {
    ui.notice.textContent = notice[0];
    ui.notice.setAttribute("data-tone", notice[1]);
    ui.notice.hidden = false;
  } else {
    ui.notice.hidden = true;
    ui.notice.textContent = "";
  }
  ui.input.disabled = !!S.fatal;
  if (ui.attach) ui.attach.hidden = !attachmentsEnabled();
  updateSendButton();
  updateUnread();
  runAfterUpdate(); // features that redraw with the panel (ui-hooks.js)
}

export function updateSendButton() {
  ui.send.disabled = !!S.fatal || (!ui.input.value.replace(/\s+/g, "") && !hasPickedFiles());
}

function readKey() {
  return "read:" + S.conversation;
}

export function updateUnread() {
  let n = 0;
  if (!S.open && S.conversation != null) {
    const lastRead = toInt(store.get(readKey())) || 0;
    for (const seq in messages.bySeq) {
      const item = messages.bySeq[seq];
      const counts = (item.sender === "agent" || item.sender === "bot") && item.kind !== "event";
      if (item.seq > lastRead && counts && item.state !== "streaming") n++;
    }
  }
  S.unread = n;
  if (!ui.badge) return;
  if (n > 0) {
    ui.badge.textContent = n > 9 ? "9+" : String(n);
    ui.badge.hidden = false;
    ui.launcher.setAttribute(
      "aria-label",
      interpolate(ngettext("Open chat, %(count)s unread message", "Open chat, %(count)s unread messages", n), {
        count: n,
      }),
    );
  } else {
    ui.badge.hidden = true;
    ui.badge.textContent = "";
    ui.launcher.setAttribute("aria-label", S.open ? gettext("Close chat") : gettext("Open chat"));
  }
}

let readTimer = null;

export function markRead() {
  if (!S.open || S.conversation == null) return;
  if (document.visibilityState && document.visibilityState !== "visible") return;
  const lastRead = toInt(store.get(readKey())) || 0;
  if (S.lastSeq > lastRead) store.set(readKey(), S.lastSeq);
  updateUnread();
  if (S.lastSeq > S.readSent && !readTimer) {
    readTimer = setTimeout(() => {
      readTimer = null;
      const connection = liveConnection();
      if (connection && S.conversation != null && S.lastSeq > S.readSent) {
        S.readSent = S.lastSeq;
        connection.send({ type: "read", conversation: S.conversation, seq: S.lastSeq });
      }
    }, READ_DELAY_MS);
  }
}
