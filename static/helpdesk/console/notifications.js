// Telling the agent what needs them: toasts for notification frames, the browser's
// notifications (when allowed), the unread count in the page title, the queue's alert badge.
import { ACTION_TIMEOUT_MS } from "./boot.js";
import { refreshConversation } from "./conversation.js";
import { $ } from "./dom.js";
import { onConversationUpdated, renderList } from "./list.js";
import { inView, state } from "./state.js";
import { toast } from "./toast.js";
import { gettext, interpolate } from "../shared/i18n.js";
import { contactName } from "./labels.js";

const baseTitle = document.title;
const notifyBtn = $("[data-testid=enable-notifications]");
const queuedAlertEl = $("[data-testid=queued-alert]");

function notificationsSupported() { return typeof window.Notification === "function"; }

function renderNotifyButton() {
  // Only ever asked from this button, never on load: browsers penalise sites that ask unprompted.
  notifyBtn.hidden = !notificationsSupported() || window.Notification.permission !== "default";
}

function askPermission() {
  if (!notificationsSupported()) return;
  var answered = false;
  var done = function (result) {
    // Browsers that return a promise may call the callback as well: answer once.
    if (answered) return;
    answered = true;
    renderNotifyButton();
    if (result === "granted") toast(gettext("Browser notifications are on."), "ok");
    else if (result === "denied") toast(gettext("Notifications are blocked. You can allow them in the browser's site settings."), "warn");
  };
  try {
    var asked = window.Notification.requestPermission(done);
    // Current browsers answer with a promise (and ignore the callback); old Safari only calls back.
    if (asked && typeof asked.then === "function") asked.then(done);
  } catch (e) {
    renderNotifyButton();
  }
}

/** The unread count in the title, and the queue tab's count of customers waiting too long. */
export function renderAttention() {
  var unread = state.unread.size;
  document.title = (unread ? "(" + unread + ") " : "") + baseTitle;
  var waiting = 0;
  state.waiting.forEach(function (id) {
    var c = state.conversations.get(id);
    if (!c || c.status === "queued") waiting += 1;
  });
  queuedAlertEl.hidden = !waiting;
  queuedAlertEl.textContent = waiting ? String(waiting) : "";
  queuedAlertEl.setAttribute("aria-label", waiting ? interpolate(gettext("%(count)s waiting too long"), { count: waiting }) : "");
  document.querySelector("[data-testid=tab-queued]").classList.toggle("tab--alert", waiting > 0);
}

function notificationTitle(kind) {
  switch (kind) {
    case "queued": return gettext("New in the queue");
    case "assigned": return gettext("Assigned to you");
    case "waiting": return gettext("Still waiting for an agent");
    default: return gettext("Helpdesk");
  }
}

function notificationText(kind, c, id) {
  var values = { name: c && c.contact ? contactName(c.contact) : gettext("A customer"), id: id };
  switch (kind) {
    case "queued": return interpolate(gettext("%(name)s is waiting for an agent (#%(id)s)."), values);
    case "assigned": return interpolate(gettext("%(name)s (#%(id)s) was assigned to you."), values);
    case "waiting": return interpolate(gettext("%(name)s (#%(id)s) is still waiting — nobody has accepted it yet."), values);
    default: return interpolate(gettext("Conversation #%(id)s needs attention."), values);
  }
}

function goTo(id, kind) {
  var view = kind === "assigned" ? "mine" : (kind === "queued" || kind === "waiting") ? "queued" : state.view;
  // Stay on the current tab when it already shows the conversation.
  var c = state.conversations.get(id);
  if (c && inView(c, state.view)) view = state.view;
  window.location.hash = "#/" + view + "/" + id;
}

/** A `notification` frame: something needs this agent. */
export function onNotification(frame) {
  var data = frame.data || {};
  var kind = data.kind;
  var payload = data.conversation && typeof data.conversation === "object" ? data.conversation : null;
  var id = payload ? payload.id : (typeof data.conversation === "number" ? data.conversation : frame.conversation);
  if (typeof id !== "number") return;
  if (payload) onConversationUpdated(payload);
  else if (!state.conversations.has(id)) refreshConversation(id);
  if (kind === "assigned") {
    var at = state.selfAssigned.get(id);
    // We took it ourselves a moment ago: nothing to tell.
    if (at && Date.now() - at < ACTION_TIMEOUT_MS) return;
  }
  var c = state.conversations.get(id);
  var isOpen = state.open && state.open.id === id;
  if (kind === "waiting") state.waiting.add(id);
  if (!isOpen) {
    state.alerts.set(id, kind);
    state.unread.add(id);
  }
  if (c && inView(c, state.view)) state.listIds.add(id);
  renderList();
  var text = data.text || notificationText(kind, c, id);
  toast(text, kind === "waiting" ? "warn" : "info", {
    testid: "notification-toast",
    attrs: { "data-kind": kind, "data-conversation-id": id },
    action: isOpen ? null : { label: gettext("Open"), run: function () { goTo(id, kind); } },
    ms: 8000,
  });
  showBrowserNotification(kind, id, text, c);
}

function showBrowserNotification(kind, id, text, c) {
  if (!notificationsSupported() || window.Notification.permission !== "granted") return;
  var who = c && c.contact ? contactName(c.contact) : gettext("Conversation");
  try {
    var n = new window.Notification(notificationTitle(kind) + " · " + who + " #" + id, {
      body: text,
      // One per conversation and kind: a repeat replaces the old one instead of piling up.
      tag: "helpdesk-" + kind + "-" + id,
    });
    n.onclick = function (event) {
      if (event && event.preventDefault) event.preventDefault();
      try { window.focus(); } catch (e) { /* not allowed: the tab still opens it */ }
      goTo(id, kind);
      n.close();
    };
  } catch (e) {
    // Android Chrome only shows notifications through a service worker; the toast remains.
  }
}

// ---------------------------------------------------------------------------------------

export function wireNotifications() {
  notifyBtn.addEventListener("click", askPermission);
  renderNotifyButton();
}
