// The conversation list: the current view's rows, loaded page by page and kept up to date by
// conversation.updated events.
import { agentName } from "./agents.js";
import { api } from "./api.js";
import { boot, ME, VIEWS } from "./boot.js";
import { $, clear, h, paintAvatar } from "./dom.js";
import { refreshOpenHeader } from "./header.js";
import { followUpBadge } from "./follow-up.js";
import { alertLabel, contactName, handoffReasonLabel, statusBadge } from "./labels.js";
import { renderAttention } from "./notifications.js";
import { byActivity, inView, mergeConversation, state } from "./state.js";
import { fullTime, parseTime, relativeTime } from "./time.js";
import { gettext, interpolate } from "../shared/i18n.js";

const listEl = $("[data-testid=conversation-list]");
const listStateEl = $("[data-testid=conversation-list-state]");
const loadMoreBtn = $("[data-testid=load-more]");

export function setView(view) {
  if (VIEWS.indexOf(view) < 0) view = "all";
  var changed = view !== state.view || !state.listLoaded;
  state.view = view;
  document.querySelectorAll(".tab").forEach(function (tab) {
    var selected = tab.getAttribute("data-view") === view;
    tab.setAttribute("aria-selected", selected ? "true" : "false");
    tab.classList.toggle("tab--active", selected);
  });
  if (changed) loadList(false);
}

/** Load the first page of the view (or, with `more`, the next one). `quiet` keeps the rows
 * on screen while reloading, for the refresh after a reconnect. */
export function loadList(more, quiet) {
  var token = ++state.listToken;
  if (!more) {
    state.arrivedDuringLoad = new Set();
    if (!quiet) {
      state.listLoaded = false;
      state.nextCursor = null;
      state.listIds = new Set();
      renderList();
    }
  }
  loadMoreBtn.disabled = true;
  var params = { view: state.view };
  if (more && state.nextCursor) params.before = state.nextCursor;
  return api(boot.urls.conversations, params).then(function (body) {
    if (token !== state.listToken) return;
    if (!more) {
      // The list shows what the server says belongs here, plus whatever arrived live while
      // the request was in flight (the answer may predate it).
      state.listIds = new Set(state.arrivedDuringLoad);
    }
    body.conversations.forEach(function (c) {
      mergeConversation(c);
      state.listIds.add(c.id);
    });
    state.nextCursor = body.next || null;
    state.listLoaded = true;
    state.listError = null;
    renderList();
    refreshOpenHeader();
  }).catch(function (err) {
    if (token !== state.listToken) return;
    state.listLoaded = true;
    state.listError = err.message || gettext("Could not load conversations.");
    renderList();
  }).then(function () { loadMoreBtn.disabled = false; });
}

/** "📎 photo.png" for a last message that is files only: the names when the server lists them,
 *  else "Attachment" (a bot's reply being written is empty too, and says nothing). */
function filePreview(last) {
  var files = Array.isArray(last.attachments) ? last.attachments : [];
  var names = files.map(function (f) { return typeof f === "string" ? f : f && f.name; }).filter(Boolean);
  if (names.length) return "📎 " + names.join(", ");
  if (last.sender === "bot" || last.kind === "event") return "";
  return "📎 " + gettext("Attachment");
}

function previewText(c) {
  var last = c.last_message;
  if (!last) return c.status === "queued" && c.handoff_reason ? handoffReasonLabel(c.handoff_reason) : gettext("No messages yet");
  var text = String(last.preview || "").replace(/\s+/g, " ");
  if (!text.trim()) text = filePreview(last); // a message of files only (attachments.js)
  if (last.kind === "note") return interpolate(gettext("Note: %(text)s"), { text: text });
  if (last.sender === "agent") return interpolate(gettext("Agent: %(text)s"), { text: text });
  if (last.sender === "bot") return interpolate(gettext("Bot: %(text)s"), { text: text });
  return text;
}

