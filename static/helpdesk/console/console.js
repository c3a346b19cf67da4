/*
 * The agent console. Plain JS, no build step.
 *
 * Data comes from two places: the JSON API (/console/api/...) loads lists and transcripts, and
 * the WebSocket (/ws/console/, docs/protocol.md) delivers live events and carries writes.
 * The database is the source of truth: after every (re)connect the open conversation is
 * resumed from the last seq we hold, and messages are keyed by seq so replays never duplicate.
 *
 * Every piece of text from the server is rendered with textContent. Nothing here assigns
 * innerHTML; links are built as elements and only for http(s) URLs.
 */
(function () {
  "use strict";

  var boot = JSON.parse(document.getElementById("console-bootstrap").textContent);
  var ME = boot.agent;
  var VIEWS = boot.views || ["bot", "queued", "mine", "all"];
  var MAX_CHARS = boot.messageMaxChars || 4000;
  var STATUS_LABELS = { bot: "Bot", queued: "Queued", assigned: "Assigned", resolved: "Resolved" };
  var VIEW_LABELS = { bot: "Bot", queued: "Queued", mine: "Mine", all: "All" };
  var SENDER_LABELS = { contact: "Customer", bot: "Bot", agent: "Agent", system: "System" };
  var ALERT_LABELS = { queued: "New", assigned: "For you", waiting: "Still waiting" };
  var AVAILABILITY_LABELS = { online: "Online", busy: "Busy", offline: "Offline" };
  var ACTION_TIMEOUT_MS = 15000;
  var CANNED_CACHE_MS = 60000;
  var TYPING_SEND_EVERY_MS = 3000;
  var TYPING_IDLE_MS = 4000;
  var TYPING_SHOW_MS = 7000;
  var PING_EVERY_MS = 25000;
  var PONG_TIMEOUT_MS = 10000;
  var BACKOFF_MAX_MS = 30000;
  var GAP_CHECK_MS = 2500;

  var agentNames = new Map();
  (boot.agents || []).forEach(function (a) { agentNames.set(a.id, a.name); });

  // ---------------------------------------------------------------------------------------
  // Small helpers
  // ---------------------------------------------------------------------------------------

  function $(selector, root) { return (root || document).querySelector(selector); }

  /** Build an element. Text goes in through textContent only. */
  function h(tag, props) {
    var el = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (key) {
        var value = props[key];
        if (value === null || value === undefined || value === false) return;
        if (key === "text") el.textContent = String(value);
        else if (key === "className") el.className = value;
        else if (key.slice(0, 2) === "on") el.addEventListener(key.slice(2), value);
        else el.setAttribute(key, value === true ? "" : String(value));
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined || child === false) continue;
      el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return el;
  }

  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }

  function newClientId() {
    var c = window.crypto;
    if (c && typeof c.randomUUID === "function") {
      try { return c.randomUUID(); } catch (e) { /* insecure context: fall through */ }
    }
    if (c && typeof c.getRandomValues === "function") {
      var bytes = new Uint8Array(16);
      c.getRandomValues(bytes);
      return "c-" + Array.prototype.map.call(bytes, function (b) {
        return (b + 0x100).toString(16).slice(1);
      }).join("");
    }
    return "c-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12) +
      Math.random().toString(36).slice(2, 12);
  }

  /** An http(s) URL as a URL object, or null for anything else (javascript:, data:, ...). */
  function safeUrl(raw) {
    if (typeof raw !== "string" || !raw) return null;
    try {
      var url = new URL(raw, window.location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url : null;
    } catch (e) {
      return null;
    }
  }

  var URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
  var TRAILING_PUNCT_RE = /[.,;:!?'")\]}>]+$/;

  /** Text with http(s) links made clickable, everything else as text nodes. */
  function linkify(text) {
    var frag = document.createDocumentFragment();
    var last = 0;
    text = String(text == null ? "" : text);
    URL_RE.lastIndex = 0;
    var match;
    while ((match = URL_RE.exec(text)) !== null) {
      var raw = match[0];
      var trail = raw.match(TRAILING_PUNCT_RE);
      if (trail) raw = raw.slice(0, raw.length - trail[0].length);
      var url = safeUrl(raw);
      if (!url) continue;
      if (match.index > last) frag.appendChild(document.createTextNode(text.slice(last, match.index)));
      frag.appendChild(h("a", {
        href: url.href, target: "_blank", rel: "noopener noreferrer nofollow ugc", text: raw,
      }));
      last = match.index + raw.length;
      URL_RE.lastIndex = last;
    }
    if (last < text.length) frag.appendChild(document.createTextNode(text.slice(last)));
    return frag;
  }

  function parseTime(value) {
    if (!value) return null;
    var t = Date.parse(value);
    return isNaN(t) ? null : t;
  }

  var timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  var dayFmt = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long" });
  var shortDayFmt = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
  var fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

  function startOfDay(t) { var d = new Date(t); d.setHours(0, 0, 0, 0); return d.getTime(); }

  function relativeTime(value) {
    var t = parseTime(value);
    if (t === null) return "";
    var diff = Date.now() - t;
    if (diff < 60000) return "now";
    if (diff < 3600000) return Math.floor(diff / 60000) + "m";
    if (t >= startOfDay(Date.now())) return timeFmt.format(t);
    if (diff < 6 * 86400000) return new Intl.DateTimeFormat(undefined, { weekday: "short" }).format(t);
    return shortDayFmt.format(t);
  }

  function dayLabel(t) {
    var today = startOfDay(Date.now());
    var day = startOfDay(t);
    if (day === today) return "Today";
    var yesterday = new Date(today);
    yesterday.setDate(yesterday.getDate() - 1);
    if (day === yesterday.getTime()) return "Yesterday";
    return dayFmt.format(t);
  }

  var WORD_START_RE = /[\p{L}\p{N}]/u;

  function initials(name) {
    // The first letter or digit of the first and last words: "New <i>visitor</i>" is "NV".
    var words = String(name || "").split(/[^\p{L}\p{N}]+/u).filter(function (w) { return WORD_START_RE.test(w); });
    if (!words.length) return "?";
    var first = Array.from(words[0])[0];
    var last = words.length > 1 ? Array.from(words[words.length - 1])[0] : "";
    return (first + last).toUpperCase();
  }

  function avatarHue(id) { return ((Number(id) || 0) * 47) % 360; }

  function paintAvatar(el, name, id) {
    el.textContent = initials(name);
    el.style.setProperty("--avatar-hue", String(avatarHue(id)));
  }

  function statusBadge(status, extraClass) {
    return h("span", {
      className: "badge badge--" + (STATUS_LABELS[status] ? status : "unknown") + (extraClass ? " " + extraClass : ""),
      "data-testid": "status-badge",
      "data-status": status,
      text: STATUS_LABELS[status] || status || "—",
    });
  }

  function agentName(id, fallback) {
    if (id === null || id === undefined) return null;
    if (id === ME.id) return "You";
    return agentNames.get(id) || fallback || "Agent #" + id;
  }

  var toastRoot = $("[data-testid=toasts]");
  /** A short message in the corner. `options.action` ({label, run}) adds a button, e.g. "Open";
   * `options.testid` and `options.attrs` mark it for tests; `options.ms` keeps it longer. */
  function toast(text, kind, options) {
    options = options || {};
    var attrs = Object.assign({ className: "toast toast--" + (kind || "info"), role: "status", "data-testid": options.testid || "toast" }, options.attrs || {});
    var el = h("div", attrs, h("span", { className: "toast__text", text: text }));
    var remove = function () { if (el.parentNode) el.parentNode.removeChild(el); };
    if (options.action) {
      el.appendChild(h("button", { type: "button", className: "toast__action", "data-testid": "toast-action", text: options.action.label,
        onclick: function () { remove(); options.action.run(); } }));
    }
    el.appendChild(h("button", { type: "button", className: "toast__close", "aria-label": "Dismiss", text: "×", onclick: remove }));
    toastRoot.appendChild(el);
    // At most a handful at once: a burst of notifications must not cover the screen.
    while (toastRoot.children.length > 5) toastRoot.removeChild(toastRoot.firstChild);
    var ms = options.ms || 5000;
    setTimeout(function () { el.classList.add("toast--out"); }, ms - 500);
    setTimeout(remove, ms);
    return el;
  }

  // ---------------------------------------------------------------------------------------
  // HTTP
  // ---------------------------------------------------------------------------------------

  function ApiError(status, code, message) {
    this.status = status; this.code = code; this.message = message;
  }

  /** GET `path` (or POST it, with the CSRF token); the JSON body, or an ApiError. */
  function api(path, params, method) {
    var url = new URL(path, window.location.origin);
    if (params) {
      Object.keys(params).forEach(function (k) {
        if (params[k] !== null && params[k] !== undefined) url.searchParams.set(k, String(params[k]));
      });
    }
    var headers = { Accept: "application/json" };
    if (method === "POST") headers["X-CSRFToken"] = boot.csrfToken;
    return fetch(url.toString(), {
      method: method || "GET",
      credentials: "same-origin",
      headers: headers,
      cache: "no-store",
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        if (response.ok && body) return body;
        var err = (body && body.error) || {};
        if (err.code === "unauthenticated") {
          window.location.assign(boot.urls.login + "?next=" + encodeURIComponent(window.location.pathname + window.location.hash));
        }
        throw new ApiError(response.status, err.code || "http_" + response.status, err.message || "The request failed.");
      });
    });
  }

  function conversationUrl(id) { return boot.urls.conversations + "/" + encodeURIComponent(id); }

  // ---------------------------------------------------------------------------------------
  // State
  // ---------------------------------------------------------------------------------------

  var state = {
    view: "all",
    conversations: new Map(), // id -> conversation payload (list rows and live updates)
    listLoaded: false,
    listError: null,
    listToken: 0,
    listIds: new Set(), // the rows of the current view (filtered again on every render)
    arrivedDuringLoad: new Set(), // live updates that a list load in flight may not include
    nextCursor: null,
    unread: new Set(),
    open: null, // the open conversation, see openConversation()
    pending: new Map(), // client_id -> outgoing message not yet confirmed by message.created
    alerts: new Map(), // conversation id -> notification kind not yet looked at (queued/assigned/waiting)
    waiting: new Set(), // queued conversations the server reminded us of ("waiting")
    action: null, // the conversation action waiting for its answer, see runAction()
    selfAssigned: new Map(), // conversation id -> when we took it ourselves (no "assigned to you" ping)
    detailsVisible: window.matchMedia("(min-width: 1200px)").matches,
  };

  function byActivity(a, b) {
    var ta = parseTime(a.last_message_at);
    var tb = parseTime(b.last_message_at);
    if (ta !== tb) {
      if (ta === null) return 1;
      if (tb === null) return -1;
      return tb - ta;
    }
    return b.id - a.id;
  }

  function inView(conversation, view) {
    switch (view) {
      case "bot": return conversation.status === "bot";
      case "queued": return conversation.status === "queued";
      case "mine": return conversation.assignee === ME.id && conversation.status !== "resolved";
      default: return true;
    }
  }

  /** Merge a conversation snapshot; an older snapshot never rolls back the last message. */
  function mergeConversation(data) {
    if (!data || typeof data.id !== "number") return null;
    var old = state.conversations.get(data.id);
    var merged = Object.assign({}, old || {}, data);
    if (old && typeof old.last_seq === "number" && typeof data.last_seq === "number" && data.last_seq < old.last_seq) {
      merged.last_seq = old.last_seq;
      merged.last_message_at = old.last_message_at;
      merged.last_message = old.last_message;
    } else if (!data.last_message && old && old.last_message) {
      // Status-only updates carry no last message; keep the preview we have.
      merged.last_message = old.last_message;
    }
    state.conversations.set(data.id, merged);
    return { old: old, now: merged };
  }

  // ---------------------------------------------------------------------------------------
  // Conversation list
  // ---------------------------------------------------------------------------------------

  var listEl = $("[data-testid=conversation-list]");
  var listStateEl = $("[data-testid=conversation-list-state]");
  var loadMoreBtn = $("[data-testid=load-more]");

  function setView(view) {
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
  function loadList(more, quiet) {
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
      state.listError = err.message || "Could not load conversations.";
      renderList();
    }).then(function () { loadMoreBtn.disabled = false; });
  }
  function previewText(c) {
    var last = c.last_message;
    if (!last) return c.status === "queued" && c.handoff_reason ? c.handoff_reason : "No messages yet";
    var prefix = "";
    if (last.kind === "note") prefix = "Note: ";
    else if (last.sender === "agent") prefix = "Agent: ";
    else if (last.sender === "bot") prefix = "Bot: ";
    return prefix + String(last.preview || "").replace(/\s+/g, " ");
  }

  function listItem(c) {
    var openId = state.open ? state.open.id : null;
    var unread = state.unread.has(c.id);
    var name = (c.contact && c.contact.name) || "Visitor";
    var avatar = h("span", { className: "avatar", "aria-hidden": "true" });
    paintAvatar(avatar, name, c.contact && c.contact.id);
    var assignee = c.status === "assigned" || c.status === "resolved" ? agentName(c.assignee, c.assignee_name) : null;
    var alert = state.alerts.get(c.id) || (state.waiting.has(c.id) ? "waiting" : null);
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
            h("time", { className: "conv__time", datetime: c.last_message_at || c.created_at || "", "data-time": c.last_message_at || c.created_at || "", text: relativeTime(c.last_message_at || c.created_at) })
          ),
          h("span", { className: "conv__preview", "data-testid": "conversation-preview", text: previewText(c) }),
          h("span", { className: "conv__bottom" },
            statusBadge(c.status),
            alert ? h("span", { className: "conv__alert", "data-testid": "conversation-alert", text: ALERT_LABELS[alert] || alert }) : null,
            assignee ? h("span", { className: "conv__assignee", text: assignee }) : null,
            h("span", { className: "conv__id", text: "#" + c.id }),
            unread ? h("span", { className: "conv__dot", "aria-label": "New activity" }) : null
          )
        )
      )
    );
    return item;
  }

  function renderList() {
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
      showListState("Loading…", "loading");
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
      case "bot": return "The bot is not talking to anyone right now.";
      case "queued": return "Nobody is waiting. Nice work!";
      case "mine": return "No conversations are assigned to you.";
      default: return "No conversations yet.";
    }
  }

  function showListState(text, kind) {
    listStateEl.hidden = false;
    listStateEl.setAttribute("data-state", kind);
    listStateEl.textContent = text;
  }

  function onConversationUpdated(data) {
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

  // ---------------------------------------------------------------------------------------
  // The open conversation
  // ---------------------------------------------------------------------------------------

  var paneEmpty = $("[data-testid=no-conversation]");
  var threadEl = $("[data-testid=conversation]");
  var transcriptEl = $("[data-testid=transcript]");
  var jumpBtn = $("[data-testid=jump-to-latest]");
  var typingEl = $("[data-testid=typing-indicator]");
  var noticeEl = $("[data-testid=conversation-notice]");
  var composer = $("[data-testid=composer]");
  var input = $("[data-testid=composer-input]");
  var sendBtn = $("[data-testid=send-button]");
  var countEl = $("[data-testid=composer-count]");
  var detailsEl = $("[data-testid=contact-panel]");

  function openConversation(id) {
    if (state.open && state.open.id === id) return;
    closeConversation();
    restoreDraft(id);
    var open = {
      id: id,
      messages: new Map(), // seq -> message payload
      lastSeq: 0, // the highest seq up to which we hold every message
      loaded: false,
      subscribed: false,
      detail: null,
      error: null,
      contactReadSeq: 0,
      contactOnline: null,
      typers: new Map(), // "sender:name" -> {sender, name, until}
      panel: null, // the side panel's data: contact, product cards, past conversations
      panelError: null,
      readSent: 0,
      filling: false,
      stick: true, // keep the transcript scrolled to the bottom
    };
    state.open = open;
    state.unread.delete(id);
    state.alerts.delete(id);
    document.body.classList.add("has-open");
    paneEmpty.hidden = true;
    threadEl.hidden = false;
    composer.setAttribute("data-conversation", String(id));
    refreshOpenHeader();
    renderTranscript();
    renderList();
    renderDetails();
    typingEl.hidden = true;

    var detail = api(conversationUrl(id)).then(function (body) {
      if (state.open !== open) return;
      open.detail = body;
      open.contactReadSeq = Math.max(open.contactReadSeq, (body.read && body.read.contact) || 0);
      mergeConversation(body.conversation);
      refreshOpenHeader();
      renderDetails();
      renderList();
    });
    loadPanel(open);
    var messages = loadMessagesAfter(open, 0);
    Promise.all([detail, messages]).then(function () {
      if (state.open !== open) return;
      open.loaded = true;
      scheduleTranscript(true);
      if (socket.isOpen()) syncOpenConversation();
      markRead();
    }).catch(function (err) {
      if (state.open !== open) return;
      open.error = err;
      renderTranscript();
      refreshOpenHeader();
    });
    if (window.matchMedia("(max-width: 767px)").matches) input.blur();
    else input.focus({ preventScroll: true });
  }

  function closeConversation() {
    var open = state.open;
    if (!open) return;
    stopTyping();
    closeCanned();
    saveDraft(open.id);
    if (open.subscribed) socket.send({ type: "unsubscribe", conversation: open.id });
    state.open = null;
    document.body.classList.remove("has-open");
    paneEmpty.hidden = false;
    threadEl.hidden = true;
    renderDetails();
    renderList();
    emit("change");
  }

  /** Fetch every message after `after` over HTTP, page by page, into `open`. */
  function loadMessagesAfter(open, after) {
    return api(conversationUrl(open.id) + "/messages", { after: after, limit: 200 }).then(function (body) {
      if (state.open !== open) return null;
      body.messages.forEach(function (m) { putMessage(open, m); });
      scheduleTranscript();
      var last = body.messages.length ? body.messages[body.messages.length - 1].seq : after;
      if (body.has_more && last > after) return loadMessagesAfter(open, last);
      return null;
    });
  }

  /** Catch up over HTTP when the socket shows we are missing something. */
  function fillGap(open) {
    if (!open || open.filling || !open.loaded) return;
    open.filling = true;
    loadMessagesAfter(open, open.lastSeq).catch(function () { /* the next resume retries */ })
      .then(function () { open.filling = false; markRead(); });
  }

  function advanceLastSeq(open) {
    while (open.messages.has(open.lastSeq + 1) && !open.messages.get(open.lastSeq + 1)._placeholder) {
      open.lastSeq += 1;
    }
  }

  function putMessage(open, m) {
    if (!m || typeof m.seq !== "number") return;
    var existing = open.messages.get(m.seq);
    // A stored copy replaces a placeholder built from deltas; between stored copies the newer
    // state wins, and a late "streaming" copy never overwrites a finished one.
    if (existing && !existing._placeholder && existing.state !== "streaming" && m.state === "streaming") return;
    open.messages.set(m.seq, Object.assign({}, m));
    if (m.client_id && state.pending.has(m.client_id)) state.pending.delete(m.client_id);
    advanceLastSeq(open);
  }

  function onMessageDelta(open, frame) {
    var data = frame.data || {};
    var seq = frame.seq;
    if (typeof seq !== "number" || typeof data.delta !== "string") return;
    var m = open.messages.get(seq);
    if (m && m.state !== "streaming") return; // finished already; a late delta changes nothing
    if (!m) {
      m = { id: data.id, seq: seq, sender: data.sender || "bot", sender_name: SENDER_LABELS[data.sender] || "Bot",
        kind: "text", text: "", metadata: {}, state: "streaming", created_at: new Date().toISOString(), _placeholder: true };
      open.messages.set(seq, m);
      m.text += data.delta;
      scheduleTranscript();
      return;
    }
    m.text += data.delta;
    // Grow the one bubble in place: re-rendering the transcript on every delta would be waste.
    var textEl = transcriptEl.querySelector('[data-seq="' + seq + '"] .msg__text');
    if (textEl) {
      var stick = isNearBottom();
      clear(textEl);
      textEl.appendChild(linkify(m.text));
      if (stick) scrollToBottom();
    } else {
      scheduleTranscript();
    }
  }

  // -- rendering the transcript --------------------------------------------------------------

  var transcriptQueued = false;
  var transcriptForceBottom = false;
  function scheduleTranscript(forceBottom) {
    if (forceBottom) transcriptForceBottom = true;
    if (transcriptQueued) return;
    transcriptQueued = true;
    window.requestAnimationFrame(function () {
      transcriptQueued = false;
      renderTranscript();
    });
  }

  function isNearBottom() {
    return transcriptEl.scrollHeight - transcriptEl.scrollTop - transcriptEl.clientHeight < 80;
  }

  function scrollToBottom() {
    transcriptEl.scrollTop = transcriptEl.scrollHeight;
    jumpBtn.hidden = true;
  }

  function renderTranscript() {
    var open = state.open;
    var stick = transcriptForceBottom || isNearBottom();
    transcriptForceBottom = false;
    var previousHeight = transcriptEl.scrollHeight;
    clear(transcriptEl);
    if (!open) return;
    if (open.error) {
      var gone = open.error.status === 404;
      transcriptEl.appendChild(h("div", { className: "transcript__state", "data-testid": "transcript-error" },
        h("strong", { text: gone ? "Conversation not found" : "Could not load this conversation" }),
        h("span", { text: gone ? "It may have been deleted, or the link is wrong." : open.error.message || "" })));
      return;
    }
    if (!open.loaded && !open.messages.size) {
      transcriptEl.appendChild(h("div", { className: "transcript__state", "data-testid": "transcript-loading" },
        h("span", { className: "spinner", "aria-hidden": "true" }), h("span", { text: "Loading messages…" })));
      return;
    }
    var list = Array.from(open.messages.values()).sort(function (a, b) { return a.seq - b.seq; });
    if (!list.length && !pendingFor(open.id).length) {
      transcriptEl.appendChild(h("div", { className: "transcript__state", "data-testid": "transcript-empty" },
        h("span", { text: "No messages yet." })));
    }
    var seenSeq = lastSeenOutgoing(open, list);
    var prev = null;
    var prevDay = null;
    list.forEach(function (m) {
      var t = parseTime(m.created_at) || Date.now();
      var day = startOfDay(t);
      if (day !== prevDay) {
        transcriptEl.appendChild(h("div", { className: "day", role: "separator" }, h("span", { text: dayLabel(t) })));
        prevDay = day;
        prev = null;
      }
      transcriptEl.appendChild(messageEl(m, prev, m.seq === seenSeq));
      prev = m;
    });
    pendingFor(open.id).forEach(function (p) {
      transcriptEl.appendChild(pendingEl(p, prev));
      prev = { sender: "agent", kind: p.kind, sender_name: ME.name, created_at: p.createdAt, _pending: true };
    });
    if (stick) scrollToBottom();
    else if (transcriptEl.scrollHeight > previousHeight) jumpBtn.hidden = false;
  }

  function lastSeenOutgoing(open, list) {
    if (!open.contactReadSeq) return null;
    var seen = null;
    list.forEach(function (m) {
      if (m.seq <= open.contactReadSeq && m.kind === "text" && (m.sender === "agent" || m.sender === "bot")) seen = m.seq;
    });
    return seen;
  }

  function isEvent(m) { return m.kind === "event" || m.sender === "system"; }

  function sameGroup(prev, m) {
    if (!prev || isEvent(prev) || isEvent(m)) return false;
    if (prev.sender !== m.sender || prev.kind !== m.kind || prev.sender_name !== m.sender_name) return false;
    var a = parseTime(prev.created_at);
    var b = parseTime(m.created_at);
    return a !== null && b !== null && b - a < 5 * 60000;
  }

  function messageEl(m, prev, seen) {
    var attrs = {
      "data-testid": "message",
      "data-seq": m.seq,
      "data-kind": m.kind,
      "data-sender": m.sender,
      "data-state": m.state,
      "data-message-id": m.id,
      "data-client-id": m.client_id || null,
    };
    var t = parseTime(m.created_at);
    if (isEvent(m)) {
      attrs.className = "msg msg--event";
      return h("div", attrs, h("span", { className: "msg__event" },
        h("span", { className: "msg__text", text: m.text }),
        t !== null ? h("time", { className: "msg__time", datetime: m.created_at, title: fullFmt.format(t), text: timeFmt.format(t) }) : null));
    }
    var side = m.sender === "contact" ? "in" : "out";
    var cls = "msg msg--" + side + " msg--" + m.sender + (m.kind === "note" ? " msg--note" : "");
    if (sameGroup(prev, m)) cls += " msg--cont";
    if (m.state === "streaming") cls += " msg--streaming";
    if (m.state === "interrupted") cls += " msg--interrupted";
    attrs.className = cls;
    var label = m.kind === "note" ? "Private note" : null;
    var bubble = h("div", { className: "msg__bubble" },
      label ? h("div", { className: "msg__label" }, lockIcon(), h("span", { text: label })) : null,
      h("div", { className: "msg__text" }, linkify(m.text)),
      cardsEl(m.metadata)
    );
    var status = null;
    if (m.state === "interrupted") status = h("span", { className: "msg__flag", text: "Interrupted" });
    else if (m.state === "streaming") status = h("span", { className: "msg__flag", text: "Writing…" });
    else if (seen) status = h("span", { className: "msg__seen", "data-testid": "seen-marker", text: "Seen" });
    var el = h("div", attrs,
      h("div", { className: "msg__meta" },
        h("span", { className: "msg__author", text: m.sender_name || SENDER_LABELS[m.sender] || m.sender }),
        t !== null ? h("time", { className: "msg__time", datetime: m.created_at, title: fullFmt.format(t), text: timeFmt.format(t) }) : null),
      bubble
    );
    addOnParts("message", m).forEach(function (part) { el.appendChild(part); });
    if (status) el.appendChild(h("div", { className: "msg__status" }, status));
    return el;
  }

  function lockIcon() {
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("width", "12"); svg.setAttribute("height", "12");
    svg.setAttribute("viewBox", "0 0 16 16"); svg.setAttribute("aria-hidden", "true");
    var rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
    rect.setAttribute("x", "3"); rect.setAttribute("y", "7"); rect.setAttribute("width", "10");
    rect.setAttribute("height", "7"); rect.setAttribute("rx", "1.5"); rect.setAttribute("fill", "currentColor");
    var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", "M5.5 7V5a2.5 2.5 0 0 1 5 0v2"); path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor"); path.setAttribute("stroke-width", "1.5");
    svg.appendChild(rect); svg.appendChild(path);
    return svg;
  }

  function formatPrice(price, currency) {
    if (price === null || price === undefined || price === "") return null;
    var n = typeof price === "number" ? price : Number(price);
    if (typeof currency === "string" && /^[A-Za-z]{3}$/.test(currency) && isFinite(n)) {
      try {
        return new Intl.NumberFormat(undefined, { style: "currency", currency: currency.toUpperCase() }).format(n);
      } catch (e) { /* unknown currency code: plain text below */ }
    }
    return String(price) + (currency ? " " + String(currency) : "");
  }

  function stockText(stock) {
    if (stock === null || stock === undefined || stock === "") return null;
    if (typeof stock === "boolean") return stock ? "In stock" : "Out of stock";
    if (typeof stock === "number") return stock > 0 ? stock + " in stock" : "Out of stock";
    return String(stock);
  }

  function cardsEl(metadata) {
    var cards = metadata && Array.isArray(metadata.cards) ? metadata.cards : [];
    cards = cards.filter(function (c) { return c && typeof c === "object"; });
    if (!cards.length) return null;
    var wrap = h("div", { className: "cards" });
    cards.slice(0, 10).forEach(function (card) {
      var url = safeUrl(card.url);
      var image = safeUrl(card.image);
      var price = formatPrice(card.price, card.currency);
      var stock = stockText(card.stock);
      var out = stock === "Out of stock";
      var body = h("span", { className: "card__body" },
        h("span", { className: "card__title", text: card.title ? String(card.title) : (url ? url.hostname : "Product") }),
        price ? h("span", { className: "card__price", text: price }) : null,
        stock ? h("span", { className: "card__stock" + (out ? " card__stock--out" : ""), text: stock }) : null,
        url ? h("span", { className: "card__host", text: url.hostname }) : null);
      var media = image
        ? h("img", { className: "card__img", src: image.href, alt: "", loading: "lazy", referrerpolicy: "no-referrer" })
        : h("span", { className: "card__img card__img--none", "aria-hidden": "true" });
      var el = url
        ? h("a", { className: "card", "data-testid": "product-card", href: url.href, target: "_blank", rel: "noopener noreferrer nofollow" }, media, body)
        : h("div", { className: "card", "data-testid": "product-card" }, media, body);
      wrap.appendChild(el);
    });
    return wrap;
  }

  function pendingFor(conversationId) {
    var list = [];
    state.pending.forEach(function (p) { if (p.conversation === conversationId) list.push(p); });
    return list.sort(function (a, b) { return a.order - b.order; });
  }

  function pendingEl(p, prev) {
    var failed = p.state === "failed";
    var cls = "msg msg--out msg--agent msg--pending" + (p.kind === "note" ? " msg--note" : "") + (failed ? " msg--failed" : "");
    var m = { sender: "agent", kind: p.kind, sender_name: ME.name, created_at: p.createdAt };
    if (sameGroup(prev, m)) cls += " msg--cont";
    var status = failed
      ? h("div", { className: "msg__status msg__status--failed" },
          h("span", { text: "Not sent" + (p.error ? ": " + p.error : "") }),
          h("button", { type: "button", className: "link-btn", "data-testid": "retry-message", onclick: function () { retry(p.clientId); }, text: "Retry" }),
          h("button", { type: "button", className: "link-btn", "data-testid": "discard-message", onclick: function () { discard(p.clientId); }, text: "Discard" }))
      : h("div", { className: "msg__status" }, h("span", { className: "msg__flag", text: socket.isOpen() ? "Sending…" : "Waiting for connection…" }));
    return h("div", {
      className: cls,
      "data-testid": "message",
      "data-client-id": p.clientId,
      "data-kind": p.kind,
      "data-sender": "agent",
      "data-state": failed ? "failed" : "pending",
    },
      h("div", { className: "msg__meta" }, h("span", { className: "msg__author", text: ME.name })),
      h("div", { className: "msg__bubble" },
        p.kind === "note" ? h("div", { className: "msg__label" }, lockIcon(), h("span", { text: "Private note" })) : null,
        h("div", { className: "msg__text" }, linkify(p.text))),
      status);
  }

  // -- header, notice and side panel ---------------------------------------------------------

  function currentConversation() {
    return state.open ? state.conversations.get(state.open.id) || null : null;
  }

  function refreshOpenHeader() {
    var open = state.open;
    if (!open) return;
    var c = currentConversation();
    var name = c && c.contact ? c.contact.name : (open.error ? "Conversation" : "Loading…");
    $("[data-testid=conversation-title]").textContent = name;
    paintAvatar($("[data-testid=conversation-avatar]"), name, c && c.contact ? c.contact.id : open.id);
    var badge = $("[data-testid=conversation-status]");
    badge.className = "badge badge--" + (c ? c.status : "unknown");
    badge.setAttribute("data-status", c ? c.status : "");
    badge.textContent = c ? STATUS_LABELS[c.status] || c.status : "";
    badge.hidden = !c;
    var sub = ["#" + open.id];
    if (open.detail && open.detail.inbox) sub.push(open.detail.inbox.name);
    if (c && c.assignee !== null && c.assignee !== undefined) sub.push("Assigned to " + agentName(c.assignee, c.assignee_name));
    $("[data-testid=conversation-subtitle]").textContent = sub.join(" · ");
    threadEl.setAttribute("data-conversation-id", String(open.id));
    threadEl.setAttribute("data-status", c ? c.status : "");

    var presence = $("[data-testid=contact-presence]");
    presence.hidden = open.contactOnline === null;
    presence.setAttribute("data-online", open.contactOnline ? "true" : "false");
    presence.textContent = open.contactOnline ? "Online" : "Offline";

    var closed = c && c.status === "resolved";
    var notice = null;
    if (closed) notice = "This conversation is resolved. Reopen it to reply.";
    else if (c && c.status === "bot") notice = "The bot is answering this conversation.";
    else if (c && c.status === "queued") notice = "Waiting for an agent" + (c.handoff_reason ? " — " + c.handoff_reason : "") + ".";
    else if (c && c.status === "assigned" && c.assignee !== ME.id && c.assignee !== null && c.assignee !== undefined) {
      notice = agentName(c.assignee, c.assignee_name) + " is handling this conversation.";
    }
    noticeEl.hidden = !notice;
    noticeEl.textContent = notice || "";
    noticeEl.setAttribute("data-status", c ? c.status : "");
    composer.classList.toggle("composer--disabled", !!closed);
    composer.hidden = !!open.error;
    input.disabled = !!closed || !!open.error;
    updateComposer();
    renderActions();
    renderDetails();
    emit("change");
  }

  function detailRow(label, value, testid) {
    if (value === null || value === undefined || value === "") return null;
    return h("div", { className: "kv" },
      h("dt", { text: label }),
      h("dd", { "data-testid": testid || null }, typeof value === "string" ? linkify(value) : value));
  }

  function renderDetails() {
    var empty = $("[data-testid=contact-panel-empty]");
    var body = $(".details__body", detailsEl);
    document.body.classList.toggle("details-open", state.detailsVisible);
    $("[data-testid=toggle-details]").setAttribute("aria-pressed", state.detailsVisible ? "true" : "false");
    var open = state.open;
    if (!open || !open.detail) {
      empty.hidden = false;
      empty.textContent = open && !open.error ? "Loading contact…" : "Contact details show here when a conversation is open.";
      body.hidden = true;
      return;
    }
    empty.hidden = true;
    body.hidden = false;
    clear(body);
    var d = open.detail;
    var c = currentConversation() || d.conversation;
    // The panel's answer is the newer look at the contact when it arrived after the detail.
    var contact = (open.panel && open.panel.contact) || d.contact;
    var avatar = h("span", { className: "avatar avatar--lg", "aria-hidden": "true" });
    paintAvatar(avatar, contact.name, contact.id);
    var when = function (v) { var t = parseTime(v); return t === null ? null : fullFmt.format(t); };
    body.appendChild(h("div", { className: "details__head" }, avatar,
      h("div", null,
        h("div", { className: "details__name", "data-testid": "contact-name", text: contact.name }),
        contact.email ? h("div", { className: "details__email", "data-testid": "contact-email", text: contact.email }) : h("div", { className: "details__email muted", text: "No e-mail yet" })),
      h("button", { type: "button", className: "icon-btn details__close", "aria-label": "Close details", "data-testid": "close-details", text: "×",
        onclick: function () { state.detailsVisible = false; renderDetails(); } })));

    var contactList = h("dl", { className: "kv-list" },
      detailRow("Visitor", contact.visitor_id ? contact.visitor_id.slice(0, 8) : null),
      detailRow("Visitor since", when(contact.created_at), "contact-since"),
      detailRow("Last seen", when(contact.last_seen_at) || "—", "contact-last-seen"));
    var meta = contact.metadata || {};
    Object.keys(meta).slice(0, 20).forEach(function (key) {
      var v = meta[key];
      var text = typeof v === "string" ? v : JSON.stringify(v);
      if (text && text.length > 300) text = text.slice(0, 300) + "…";
      var row = detailRow(key, text);
      if (row) contactList.appendChild(row);
    });
    body.appendChild(h("section", { className: "details__section", "data-testid": "contact-details" },
      h("h3", { text: "Contact" }), contactList));

    body.appendChild(h("section", { className: "details__section", "data-testid": "conversation-details" },
      h("h3", { text: "Conversation" }),
      h("dl", { className: "kv-list" },
        detailRow("Status", statusBadge(c.status)),
        detailRow("Inbox", d.inbox ? d.inbox.name : null),
        detailRow("Assignee", c.assignee !== null && c.assignee !== undefined ? agentName(c.assignee, c.assignee_name) : "Nobody"),
        detailRow("Handoff reason", c.handoff_reason || null),
        detailRow("Started", when(c.created_at)),
        detailRow("Messages", c.last_seq ? String(c.last_seq) : "0"))));

    body.appendChild(productsSection(open));
    body.appendChild(pastSection(open));
  }

  /** Product cards from the contact's messages, newest mention first. */
  function productsSection(open) {
    var section = h("section", { className: "details__section", "data-testid": "contact-products" });
    var cards = open.panel ? open.panel.cards : null;
    section.appendChild(h("h3", null, "Products", cards && cards.length ? h("span", { className: "details__count", text: String(cards.length) }) : null));
    if (!open.panel) {
      section.appendChild(h("p", { className: "details__note", text: open.panelError ? "Could not load products." : "Loading…" }));
      return section;
    }
    if (!cards.length) {
      section.appendChild(h("p", { className: "details__note", "data-testid": "contact-products-empty", text: "No product links in this customer's messages yet." }));
      return section;
    }
    var list = h("div", { className: "mini-cards" });
    cards.forEach(function (card) {
      var url = safeUrl(card.url);
      var image = safeUrl(card.image);
      var price = formatPrice(card.price, card.currency);
      var stock = stockText(card.stock);
      var elsewhere = card.conversation && card.conversation !== open.id;
      var body = h("span", { className: "mini-card__body" },
        h("span", { className: "mini-card__title", text: card.title ? String(card.title) : (url ? url.hostname : "Product") }),
        h("span", { className: "mini-card__meta" },
          price ? h("span", { className: "mini-card__price", text: price }) : null,
          stock ? h("span", { className: "card__stock" + (stock === "Out of stock" ? " card__stock--out" : ""), text: stock }) : null),
        h("span", { className: "mini-card__where", text: (elsewhere ? "In #" + card.conversation + " · " : "") + (relativeTime(card.seen_at) || "") }));
      var media = image
        ? h("img", { className: "mini-card__img", src: image.href, alt: "", loading: "lazy", referrerpolicy: "no-referrer" })
        : h("span", { className: "mini-card__img mini-card__img--none", "aria-hidden": "true" });
      var attrs = { className: "mini-card", "data-testid": "panel-product-card", "data-url": url ? url.href : null };
      list.appendChild(url
        ? h("a", Object.assign(attrs, { href: url.href, target: "_blank", rel: "noopener noreferrer nofollow" }), media, body)
        : h("div", attrs, media, body));
    });
    section.appendChild(list);
    return section;
  }

  /** The contact's other conversations, newest first; clicking one opens it. */
  function pastSection(open) {
    var section = h("section", { className: "details__section", "data-testid": "past-conversations" });
    var past = open.panel ? open.panel.conversations : null;
    section.appendChild(h("h3", null, "Past conversations", past && past.length ? h("span", { className: "details__count", text: String(past.length) + (open.panel.more_conversations ? "+" : "") }) : null));
    if (!open.panel) {
      section.appendChild(h("p", { className: "details__note", text: open.panelError ? "Could not load the history." : "Loading…" }));
      return section;
    }
    if (!past.length) {
      section.appendChild(h("p", { className: "details__note", "data-testid": "past-conversations-empty", text: "This is their first conversation." }));
      return section;
    }
    var list = h("ul", { className: "past" });
    past.forEach(function (p) {
      // Live updates of a past conversation (it was reopened, say) show here too.
      var c = state.conversations.get(p.id) || p;
      var t = parseTime(c.created_at);
      list.appendChild(h("li", null, h("a", {
        className: "past__link", href: "#/" + state.view + "/" + c.id,
        "data-testid": "past-conversation", "data-conversation-id": c.id, "data-status": c.status,
      },
        h("span", { className: "past__top" },
          statusBadge(c.status),
          h("time", { className: "past__date", datetime: c.created_at || "", title: t !== null ? fullFmt.format(t) : null, text: t !== null ? shortDayFmt.format(t) + ", " + timeFmt.format(t) : "" }),
          h("span", { className: "past__id", text: "#" + c.id })),
        h("span", { className: "past__preview", text: c.last_message ? String(c.last_message.preview || "").replace(/\s+/g, " ") : "No messages" }))));
    });
    section.appendChild(list);
    if (open.panel.more_conversations) {
      section.appendChild(h("p", { className: "details__note", text: "Older conversations are not shown." }));
    }
    return section;
  }

  function loadPanel(open) {
    open.panelError = null;
    return api(conversationUrl(open.id) + "/contact").then(function (body) {
      if (state.open !== open) return;
      open.panel = body;
      renderDetails();
    }).catch(function (err) {
      if (state.open !== open) return;
      open.panelError = err;
      renderDetails();
    });
  }

  /** A message of the open conversation got product cards (the plugin runs after it is stored):
   * put them at the top of the panel's list without asking the server again. */
  function panelCardsFrom(open, m) {
    if (!open.panel || !m || m.sender !== "contact" || !m.metadata || !Array.isArray(m.metadata.cards)) return;
    var cards = open.panel.cards;
    var added = false;
    m.metadata.cards.slice().reverse().forEach(function (card) {
      if (!card || typeof card !== "object" || !(card.url || card.title)) return;
      var key = card.url ? "u:" + card.url : "t:" + card.title;
      var at = -1;
      cards.forEach(function (x, i) { if ((x.url ? "u:" + x.url : "t:" + x.title) === key) at = i; });
      if (at === 0) return;
      if (at > 0) cards.splice(at, 1);
      cards.unshift(Object.assign({}, card, { conversation: open.id, seen_at: m.created_at }));
      added = true;
    });
    if (added) renderDetails();
  }

  // -- typing, read, presence ------------------------------------------------------------------

  function renderTyping() {
    var open = state.open;
    if (!open) { typingEl.hidden = true; return; }
    var now = Date.now();
    var names = [];
    open.typers.forEach(function (t, key) {
      if (t.until < now) open.typers.delete(key);
      else names.push(t.name);
    });
    typingEl.hidden = !names.length;
    typingEl.setAttribute("data-typing", names.length ? "true" : "false");
    $(".typing__text", typingEl).textContent = names.length
      ? names.join(", ") + (names.length > 1 ? " are typing…" : " is typing…")
      : "";
  }
  setInterval(renderTyping, 1000);

  function onTyping(open, data) {
    if (!data || typeof data.sender !== "string") return;
    // The server relays typing to the whole conversation group, this connection included.
    if (data.sender === "agent" && data.name === ME.name) return;
    var name = data.name || (data.sender === "contact"
      ? ((currentConversation() && currentConversation().contact && currentConversation().contact.name) || "The customer")
      : SENDER_LABELS[data.sender] || "Someone");
    var key = data.sender + ":" + name;
    if (data.typing) open.typers.set(key, { sender: data.sender, name: name, until: Date.now() + TYPING_SHOW_MS });
    else open.typers.delete(key);
    renderTyping();
  }

  var readTimer = null;
  function markRead() {
    clearTimeout(readTimer);
    readTimer = setTimeout(function () {
      var open = state.open;
      if (!open || !open.loaded || !socket.isOpen() || document.visibilityState !== "visible") return;
      if (open.lastSeq > open.readSent) {
        open.readSent = open.lastSeq;
        socket.send({ type: "read", conversation: open.id, seq: open.lastSeq });
      }
    }, 400);
  }
  document.addEventListener("visibilitychange", markRead);

  // ---------------------------------------------------------------------------------------
  // Composer
  // ---------------------------------------------------------------------------------------

  var mode = "text";
  var pendingOrder = 0;
  var typingSentAt = 0;
  var typingIdle = null;
  var typingFor = null;

  // What the agent was writing stays with its conversation when they look at another one.
  var drafts = new Map();

  function saveDraft(id) {
    if (input.value || mode !== "text") drafts.set(id, { text: input.value, mode: mode });
    else drafts.delete(id);
  }

  function restoreDraft(id) {
    var draft = drafts.get(id) || { text: "", mode: "text" };
    input.value = draft.text;
    setMode(draft.mode, true);
    autosize();
    updateComposer();
  }

  function setMode(next, quiet) {
    if (next === "note" && mode !== "note") stopTyping();
    mode = next === "note" ? "note" : "text";
    composer.setAttribute("data-mode", mode);
    composer.querySelectorAll(".mode").forEach(function (b) {
      b.setAttribute("aria-pressed", b.getAttribute("data-mode") === mode ? "true" : "false");
    });
    input.placeholder = mode === "note"
      ? "Write a private note — only agents see it…"
      : "Write a reply…";
    if (!quiet) input.focus();
  }

  /** Put `text` in the composer as a reply for the agent to edit (agent assist's draft). Not
   * typing: the customer sees "typing" only when the agent edits it. */
  function fillComposer(text) {
    if (mode !== "text") setMode("text", true);
    input.value = text;
    autosize();
    updateComposer();
  }

  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 200) + "px";
  }

  function updateComposer() {
    var length = input.value.trim().length;
    var over = input.value.length > MAX_CHARS;
    sendBtn.disabled = !state.open || input.disabled || !length || over;
    sendBtn.textContent = mode === "note" ? "Add note" : "Send";
    var near = input.value.length > MAX_CHARS * 0.8;
    countEl.hidden = !near;
    countEl.textContent = input.value.length + " / " + MAX_CHARS;
    countEl.classList.toggle("composer__count--over", over);
  }

  function sendTyping(typing) {
    var open = state.open;
    if (!open || !socket.isOpen()) return;
    socket.send({ type: "typing", conversation: open.id, data: { typing: typing } });
  }

  function onComposerInput() {
    autosize();
    updateComposer();
    updateCanned();
    // A private note is not the customer's business: never show them "agent is typing" for it.
    if (mode !== "text" || !state.open) return;
    var now = Date.now();
    if (input.value.trim() && now - typingSentAt > TYPING_SEND_EVERY_MS) {
      typingSentAt = now;
      typingFor = state.open.id;
      sendTyping(true);
    }
    clearTimeout(typingIdle);
    typingIdle = setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  function stopTyping() {
    clearTimeout(typingIdle);
    if (typingFor !== null && state.open && state.open.id === typingFor) sendTyping(false);
    typingFor = null;
    typingSentAt = 0;
  }

  function submit() {
    var open = state.open;
    var text = input.value.trim();
    if (!open || !text || input.disabled) return;
    if (input.value.length > MAX_CHARS) {
      toast("The message is longer than " + MAX_CHARS + " characters.", "error");
      return;
    }
    stopTyping();
    var p = {
      clientId: newClientId(),
      conversation: open.id,
      text: text,
      kind: mode,
      state: "pending",
      error: null,
      order: ++pendingOrder,
      createdAt: new Date().toISOString(),
      sentAt: 0,
    };
    state.pending.set(p.clientId, p);
    input.value = "";
    autosize();
    updateComposer();
    scheduleTranscript(true);
    transmit(p);
  }

  function transmit(p) {
    if (!socket.isOpen()) return; // it goes out when the socket is back
    p.sentAt = Date.now();
    socket.send({ type: "message.send", conversation: p.conversation, data: { client_id: p.clientId, text: p.text, kind: p.kind } });
  }

  function retry(clientId) {
    var p = state.pending.get(clientId);
    if (!p) return;
    p.state = "pending";
    p.error = null;
    scheduleTranscript();
    transmit(p);
  }

  function discard(clientId) {
    state.pending.delete(clientId);
    scheduleTranscript();
  }

  function resendPending() {
    state.pending.forEach(function (p) { if (p.state === "pending") transmit(p); });
  }

  input.addEventListener("input", onComposerInput);
  input.addEventListener("keydown", function (e) {
    if (cannedKeydown(e)) return;
    // isComposing: Enter that confirms an IME candidate (Japanese, Chinese, ...) is not "send".
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submit();
    }
  });
  composer.addEventListener("submit", function (e) { e.preventDefault(); submit(); });
  composer.querySelectorAll(".mode").forEach(function (b) {
    b.addEventListener("click", function () {
      var wanted = b.getAttribute("data-mode");
      // The note toggle toggles; "Reply" always goes back to replying.
      setMode(wanted === "note" && mode === "note" ? "text" : wanted);
      updateComposer();
    });
  });

  // ---------------------------------------------------------------------------------------
  // WebSocket
  // ---------------------------------------------------------------------------------------

  var connEl = $("[data-testid=connection-status]");
  var connText = $(".conn__text", connEl);
  var retryBtn = $("[data-testid=reconnect-now]");

  function setConnection(kind, text) {
    connEl.setAttribute("data-state", kind);
    connText.textContent = text;
    retryBtn.hidden = kind !== "reconnecting";
    document.body.setAttribute("data-connection", kind);
  }

  var socket = (function () {
    var ws = null;
    var attempts = 0;
    var reconnectTimer = null;
    var pingTimer = null;
    var pongTimer = null;
    var everConnected = false;
    var stopped = false;

    function url() {
      var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
      return scheme + "//" + window.location.host + boot.urls.socket;
    }

    function isOpen() { return !!ws && ws.readyState === WebSocket.OPEN; }

    function send(frame) {
      if (!isOpen()) return false;
      try { ws.send(JSON.stringify(frame)); return true; } catch (e) { return false; }
    }

    function connect() {
      if (stopped) return;
      clearTimeout(reconnectTimer);
      reconnectTimer = null;
      setConnection(everConnected || attempts ? "reconnecting" : "connecting", everConnected || attempts ? "Reconnecting…" : "Connecting…");
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
        setConnection("online", "Live");
        var again = everConnected;
        everConnected = true;
        heartbeat();
        onConnected(again);
      };
      sock.onmessage = function (event) {
        if (ws !== sock) return;
        var frame;
        try { frame = JSON.parse(event.data); } catch (e) { return; }
        if (!frame || typeof frame !== "object") return;
        if (frame.type === "welcome" || frame.type === "pong") attempts = 0;
        if (frame.type === "pong") clearTimeout(pongTimer);
        handleFrame(frame);
      };
      sock.onclose = function (event) {
        if (ws !== sock) return;
        ws = null;
        stopHeartbeat();
        onDisconnected();
        if (event.code === 4403) {
          stopped = true;
          setConnection("offline", "Access removed");
          toast("Your access to the console was removed.", "error");
          return;
        }
        if (event.code === 4401) {
          // The session is gone (expired or signed out elsewhere): sign in again.
          stopped = true;
          setConnection("offline", "Signed out");
          window.location.assign(boot.urls.login + "?next=" + encodeURIComponent(window.location.pathname + window.location.hash));
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
      setConnection("reconnecting", "Reconnecting…");
      connEl.setAttribute("data-retry-in", String(delay));
      reconnectTimer = setTimeout(connect, delay);
    }

    function now() {
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

    window.addEventListener("online", now);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") now();
    });

    return { connect: connect, send: send, isOpen: isOpen, now: now };
  })();

  retryBtn.addEventListener("click", function () { socket.now(); });

  function onConnected(again) {
    // Missed conversation.updated events cannot be replayed: reload the list instead.
    if (again) loadList(false, true);
    // Presence changes were missed too: the transfer list asks again when it is next shown.
    if (again) directoryLoaded = false;
    if (again && transferDialog.open) loadDirectory().catch(function () { /* shown as before */ });
    if (state.open && state.open.loaded) syncOpenConversation();
    resendPending();
    scheduleTranscript();
  }

  function onDisconnected() {
    if (state.action) {
      // The answer is lost with the connection; whatever happened shows after the reload.
      finishAction();
      toast("The connection dropped before the server answered. Check the conversation.", "warn");
    }
    if (availability.pending) {
      clearTimeout(availability.timer);
      availability.pending = null;
      paintAvailability();
    }
    if (state.open) {
      state.open.subscribed = false;
      state.open.typers.clear();
      state.open.contactOnline = null; // unknown until the server tells us again
      renderTyping();
      refreshOpenHeader();
    }
    scheduleTranscript();
  }

  /** Subscribe to the open conversation and ask for everything after the last seq we hold. */
  function syncOpenConversation() {
    var open = state.open;
    if (!open) return;
    socket.send({ type: "subscribe", conversation: open.id });
    socket.send({ type: "resume", conversation: open.id, seq: open.lastSeq });
    open.subscribed = true;
  }

  function handleFrame(frame) {
    var open = state.open;
    var forOpen = open && frame.conversation === open.id;
    switch (frame.type) {
      case "welcome":
      case "pong":
      case "unsubscribed":
        return;
      case "conversation.updated":
        onConversationUpdated(frame.data);
        return;
      case "subscribed":
        if (frame.data && typeof frame.data.id === "number") onConversationUpdated(frame.data);
        return;
      case "message.created":
      case "message.updated":
        if (!forOpen) return;
        putMessage(open, frame.data);
        panelCardsFrom(open, frame.data);
        scheduleTranscript();
        // A seq beyond the next one means we missed some: fetch them.
        if (typeof frame.seq === "number" && frame.seq > open.lastSeq) {
          setTimeout(function () { if (state.open === open && frame.seq > open.lastSeq) fillGap(open); }, GAP_CHECK_MS);
        }
        markRead();
        return;
      case "message.delta":
        if (forOpen) onMessageDelta(open, frame);
        return;
      case "resumed":
        if (forOpen && typeof frame.seq === "number" && frame.seq > open.lastSeq) fillGap(open);
        markRead();
        return;
      case "ack":
        onAck(frame);
        return;
      case "typing":
        if (forOpen) onTyping(open, frame.data);
        return;
      case "read":
        if (forOpen && frame.data && frame.data.reader === "contact" && typeof frame.seq === "number") {
          open.contactReadSeq = Math.max(open.contactReadSeq, frame.seq);
          scheduleTranscript();
        }
        return;
      case "presence":
        if (frame.data && frame.data.who === "agent") {
          onAgentPresence(frame.data);
          return;
        }
        if (forOpen && frame.data && frame.data.who === "contact") {
          open.contactOnline = !!frame.data.online;
          refreshOpenHeader();
        }
        return;
      case "resync":
        // The server dropped events meant for this console (it fell behind): catch up as
        // after a reconnect.
        loadList(false, true);
        if (open && open.loaded) socket.send({ type: "resume", conversation: open.id, seq: open.lastSeq });
        break;
      case "error":
        if (actionError(frame) || availabilityError(frame)) return;
        onErrorFrame(frame);
        return;
      case "action.done":
        onActionDone(frame);
        return;
      case "notification":
        onNotification(frame);
        return;
      default:
        // Add-ons handle theirs (assist.js: assist.*); frames added to the protocol later are
        // ignored, not fatal.
        emit("frame", frame);
        return;
    }
  }

  function onAck(frame) {
    var data = frame.data || {};
    var p = state.pending.get(data.client_id);
    if (!p) return;
    var open = state.open;
    if (open && open.id === p.conversation && open.messages.has(frame.seq)) {
      state.pending.delete(p.clientId);
      scheduleTranscript();
      return;
    }
    p.state = "acked";
    p.seq = frame.seq;
    // message.created normally follows the ack at once; if it does not, fetch the message.
    setTimeout(function () {
      if (state.pending.get(p.clientId) !== p) return;
      state.pending.delete(p.clientId);
      if (state.open && state.open.id === p.conversation) fillGap(state.open);
      scheduleTranscript();
    }, GAP_CHECK_MS);
  }

  function onErrorFrame(frame) {
    var data = frame.data || {};
    var p = data.ref ? state.pending.get(data.ref) : null;
    if (p) {
      if (data.code === "rate_limited") {
        var wait = Math.max(1, Number(data.retry_after) || 5);
        toast("Sending too fast — retrying in " + wait + " s.", "warn");
        setTimeout(function () { if (state.pending.get(p.clientId) === p && p.state === "pending") transmit(p); }, wait * 1000);
        return;
      }
      p.state = "failed";
      p.error = data.message || data.code || "refused";
      scheduleTranscript();
      return;
    }
    if (data.code === "revoked") {
      // The server closes with 4403 next; the close handler tells the agent.
      return;
    }
    if (data.code === "not_found" && state.open && frame.conversation === state.open.id) {
      state.open.error = { status: 404, message: data.message };
      renderTranscript();
      return;
    }
    if (data.code) toast(data.message || data.code, "error");
  }

  // ---------------------------------------------------------------------------------------
  // Conversation actions (docs/protocol.md, "Conversation actions (agents)")
  // ---------------------------------------------------------------------------------------

  var actionsEl = $("[data-testid=conversation-actions]");

  var ACTIONS = {
    takeover: { type: "conversation.takeover", label: "Take over", title: "Answer this customer yourself; the bot stops", done: "You took over the conversation.", style: "primary" },
    accept: { type: "conversation.accept", label: "Accept", title: "Take this conversation from the queue", done: "You accepted the conversation.", style: "primary" },
    handback: { type: "conversation.handback", label: "Hand back", title: "Let the bot answer again", done: "Handed back to the bot." },
    transfer: { type: "conversation.transfer", label: "Transfer…", title: "Give this conversation to a colleague", done: "Conversation transferred." },
    resolve: { type: "conversation.resolve", label: "Resolve", title: "Close this conversation", done: "Conversation resolved.", style: "resolve" },
    reopen: { type: "conversation.reopen", label: "Reopen", title: "Open it again, assigned to you", done: "Reopened — it is yours now.", style: "primary" },
  };
  var ACTION_BY_TYPE = {};
  Object.keys(ACTIONS).forEach(function (key) { ACTION_BY_TYPE[ACTIONS[key].type] = key; });

  function inboxHasBot(c) {
    // The conversation payload says whether its inbox has a bot (has_bot). Unknown (an older
    // server) means "show it and let the server decide".
    if (c && typeof c.has_bot === "boolean") return c.has_bot;
    return null;
  }

  /** What this agent may do with `c` now, in toolbar order. The server checks again. */
  function allowedActions(c) {
    if (!c) return [];
    var mine = c.assignee === ME.id;
    var admin = ME.role === "admin";
    switch (c.status) {
      case "bot": return ["takeover", "resolve"];
      case "queued": return ["accept", "takeover", "resolve"];
      case "assigned": {
        // Handing back and transferring are the assignee's (or an admin's); any agent may
        // resolve, as the protocol allows.
        var list = [];
        if (mine || admin) {
          if (inboxHasBot(c) !== false) list.push("handback");
          list.push("transfer");
        }
        list.push("resolve");
        return list;
      }
      case "resolved": return ["reopen"];
      default: return [];
    }
  }

  function renderActions() {
    var open = state.open;
    var c = currentConversation();
    clear(actionsEl);
    if (!open || open.error || !c) return;
    var pending = state.action && state.action.conversation === open.id ? state.action : null;
    actionsEl.setAttribute("data-pending", pending ? pending.key : "");
    allowedActions(c).forEach(function (key) {
      var spec = ACTIONS[key];
      var busy = pending && pending.key === key;
      // One primary button at a time: in the queue that is Accept, not Take over.
      var primary = spec.style === "primary" && !(key === "takeover" && c.status === "queued");
      actionsEl.appendChild(h("button", {
        type: "button",
        className: "btn btn-sm action action--" + key + (primary ? " btn-primary" : " btn-ghost") + (busy ? " action--busy" : ""),
        "data-testid": "action-" + key,
        "data-action": key,
        title: spec.title,
        disabled: !!pending,
        "aria-busy": busy ? "true" : null,
        onclick: function () { if (key === "transfer") openTransfer(); else runAction(key, c.id); },
      }, busy ? h("span", { className: "spinner spinner--sm", "aria-hidden": "true" }) : null, spec.label));
    });
  }

  /** Send an action frame and wait for `action.done` or `error`; one at a time. */
  function runAction(key, conversationId, data) {
    var spec = ACTIONS[key];
    if (state.action) return false;
    if (!socket.isOpen()) {
      toast("Not connected — try again when the connection is back.", "error");
      return false;
    }
    var frame = { type: spec.type, conversation: conversationId };
    if (data) frame.data = data;
    if (key === "takeover" || key === "accept" || key === "reopen") state.selfAssigned.set(conversationId, Date.now());
    state.action = {
      key: key,
      type: spec.type,
      conversation: conversationId,
      timer: setTimeout(function () {
        if (!state.action || state.action.conversation !== conversationId || state.action.key !== key) return;
        finishAction();
        toast("No answer from the server. Check the conversation and try again.", "error");
      }, ACTION_TIMEOUT_MS),
    };
    renderActions();
    renderTransfer();
    socket.send(frame);
    return true;
  }

  function finishAction() {
    if (state.action) clearTimeout(state.action.timer);
    state.action = null;
    renderActions();
    renderTransfer();
  }

  function onActionDone(frame) {
    var data = frame.data || {};
    if (data.action === "availability" || data.action === "availability.set") {
      if (typeof data.availability === "string") confirmAvailability(data.availability);
      return;
    }
    var key = ACTION_BY_TYPE[data.action] || (ACTIONS[data.action] ? data.action : null);
    if (data.conversation && typeof data.conversation === "object") onConversationUpdated(data.conversation);
    var mineAction = state.action && state.action.conversation === frame.conversation;
    if (!mineAction) return;
    key = key || state.action.key;
    finishAction();
    if (key === "transfer") closeTransfer();
    // Short: the toolbar and the transcript already show what changed.
    toast(ACTIONS[key] ? ACTIONS[key].done : "Done.", "ok", { testid: "action-toast", attrs: { "data-action": key }, ms: 2500 });
    if ((key === "takeover" || key === "accept" || key === "reopen") && state.open && state.open.id === frame.conversation) {
      setMode("text", true);
      input.focus({ preventScroll: true });
    }
  }

  /** An `error` that answers the pending action (its `ref` is the frame type). */
  function actionError(frame) {
    var data = frame.data || {};
    var pending = state.action;
    if (!pending) return false;
    var answers = data.ref === pending.type ||
      (!data.ref && frame.conversation === pending.conversation && data.code !== "rate_limited");
    if (!answers) return false;
    var key = pending.key;
    state.selfAssigned.delete(pending.conversation);
    finishAction();
    var text = data.message || data.code || "The server refused that.";
    if (key === "transfer" && transferDialog.open) {
      transferErrorEl.hidden = false;
      transferErrorEl.textContent = text;
    }
    toast(text, "error", { testid: "action-error", attrs: { "data-code": data.code || "", "data-action": key } });
    // The list or header may be behind (someone else was faster): ask for the truth.
    if (data.code === "invalid_transition" || data.code === "forbidden") refreshConversation(pending.conversation);
    // The target left or was removed meanwhile: show the list as it is now.
    if (key === "transfer") loadDirectory().catch(function () { /* kept as is */ });
    return true;
  }

  function refreshConversation(id) {
    api(conversationUrl(id)).then(function (body) {
      onConversationUpdated(body.conversation);
      if (state.open && state.open.id === id) {
        state.open.detail = body;
        refreshOpenHeader();
      }
    }).catch(function () { /* the next conversation.updated brings it */ });
  }

  // ---------------------------------------------------------------------------------------
  // Agents: the directory, presence and availability
  // ---------------------------------------------------------------------------------------

  var directory = new Map(); // user id -> {id, name, role, availability, online, open, capacity}
  (boot.agents || []).forEach(function (a) { directory.set(a.id, Object.assign({ availability: null, online: null }, a)); });
  var directoryLoaded = false;
  var directoryLoading = null;

  function loadDirectory() {
    if (directoryLoading) return directoryLoading;
    directoryLoading = api(boot.urls.agents).then(function (body) {
      var seen = new Set();
      body.agents.forEach(function (a) {
        seen.add(a.id);
        directory.set(a.id, Object.assign(directory.get(a.id) || {}, a));
        agentNames.set(a.id, a.name);
      });
      directory.forEach(function (a, id) { if (!seen.has(id)) directory.delete(id); });
      directoryLoaded = true;
    }).finally(function () { directoryLoading = null; renderTransfer(); });
    return directoryLoading;
  }

  function onAgentPresence(data) {
    if (typeof data.id !== "number") return;
    var a = directory.get(data.id) || { id: data.id, name: data.name || agentName(data.id) };
    if (typeof data.online === "boolean") a.online = data.online;
    if (typeof data.availability === "string") a.availability = data.availability;
    if (data.name) { a.name = data.name; agentNames.set(data.id, data.name); }
    directory.set(data.id, a);
    if (data.id === ME.id && typeof data.availability === "string") confirmAvailability(data.availability);
    renderTransfer();
  }

  var availEl = $("[data-testid=availability]");
  var availSelect = $("[data-testid=availability-select]");
  var availability = { value: ME.availability || availSelect.value, pending: null, timer: null };

  function paintAvailability() {
    var shown = availability.pending || availability.value;
    availSelect.value = shown;
    availEl.setAttribute("data-availability", shown);
    availEl.setAttribute("data-pending", availability.pending ? "true" : "false");
    availEl.title = "You are " + (AVAILABILITY_LABELS[shown] || shown).toLowerCase() +
      (shown === "online" ? ": new conversations may be assigned to you" : "");
  }

  function confirmAvailability(value) {
    clearTimeout(availability.timer);
    availability.value = value;
    availability.pending = null;
    paintAvailability();
  }

  availSelect.addEventListener("change", function () {
    var wanted = availSelect.value;
    if (!socket.isOpen()) {
      paintAvailability();
      toast("Not connected — your availability stays " + (AVAILABILITY_LABELS[availability.value] || availability.value) + ".", "error");
      return;
    }
    availability.pending = wanted;
    paintAvailability();
    socket.send({ type: "availability.set", data: { availability: wanted } });
    clearTimeout(availability.timer);
    // The answer is a `presence` frame; without one (an older server) the choice stands.
    availability.timer = setTimeout(function () {
      if (availability.pending === wanted) confirmAvailability(wanted);
    }, ACTION_TIMEOUT_MS);
  });

  function availabilityError(frame) {
    var data = frame.data || {};
    if (data.ref !== "availability.set" || !availability.pending) return false;
    clearTimeout(availability.timer);
    availability.pending = null;
    paintAvailability();
    toast(data.message || "Could not change your availability.", "error", { testid: "action-error", attrs: { "data-code": data.code || "" } });
    return true;
  }

  // -- the transfer dialog ---------------------------------------------------------------------

  var transferDialog = $("[data-testid=transfer-dialog]");
  var transferForm = $("[data-testid=transfer-form]");
  var transferList = $("[data-testid=transfer-agents]");
  var transferStateEl = $("[data-testid=transfer-state]");
  var transferNote = $("[data-testid=transfer-note]");
  var transferErrorEl = $("[data-testid=transfer-error]");
  var transferConfirm = $("[data-testid=transfer-confirm]");
  var transfer = { conversation: null, to: null, error: null };

  function openTransfer() {
    var c = currentConversation();
    if (!c) return;
    transfer.conversation = c.id;
    transfer.to = null;
    transfer.error = null;
    transferNote.value = "";
    transferErrorEl.hidden = true;
    $("[data-testid=transfer-subtitle]").textContent = "#" + c.id + " · " + ((c.contact && c.contact.name) || "Visitor") +
      ". Pick who takes it over; they are notified at once.";
    if (typeof transferDialog.showModal === "function") transferDialog.showModal();
    else transferDialog.setAttribute("open", "");
    renderTransfer();
    loadDirectory().catch(function (err) {
      transfer.error = err.message || "Could not load the agents.";
      renderTransfer();
    });
  }

  function closeTransfer() {
    transfer.conversation = null;
    if (transferDialog.open) {
      if (typeof transferDialog.close === "function") transferDialog.close();
      else transferDialog.removeAttribute("open");
    }
  }

  var AVAILABILITY_ORDER = { online: 0, busy: 1, offline: 2 };

  function agentRank(a) {
    // Connected and online first, then busy, then everyone who could not answer right now.
    if (a.online === false) return 3;
    return AVAILABILITY_ORDER[a.availability] !== undefined ? AVAILABILITY_ORDER[a.availability] : 2;
  }

  function renderTransfer() {
    if (!transferDialog.open || transfer.conversation === null) return;
    var c = state.conversations.get(transfer.conversation);
    var pending = state.action && state.action.key === "transfer";
    var candidates = [];
    // Until the directory answers, the names from the page alone would show every agent as
    // "unknown": wait for it (or for its failure, then the names are better than nothing).
    if (directoryLoaded || transfer.error) {
      directory.forEach(function (a) {
        if (a.id === ME.id || (c && a.id === c.assignee)) return;
        candidates.push(a);
      });
    }
    candidates.sort(function (a, b) { return agentRank(a) - agentRank(b) || String(a.name).localeCompare(String(b.name)); });
    if (transfer.to !== null && !candidates.some(function (a) { return a.id === transfer.to; })) transfer.to = null;
    var focused = document.activeElement && document.activeElement.getAttribute("data-agent-id");
    clear(transferList);
    candidates.forEach(function (a) {
      var status = a.online === false ? "offline" : (a.availability || "unknown");
      var statusText = a.online === false
        ? "Not connected"
        : (AVAILABILITY_LABELS[a.availability] || "Availability unknown");
      var load = typeof a.open === "number" ? a.open + (a.capacity ? " / " + a.capacity : "") + " chats" : "";
      var id = "transfer-agent-" + a.id;
      var avatar = h("span", { className: "avatar avatar--sm", "aria-hidden": "true" });
      paintAvatar(avatar, a.name, a.id);
      transferList.appendChild(h("label", {
        className: "agent-option" + (transfer.to === a.id ? " agent-option--picked" : ""),
        "data-testid": "transfer-agent", "data-agent-id": a.id, "data-availability": status, for: id,
      },
        h("input", { type: "radio", name: "transfer-to", id: id, value: String(a.id), checked: transfer.to === a.id, disabled: pending,
          "data-agent-id": a.id,
          onchange: function () { transfer.to = a.id; transferErrorEl.hidden = true; renderTransfer(); } }),
        avatar,
        h("span", { className: "agent-option__body" },
          h("span", { className: "agent-option__name", text: a.name + (a.role === "admin" ? " (admin)" : "") }),
          h("span", { className: "agent-option__status" },
            h("span", { className: "avail-dot", "data-availability": status, "aria-hidden": "true" }),
            h("span", { "data-testid": "transfer-agent-status", text: statusText }))),
        load ? h("span", { className: "agent-option__load", text: load }) : null));
    });
    if (focused) {
      var again = transferList.querySelector('input[data-agent-id="' + focused + '"]');
      if (again) again.focus();
    }
    var stateText = null;
    if (transfer.error) stateText = transfer.error;
    else if (!directoryLoaded) stateText = "Loading agents…";
    else if (!candidates.length) stateText = "There is nobody else to transfer to. Add agents in the admin.";
    transferStateEl.hidden = !stateText;
    transferStateEl.textContent = stateText || "";
    transferConfirm.disabled = pending || transfer.to === null;
    transferConfirm.textContent = pending ? "Transferring…" : "Transfer";
    transferNote.disabled = pending;
  }

  transferForm.addEventListener("submit", function (e) {
    e.preventDefault();
    if (transfer.to === null || transfer.conversation === null) return;
    var data = { to: transfer.to };
    var note = transferNote.value.trim();
    if (note) data.note = note;
    transferErrorEl.hidden = true;
    runAction("transfer", transfer.conversation, data);
  });
  $("[data-testid=transfer-cancel]").addEventListener("click", closeTransfer);
  transferDialog.addEventListener("close", function () { transfer.conversation = null; });

  // ---------------------------------------------------------------------------------------
  // Notifications: in-page toasts and highlights, the browser's Notification, the title
  // ---------------------------------------------------------------------------------------

  var baseTitle = document.title;
  var notifyBtn = $("[data-testid=enable-notifications]");
  var queuedAlertEl = $("[data-testid=queued-alert]");

  function notificationsSupported() { return typeof window.Notification === "function"; }

  function renderNotifyButton() {
    // Only ever asked from this button, never on load: browsers penalise sites that ask unprompted.
    notifyBtn.hidden = !notificationsSupported() || window.Notification.permission !== "default";
  }

  notifyBtn.addEventListener("click", function () {
    if (!notificationsSupported()) return;
    var answered = false;
    var done = function (result) {
      // Browsers that return a promise may call the callback as well: answer once.
      if (answered) return;
      answered = true;
      renderNotifyButton();
      if (result === "granted") toast("Browser notifications are on.", "ok");
      else if (result === "denied") toast("Notifications are blocked. You can allow them in the browser's site settings.", "warn");
    };
    try {
      var asked = window.Notification.requestPermission(done);
      // Current browsers answer with a promise (and ignore the callback); old Safari only calls back.
      if (asked && typeof asked.then === "function") asked.then(done);
    } catch (e) {
      renderNotifyButton();
    }
  });

  function renderAttention() {
    var unread = state.unread.size;
    document.title = (unread ? "(" + unread + ") " : "") + baseTitle;
    var waiting = 0;
    state.waiting.forEach(function (id) {
      var c = state.conversations.get(id);
      if (!c || c.status === "queued") waiting += 1;
    });
    queuedAlertEl.hidden = !waiting;
    queuedAlertEl.textContent = waiting ? String(waiting) : "";
    queuedAlertEl.setAttribute("aria-label", waiting ? waiting + " waiting too long" : "");
    document.querySelector("[data-testid=tab-queued]").classList.toggle("tab--alert", waiting > 0);
  }

  var NOTIFICATION_TITLES = { queued: "New in the queue", assigned: "Assigned to you", waiting: "Still waiting for an agent" };

  function notificationText(kind, c, id) {
    var name = (c && c.contact && c.contact.name) || "A customer";
    switch (kind) {
      case "queued": return name + " is waiting for an agent (#" + id + ").";
      case "assigned": return name + " (#" + id + ") was assigned to you.";
      case "waiting": return name + " (#" + id + ") is still waiting — nobody has accepted it yet.";
      default: return "Conversation #" + id + " needs attention.";
    }
  }

  function goTo(id, kind) {
    var view = kind === "assigned" ? "mine" : (kind === "queued" || kind === "waiting") ? "queued" : state.view;
    // Stay on the current tab when it already shows the conversation.
    var c = state.conversations.get(id);
    if (c && inView(c, state.view)) view = state.view;
    window.location.hash = "#/" + view + "/" + id;
  }

  function onNotification(frame) {
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
      action: isOpen ? null : { label: "Open", run: function () { goTo(id, kind); } },
      ms: 8000,
    });
    showBrowserNotification(kind, id, text, c);
  }

  function showBrowserNotification(kind, id, text, c) {
    if (!notificationsSupported() || window.Notification.permission !== "granted") return;
    var who = (c && c.contact && c.contact.name) || "Conversation";
    try {
      var n = new window.Notification((NOTIFICATION_TITLES[kind] || "Helpdesk") + " · " + who + " #" + id, {
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
  // Canned responses: "/" + shortcut in the composer
  // ---------------------------------------------------------------------------------------

  var cannedEl = $("[data-testid=canned-menu]");
  var cannedList = $("#canned-list");
  var cannedStateEl = $("[data-testid=canned-state]");
  var canned = {
    all: null, // the tenant's active responses, newest fetch
    hasMore: false, // the fetch was cut: ask the server per query
    fetchedAt: 0,
    loading: null,
    byQuery: new Map(), // query -> responses, when the server is asked per query
    token: null, // {start, end, query} of the "/word" at the caret
    items: [],
    active: 0,
    dismissed: null, // the token start the agent closed the menu at (Esc)
    error: null,
  };
  var CANNED_TOKEN_RE = /(^|\s)\/([a-z0-9_-]{0,40})$/i;

  function cannedToken() {
    if (input.disabled) return null;
    var pos = input.selectionStart;
    if (pos === null || pos !== input.selectionEnd) return null;
    var match = input.value.slice(0, pos).match(CANNED_TOKEN_RE);
    if (!match) return null;
    return { start: pos - match[2].length - 1, end: pos, query: match[2].toLowerCase() };
  }

  function cannedMatches(list, query) {
    var prefix = [];
    var other = [];
    list.forEach(function (r) {
      var shortcut = String(r.shortcut).toLowerCase();
      if (shortcut.indexOf(query) === 0) prefix.push(r);
      else if (query && String(r.title).toLowerCase().indexOf(query) >= 0) other.push(r);
    });
    return prefix.concat(other).slice(0, 50);
  }

  function fetchCanned(query) {
    var params = { limit: 100 };
    if (query) params.q = query;
    return api(boot.urls.canned, params);
  }

  function ensureCanned() {
    var fresh = canned.all && Date.now() - canned.fetchedAt < CANNED_CACHE_MS;
    if (fresh || canned.loading) return;
    canned.loading = fetchCanned("").then(function (body) {
      canned.all = body.responses;
      canned.hasMore = !!body.has_more;
      canned.fetchedAt = Date.now();
      canned.byQuery = new Map();
      canned.error = null;
    }).catch(function (err) {
      canned.error = err.message || "Could not load canned responses.";
    }).then(function () {
      canned.loading = null;
      updateCanned();
    });
  }

  function cannedFor(query) {
    if (!canned.all) return null;
    if (!canned.hasMore || !query) return cannedMatches(canned.all, query);
    // Too many to hold: the server searches. Until it answers, filter what we have.
    if (canned.byQuery.has(query)) return canned.byQuery.get(query);
    canned.byQuery.set(query, cannedMatches(canned.all, query));
    fetchCanned(query).then(function (body) {
      canned.byQuery.set(query, body.responses);
      updateCanned();
    }).catch(function () { /* the local matches stay */ });
    return canned.byQuery.get(query);
  }

  /** Show, filter or hide the menu for the text at the caret. */
  function updateCanned() {
    var token = cannedToken();
    if (!token || (canned.dismissed !== null && canned.dismissed === token.start)) {
      if (!token) canned.dismissed = null;
      hideCanned();
      return;
    }
    canned.dismissed = null;
    ensureCanned();
    var changed = !canned.token || canned.token.query !== token.query || canned.token.start !== token.start;
    canned.token = token;
    var items = cannedFor(token.query);
    canned.items = items || [];
    if (changed) canned.active = 0;
    canned.active = Math.min(canned.active, Math.max(0, canned.items.length - 1));
    renderCanned(items === null);
  }

  function renderCanned(loading) {
    clear(cannedList);
    canned.items.forEach(function (r, i) {
      var active = i === canned.active;
      cannedList.appendChild(h("li", {
        id: "canned-opt-" + i,
        className: "canned__item" + (active ? " canned__item--active" : ""),
        role: "option",
        "aria-selected": active ? "true" : "false",
        "data-testid": "canned-item",
        "data-shortcut": r.shortcut,
        onmousedown: function (e) { e.preventDefault(); }, // keep the caret in the composer
        onclick: function () { insertCanned(i); },
        onmousemove: function () { if (canned.active !== i) { canned.active = i; renderCanned(false); } },
      },
        h("span", { className: "canned__top" },
          h("span", { className: "canned__shortcut", text: "/" + r.shortcut }),
          h("span", { className: "canned__title", text: r.title })),
        h("span", { className: "canned__text", text: fillCanned(r.text).replace(/\s+/g, " ") })));
    });
    var stateText = null;
    if (loading) stateText = canned.error || "Loading canned responses…";
    else if (!canned.items.length) {
      stateText = canned.token && canned.token.query
        ? "No canned response starts with /" + canned.token.query + "."
        : "No canned responses yet. Admins add them in the admin under Canned responses.";
    }
    cannedStateEl.hidden = !stateText;
    cannedStateEl.textContent = stateText || "";
    cannedEl.hidden = false;
    input.setAttribute("aria-expanded", "true");
    if (canned.items.length) input.setAttribute("aria-activedescendant", "canned-opt-" + canned.active);
    else input.removeAttribute("aria-activedescendant");
    var activeEl = cannedList.querySelector(".canned__item--active");
    if (activeEl && activeEl.scrollIntoView) activeEl.scrollIntoView({ block: "nearest" });
  }

  function hideCanned() {
    canned.token = null;
    canned.items = [];
    cannedEl.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function closeCanned() {
    canned.dismissed = null;
    hideCanned();
  }

  function cannedOpen() { return !cannedEl.hidden && !!canned.token; }

  /** The response's text with its placeholders filled in for this conversation. */
  function fillCanned(text) {
    var open = state.open;
    var contact = (open && open.panel && open.panel.contact) || (open && open.detail && open.detail.contact) || null;
    var given = contact && typeof contact.given_name === "string" ? contact.given_name.trim() : "";
    // An anonymous customer is "there" ("Hi there!") rather than "Visitor 7d1c".
    var name = given || "there";
    // Replacement functions, not strings: a "$&" in a name must stay literal.
    return String(text)
      .replace(/\{\{\s*name\s*\}\}/gi, function () { return name; })
      .replace(/\{\{\s*agent\s*\}\}/gi, function () { return ME.name; });
  }

  function insertCanned(index) {
    var r = canned.items[index];
    var token = canned.token;
    if (!r || !token) return;
    var text = fillCanned(r.text);
    var value = input.value;
    input.value = value.slice(0, token.start) + text + value.slice(token.end);
    var caret = token.start + text.length;
    input.setSelectionRange(caret, caret);
    closeCanned();
    input.focus();
    onComposerInput();
  }

  /** Keys for the menu; true when the key was the menu's. */
  function cannedKeydown(e) {
    if (!cannedOpen() || e.isComposing || e.keyCode === 229) return false;
    var n = canned.items.length;
    switch (e.key) {
      case "ArrowDown":
        if (!n) return false;
        canned.active = (canned.active + 1) % n;
        renderCanned(false);
        break;
      case "ArrowUp":
        if (!n) return false;
        canned.active = (canned.active - 1 + n) % n;
        renderCanned(false);
        break;
      case "Enter":
      case "Tab":
        if (!n || e.shiftKey) return false;
        insertCanned(canned.active);
        break;
      case "Escape":
        canned.dismissed = canned.token.start;
        hideCanned();
        break;
      default:
        return false;
    }
    e.preventDefault();
    return true;
  }

  input.addEventListener("keyup", function (e) {
    // Caret moves (arrows without the menu, Home/End) may enter or leave a "/word".
    if (e.key === "ArrowLeft" || e.key === "ArrowRight" || e.key === "Home" || e.key === "End") updateCanned();
  });
  input.addEventListener("click", updateCanned);
  input.addEventListener("blur", function () { setTimeout(function () { if (document.activeElement !== input) hideCanned(); }, 150); });

  // ---------------------------------------------------------------------------------------
  // Add-ons (assist.js): what they may use, and what they hear of
  // ---------------------------------------------------------------------------------------

  // "frame": a socket frame the console does not handle itself; "change": the open conversation
  // changed (opened, closed, loaded, new status); "message": a transcript message is being
  // drawn, and the listener may return an element to show under its bubble.
  var addOnListeners = { frame: [], change: [], message: [] };

  function emit(kind, value) {
    addOnParts(kind, value);
  }

  function addOnParts(kind, value) {
    var parts = [];
    // Called while the page starts, before the listeners exist: nobody to tell yet.
    ((addOnListeners && addOnListeners[kind]) || []).forEach(function (listener) {
      try {
        var part = listener(value);
        if (part) parts.push(part);
      } catch (err) {
        // One add-on's bug must not take the console down with it.
        if (window.console) window.console.error(err);
      }
    });
    return parts;
  }

  window.HelpdeskConsole = {
    boot: boot,
    h: h,
    clear: clear,
    api: api,
    toast: toast,
    fillComposer: fillComposer,
    rerender: function () { scheduleTranscript(); },
    /** The open conversation: {id, error (when it could not be loaded)}, or null. */
    open: function () {
      return state.open ? { id: state.open.id, error: state.open.error } : null;
    },
    on: function (kind, listener) { addOnListeners[kind].push(listener); },
  };

  // ---------------------------------------------------------------------------------------
  // Routing (#/<view>/<conversation id>) and wiring
  // ---------------------------------------------------------------------------------------

  function route() {
    var parts = window.location.hash.replace(/^#\/?/, "").split("/");
    var view = VIEWS.indexOf(parts[0]) >= 0 ? parts[0] : state.view;
    setView(view);
    var id = /^[1-9][0-9]{0,17}$/.test(parts[1] || "") ? Number(parts[1]) : null;
    if (id) openConversation(id);
    else closeConversation();
  }

  document.querySelectorAll(".tab").forEach(function (tab) {
    tab.addEventListener("click", function () {
      var view = tab.getAttribute("data-view");
      var open = state.open ? "/" + state.open.id : "";
      window.location.hash = "#/" + view + open;
    });
  });
  loadMoreBtn.addEventListener("click", function () { loadList(true); });
  $("[data-testid=back-to-list]").addEventListener("click", function () {
    window.location.hash = "#/" + state.view;
  });
  $("[data-testid=toggle-details]").addEventListener("click", function () {
    state.detailsVisible = !state.detailsVisible;
    renderDetails();
  });
  // The side panel is a column on wide screens and a drawer on narrow ones: follow the width
  // when it crosses the line, and leave it to the agent in between.
  var wide = window.matchMedia("(min-width: 1200px)");
  var followWidth = function () { state.detailsVisible = wide.matches; renderDetails(); };
  if (wide.addEventListener) wide.addEventListener("change", followWidth);
  jumpBtn.addEventListener("click", scrollToBottom);
  transcriptEl.addEventListener("scroll", function () { if (isNearBottom()) jumpBtn.hidden = true; });
  window.addEventListener("hashchange", route);
  // Relative times in the list drift; refresh them every half minute.
  setInterval(function () {
    listEl.querySelectorAll("time[data-time]").forEach(function (t) {
      t.textContent = relativeTime(t.getAttribute("data-time"));
    });
  }, 30000);

  setConnection("connecting", "Connecting…");
  paintAvailability();
  renderNotifyButton();
  route();
  updateComposer();
  socket.connect();
})();
