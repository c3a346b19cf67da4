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

  function agentName(id) {
    if (id === null || id === undefined) return null;
    if (id === ME.id) return "You";
    return agentNames.get(id) || "Agent #" + id;
  }

  var toastRoot = $("[data-testid=toasts]");
  function toast(text, kind) {
    var el = h("div", { className: "toast toast--" + (kind || "info"), role: "status", "data-testid": "toast", text: text });
    toastRoot.appendChild(el);
    setTimeout(function () { el.classList.add("toast--out"); }, 4500);
    setTimeout(function () { if (el.parentNode) el.parentNode.removeChild(el); }, 5000);
  }

  // ---------------------------------------------------------------------------------------
  // HTTP
  // ---------------------------------------------------------------------------------------

  function ApiError(status, code, message) {
    this.status = status; this.code = code; this.message = message;
  }

  function api(path, params) {
    var url = new URL(path, window.location.origin);
    if (params) {
      Object.keys(params).forEach(function (k) {
        if (params[k] !== null && params[k] !== undefined) url.searchParams.set(k, String(params[k]));
      });
    }
    return fetch(url.toString(), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
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
    var assignee = c.status === "assigned" || c.status === "resolved" ? agentName(c.assignee) : null;
    var item = h("li", {
      className: "conv" + (c.id === openId ? " conv--active" : "") + (unread ? " conv--unread" : ""),
      "data-testid": "conversation-item",
      "data-conversation-id": c.id,
      "data-status": c.status,
      "data-unread": unread ? "true" : "false",
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
      readSent: 0,
      filling: false,
      stick: true, // keep the transcript scrolled to the bottom
    };
    state.open = open;
    state.unread.delete(id);
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
    saveDraft(open.id);
    if (open.subscribed) socket.send({ type: "unsubscribe", conversation: open.id });
    state.open = null;
    document.body.classList.remove("has-open");
    paneEmpty.hidden = false;
    threadEl.hidden = true;
    renderDetails();
    renderList();
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
    return h("div", attrs,
      h("div", { className: "msg__meta" },
        h("span", { className: "msg__author", text: m.sender_name || SENDER_LABELS[m.sender] || m.sender }),
        t !== null ? h("time", { className: "msg__time", datetime: m.created_at, title: fullFmt.format(t), text: timeFmt.format(t) }) : null),
      bubble,
      status ? h("div", { className: "msg__status" }, status) : null
    );
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
    if (c && c.assignee !== null && c.assignee !== undefined) sub.push("Assigned to " + agentName(c.assignee));
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
    noticeEl.hidden = !notice;
    noticeEl.textContent = notice || "";
    noticeEl.setAttribute("data-status", c ? c.status : "");
    composer.classList.toggle("composer--disabled", !!closed);
    composer.hidden = !!open.error;
    input.disabled = !!closed || !!open.error;
    updateComposer();
    renderDetails();
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
    var avatar = h("span", { className: "avatar avatar--lg", "aria-hidden": "true" });
    paintAvatar(avatar, d.contact.name, d.contact.id);
    var when = function (v) { var t = parseTime(v); return t === null ? null : fullFmt.format(t); };
    body.appendChild(h("div", { className: "details__head" }, avatar,
      h("div", null,
        h("div", { className: "details__name", "data-testid": "contact-name", text: d.contact.name }),
        d.contact.email ? h("div", { className: "details__email", "data-testid": "contact-email", text: d.contact.email }) : h("div", { className: "details__email muted", text: "No e-mail yet" })),
      h("button", { type: "button", className: "icon-btn details__close", "aria-label": "Close details", "data-testid": "close-details", text: "×",
        onclick: function () { state.detailsVisible = false; renderDetails(); } })));

    var contactList = h("dl", { className: "kv-list" },
      detailRow("Visitor", d.contact.visitor_id ? d.contact.visitor_id.slice(0, 8) : null),
      detailRow("First seen", when(d.contact.created_at)),
      detailRow("Last seen", when(d.contact.last_seen_at)));
    var meta = d.contact.metadata || {};
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
        detailRow("Assignee", c.assignee !== null && c.assignee !== undefined ? agentName(c.assignee) : "Nobody"),
        detailRow("Handoff reason", c.handoff_reason || null),
        detailRow("Started", when(c.created_at)),
        detailRow("Messages", c.last_seq ? String(c.last_seq) : "0"))));
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
    if (state.open && state.open.loaded) syncOpenConversation();
    resendPending();
    scheduleTranscript();
  }

  function onDisconnected() {
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
        if (forOpen && frame.data && frame.data.who === "contact") {
          open.contactOnline = !!frame.data.online;
          refreshOpenHeader();
        }
        return;
      case "error":
        onErrorFrame(frame);
        return;
      default:
        return; // frames added to the protocol later are ignored, not fatal
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
  route();
  updateComposer();
  socket.connect();
})();