function listItem(c) {
  var openId = state.open ? state.open.id : null;
  var unread = state.unread.has(c.id);
  var name = contactName(c.contact);
  var avatar = h("span", { className: "avatar", "aria-hidden": "true" });
  paintAvatar(avatar, name, c.contact && c.contact.id);
  var assignee = c.status === "assigned" || c.status === "resolved" ? agentName(c.assignee, c.assignee_name) : null;
  var alert = state.alerts.get(c.id) || (state.waiting.has(c.id) ? "waiting" : null);
  var when = c.last_message_at || c.created_at;
  var whenAt = parseTime(when);
  var item = h("li", {
    className: "conv" + (c.id === openId ? " conv--active" : "") + (unread ? " conv--unread" : "") +
      (alert ? " conv--alert conv--alert-" + alert : ""),
    "data-testid": "conversation-item",
    "data-conversation-id": c.id,
    "data-status": c.status,
    "data-unread": unread ? "true" : "false",
    "data-alert": alert,
    role: "option",
    "aria-selected": c.id === openId ? "true" : "false",
  },
    h("a", { className: "conv__link", href: "#/" + state.view + "/" + c.id, "aria-current": c.id === openId ? "true" : null },
      avatar,
      h("span", { className: "conv__body" },
        h("span", { className: "conv__top" },
          h("span", { className: "conv__name", "data-testid": "conversation-name", text: name }),
          h("time", { className: "conv__time", "data-testid": "conversation-time", datetime: when || "", "data-time": when || "", title: whenAt !== null ? fullTime(whenAt) : null, text: relativeTime(when) })
        ),
        h("span", { className: "conv__preview", "data-testid": "conversation-preview", text: previewText(c) }),
        h("span", { className: "conv__bottom" },
          statusBadge(c.status),
          followUpBadge(c),
          alert ? h("span", { className: "conv__alert", "data-testid": "conversation-alert", text: alertLabel(alert) || alert }) : null,
          assignee ? h("span", { className: "conv__assignee", text: assignee }) : null,
          h("span", { className: "conv__id", text: "#" + c.id }),
          unread ? h("span", { className: "conv__dot", "aria-label": gettext("New activity") }) : null
        )
      )
    )
  );
  return item;
}

export function renderList() {
  var rows = [];
  state.listIds.forEach(function (id) {
    var c = state.conversations.get(id);
    if (c && inView(c, state.view)) rows.push(c);
  });
  rows.sort(byActivity);
  // Rebuild the rows but keep the scroll position: the list is at most a few hundred items.
  var scroll = listEl.parentNode.scrollTop;
  clear(listEl);
  rows.forEach(function (c) { listEl.appendChild(listItem(c)); });
  listEl.parentNode.scrollTop = scroll;

  listEl.setAttribute("data-view", state.view);
  listEl.setAttribute("aria-busy", state.listLoaded ? "false" : "true");
  if (!state.listLoaded) {
    showListState(gettext("Loading…"), "loading");
  } else if (state.listError) {
    showListState(state.listError, "error");
  } else if (!rows.length) {
    showListState(emptyText(state.view), "empty");
  } else {
    listStateEl.hidden = true;
  }
  loadMoreBtn.hidden = !(state.listLoaded && state.nextCursor);
  renderAttention();
}

function emptyText(view) {
  switch (view) {
    case "bot": return gettext("The bot is not talking to anyone right now.");
    case "queued": return gettext("Nobody is waiting. Nice work!");
    case "mine": return gettext("No conversations are assigned to you.");
    case "follow_up": return gettext("Nobody is waiting for an answer by e-mail.");
    default: return gettext("No conversations yet.");
  }
}

function showListState(text, kind) {
  listStateEl.hidden = false;
  listStateEl.setAttribute("data-state", kind);
  listStateEl.textContent = text;
}

/** A conversation snapshot from the server (an event, or an action's answer). */
export function onConversationUpdated(data) {
  var result = mergeConversation(data);
  if (!result) return;
  var c = result.now;
  // A reminder or a "new in the queue" alert is over once someone has the conversation.
  if (c.status !== "queued") {
    state.waiting.delete(c.id);
    if (state.alerts.get(c.id) === "queued" || state.alerts.get(c.id) === "waiting") state.alerts.delete(c.id);
  }
  if (state.alerts.get(c.id) === "assigned" && c.assignee !== ME.id) state.alerts.delete(c.id);
  var grew = !result.old || (c.last_seq || 0) > (result.old.last_seq || 0);
  var openId = state.open ? state.open.id : null;
  if (grew && c.id !== openId) state.unread.add(c.id);
  if (inView(c, state.view)) state.listIds.add(c.id);
  state.arrivedDuringLoad.add(c.id);
  renderList();
  if (c.id === openId) refreshOpenHeader();
}

/** Relative times in the list drift: redraw them. */
function refreshListTimes() {
  listEl.querySelectorAll("time[data-time]").forEach(function (t) {
    t.textContent = relativeTime(t.getAttribute("data-time"));
  });
}

export function wireList() {
  document.querySelectorAll(".tab").forEach(function (tab) {
    tab.addEventListener("click", function () {
      var view = tab.getAttribute("data-view");
      var open = state.open ? "/" + state.open.id : "";
      window.location.hash = "#/" + view + open;
    });
  });
  loadMoreBtn.addEventListener("click", function () { loadList(true); });
  setInterval(refreshListTimes, 30000);
}
