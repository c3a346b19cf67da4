/*
 * Agent assist in the console: "Suggest reply" next to Send, the summary at the top of a
 * conversation, and the knowledge a bot reply used under it. Plain JS, loaded after console.js,
 * whose window.HelpdeskConsole it builds on; the assist.* events are in docs/protocol.md.
 *
 * A suggestion never sends itself: it streams into the composer, where the agent edits it and
 * sends it as their own, or not at all. Typing while it streams stops the fill and keeps what
 * is there. Text from the server goes in through textContent only, as everywhere in the console.
 */
(function () {
  "use strict";

  var HC = window.HelpdeskConsole;
  if (!HC) return;
  var h = HC.h;

  // Every string a person reads here, in one place for translation.
  var TEXT = {
    suggest: "Suggest reply",
    suggestTitle: "Draft a reply from this conversation and the knowledge base. Nothing is sent until you send it.",
    drafting: "Drafting…",
    replaced: "The suggested reply replaced what you had written.",
    undo: "Undo",
    draftedFrom: "Drafted from:",
    summary: "Summary",
    summarize: "Summarize",
    summarizeAgain: "Summarize again",
    summarizeTitle: "Have the assistant summarize this conversation for you",
    summarizing: "Summarizing…",
    noSummary: "No summary yet.",
    loading: "Loading…",
    triggers: { handoff: "Written at handoff", transfer: "Written at transfer", requested: "Asked for" },
    newer: function (n) { return n === 1 ? "1 newer message" : n + " newer messages"; },
    sources: "Sources:",
    sourceGone: "This passage is no longer in the knowledge base.",
    sourceFailed: "Could not load this passage. Click to try again.",
    openSource: "Open the source",
    noAnswer: "The assistant did not answer. Try again.",
    // assist_unavailable is not here: the server's message says why (no bot, no model, …).
    errors: {
      assist_timeout: "The assistant took too long. Try again.",
      assist_failed: "The assistant could not write this. Try again.",
      assist_no_messages: "There is nothing to work from yet.",
      rate_limited: "Too many requests. Wait a minute and try again.",
      csrf_failed: "The page is out of date. Reload it and try again.",
      default: "The assistant could not help with this.",
    },
  };

  // A request that has heard nothing for this long is given up (the socket may have dropped).
  var SILENCE_MS = 60000;
  // Events that arrive before the POST that asked for them has answered with its id.
  var EARLY_KEPT = 50;
  var CITATIONS_SHOWN = 10;

  var input = document.querySelector("[data-testid=composer-input]");
  var composer = document.querySelector("[data-testid=composer]");
  var slot = document.querySelector("[data-testid=assist-slot]");
  var panel = document.querySelector("[data-testid=summary-panel]");
  var draftSources = document.querySelector("[data-testid=suggestion-sources]");
  var timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

  function url(id, tail) { return HC.boot.urls.conversations + "/" + encodeURIComponent(id) + tail; }

  function errorText(code, message) { return TEXT.errors[code] || message || TEXT.errors.default; }

  /** Whether assist works for the open conversation (its inbox's bot has a model), and why not:
   * unknown, so unavailable, until the conversation's assist state has loaded. */
  function availability() {
    var open = HC.open();
    return (open && summary.conversation === open.id && summary.assist) || { available: false, reason: "" };
  }

  function sparkIcon() {
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("width", "14");
    svg.setAttribute("height", "14");
    svg.setAttribute("viewBox", "0 0 16 16");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", "M8 1.5 9.4 6.6 14.5 8 9.4 9.4 8 14.5 6.6 9.4 1.5 8 6.6 6.6Z");
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  function citationLabel(c) {
    return [c.title, c.heading].filter(function (part) { return part; }).join(" › ");
  }

  function validCitation(c) {
    return c && typeof c === "object" && typeof c.chunk_id === "number";
  }

  // ---------------------------------------------------------------------------------------
  // Suggested reply
  // ---------------------------------------------------------------------------------------

  var suggestion = null; // {conversation, requestId, text, started, had, timer}
  var early = [];

  var suggestBtn = h("button", {
    type: "button",
    className: "btn btn-ghost btn-sm assist-suggest",
    "data-testid": "suggest-reply",
    "data-state": "idle",
    onclick: suggest,
  }, sparkIcon(), h("span", { className: "assist-suggest__label", text: TEXT.suggest }));
  slot.appendChild(suggestBtn);

  function paintSuggest() {
    var open = HC.open();
    var assist = availability();
    slot.hidden = !open || !!open.error;
    var busy = !!suggestion;
    suggestBtn.disabled = busy || !assist.available || input.disabled;
    suggestBtn.setAttribute("data-state", busy ? (suggestion.started ? "streaming" : "waiting") : "idle");
    suggestBtn.setAttribute("aria-busy", busy ? "true" : "false");
    // On the slot too: a disabled button shows no tooltip in some browsers.
    var title = assist.available || !assist.reason ? TEXT.suggestTitle : assist.reason;
    suggestBtn.title = title;
    slot.title = title;
    suggestBtn.querySelector(".assist-suggest__label").textContent = busy ? TEXT.drafting : TEXT.suggest;
  }

  function suggest() {
    var open = HC.open();
    if (!open || suggestion || input.disabled || !availability().available) return;
    var mine = { conversation: open.id, requestId: null, text: "", started: false, had: input.value, timer: null };
    suggestion = mine;
    early = [];
    hideDraftSources();
    listenAgain(mine);
    paintSuggest();
    HC.api(url(open.id, "/assist/suggest"), null, "POST").then(function (body) {
      if (suggestion !== mine) return;
      mine.requestId = body.request_id;
      var waiting = early.filter(function (frame) { return (frame.data || {}).request_id === mine.requestId; });
      early = [];
      waiting.forEach(onSuggestionFrame);
    }).catch(function (err) {
      if (suggestion !== mine) return;
      endSuggestion();
      HC.toast(errorText(err.code, err.message), "error", { testid: "assist-error", attrs: { "data-code": err.code || "" } });
    });
  }

  function listenAgain(s) {
    clearTimeout(s.timer);
    s.timer = setTimeout(function () {
      if (suggestion !== s) return;
      endSuggestion();
      HC.toast(TEXT.noAnswer, "error", { testid: "assist-error", attrs: { "data-code": "silence" } });
    }, SILENCE_MS);
  }

  function endSuggestion() {
    if (suggestion) clearTimeout(suggestion.timer);
    suggestion = null;
    early = [];
    paintSuggest();
  }

  function onSuggestionFrame(frame) {
    var s = suggestion;
    var data = frame.data || {};
    if (!s || frame.conversation !== s.conversation) return;
    if (s.requestId === null) {
      early.push(frame);
      if (early.length > EARLY_KEPT) early.shift();
      return;
    }
    if (data.request_id !== s.requestId) return;
    listenAgain(s);
    if (frame.type === "assist.delta" && typeof data.text === "string") {
      fill(s, s.text + data.text);
    } else if (frame.type === "assist.done" && typeof data.text === "string") {
      // The whole text: a delta lost on the way is made good here.
      fill(s, data.text);
      endSuggestion();
      showDraftSources(Array.isArray(data.citations) ? data.citations.filter(validCitation) : []);
      input.focus();
      input.setSelectionRange(input.value.length, input.value.length);
    } else if (frame.type === "assist.error") {
      endSuggestion();
      HC.toast(errorText(data.code, data.message), "error", { testid: "assist-error", attrs: { "data-code": data.code || "" } });
    }
  }

  function fill(s, text) {
    if (!s.started) {
      s.started = true;
      if (s.had.trim()) {
        var had = s.had;
        HC.toast(TEXT.replaced, "info", {
          testid: "suggestion-replaced",
          ms: 8000,
          action: { label: TEXT.undo, run: function () { endSuggestion(); hideDraftSources(); HC.fillComposer(had); } },
        });
      }
    }
    s.text = text;
    HC.fillComposer(text);
    input.scrollTop = input.scrollHeight;
    paintSuggest();
  }

  // The agent's own hand stops the fill: typing, pasting, sending, or switching to a note.
  input.addEventListener("input", function () {
    if (suggestion) endSuggestion();
    if (!input.value.trim()) hideDraftSources();
  });
  input.addEventListener("keydown", function (e) {
    if (suggestion && e.key === "Enter") endSuggestion();
  });
  composer.addEventListener("submit", function () { if (suggestion) endSuggestion(); hideDraftSources(); });
  composer.querySelectorAll(".mode").forEach(function (button) {
    button.addEventListener("click", function () { if (suggestion) endSuggestion(); });
  });

  function showDraftSources(citations) {
    HC.clear(draftSources);
    if (!citations.length) {
      draftSources.hidden = true;
      return;
    }
    draftSources.appendChild(h("span", { className: "assist-sources__label", text: TEXT.draftedFrom }));
    citations.slice(0, CITATIONS_SHOWN).forEach(function (c) {
      draftSources.appendChild(h("span", { className: "assist-sources__item", text: "[" + c.n + "] " + citationLabel(c) }));
    });
    draftSources.hidden = false;
  }

  function hideDraftSources() {
    HC.clear(draftSources);
    draftSources.hidden = true;
  }

  // ---------------------------------------------------------------------------------------
  // Summary
  // ---------------------------------------------------------------------------------------

  var summary = freshSummary(null);

  function freshSummary(conversationId) {
    return {
      conversation: conversationId,
      assist: null, // {available, reason}
      current: null, // the newest stored summary
      loaded: false,
      live: null, // {requestId, text}: a summary being written now
      asking: null, // {requestId, timer}: the one this agent asked for
      finished: {}, // request id -> error message or "" once it has ended
      error: null,
    };
  }

  function loadSummary(conversationId) {
    summary = freshSummary(conversationId);
    if (conversationId === null) return;
    var mine = summary;
    HC.api(url(conversationId, "/summary")).then(function (body) {
      if (summary !== mine) return;
      mine.loaded = true;
      mine.assist = body.assist || null;
      keepNewest(body.summary);
      paintSuggest();
      paintSummary();
    }).catch(function () {
      if (summary !== mine) return;
      mine.loaded = true;
      paintSummary();
    });
  }

  function keepNewest(s) {
    if (s && typeof s.id === "number" && (!summary.current || s.id > summary.current.id)) summary.current = s;
  }

  function askSummary() {
    var s = summary;
    if (s.conversation === null || s.asking || s.live) return;
    var asking = { requestId: null, timer: null };
    s.asking = asking;
    s.error = null;
    asking.timer = setTimeout(function () { endAsking(s, asking, TEXT.noAnswer); }, SILENCE_MS);
    paintSummary();
    HC.api(url(s.conversation, "/assist/summary"), null, "POST").then(function (body) {
      if (s.asking !== asking) return;
      asking.requestId = body.request_id;
      // It may have ended before this answer came.
      if (Object.prototype.hasOwnProperty.call(s.finished, asking.requestId)) {
        endAsking(s, asking, s.finished[asking.requestId] || null);
      }
    }).catch(function (err) {
      endAsking(s, asking, errorText(err.code, err.message));
    });
  }

  function endAsking(s, asking, error) {
    if (s.asking !== asking) return;
    clearTimeout(asking.timer);
    s.asking = null;
    s.error = error;
    if (s === summary) paintSummary();
  }

  function onSummaryFrame(frame) {
    var s = summary;
    var data = frame.data || {};
    if (s.conversation === null || frame.conversation !== s.conversation) return;
    var requestId = data.request_id;
    if (frame.type === "assist.summary.delta" && typeof data.text === "string") {
      if (!s.live || s.live.requestId !== requestId) s.live = { requestId: requestId, text: "" };
      s.live.text += data.text;
      if (s.asking && s.asking.requestId === requestId) {
        clearTimeout(s.asking.timer);
        s.asking.timer = setTimeout(endAsking.bind(null, s, s.asking, TEXT.noAnswer), SILENCE_MS);
      }
    } else if (frame.type === "assist.summary") {
      keepNewest(data.summary);
      if (s.current && s.current.id === (data.summary || {}).id) s.current.newer_messages = 0;
      finish(s, requestId, "");
    } else if (frame.type === "assist.error") {
      finish(s, requestId, errorText(data.code, data.message));
    }
    paintSummary();
  }

  function finish(s, requestId, error) {
    s.finished[requestId] = error;
    if (s.live && s.live.requestId === requestId) s.live = null;
    if (s.asking && s.asking.requestId === requestId) endAsking(s, s.asking, error || null);
  }

  function paintSummary() {
    var open = HC.open();
    var s = summary;
    var assist = availability();
    var shown = !!open && !open.error && s.conversation === open.id && (assist.available || !!s.current || !!s.live);
    panel.hidden = !shown;
    if (!shown) return;
    HC.clear(panel);
    var busy = !!s.asking || !!s.live;
    panel.setAttribute("data-state", s.live ? "streaming" : s.asking ? "waiting" : s.current ? "ready" : "empty");
    var meta = [];
    if (s.current && !s.live) {
      meta.push(TEXT.triggers[s.current.trigger] || s.current.trigger);
      var at = Date.parse(s.current.created_at);
      if (!isNaN(at)) meta.push(timeFmt.format(at));
      if (s.current.newer_messages > 0) meta.push(TEXT.newer(s.current.newer_messages));
    }
    var title = assist.available || !assist.reason ? TEXT.summarizeTitle : assist.reason;
    var ask = h("button", {
      type: "button",
      className: "btn btn-ghost btn-sm summary__ask",
      "data-testid": "summarize",
      title: title,
      disabled: busy || !assist.available,
      "aria-busy": s.asking ? "true" : "false",
      onclick: askSummary,
    }, s.asking ? h("span", { className: "spinner spinner--sm", "aria-hidden": "true" }) : null,
      s.asking ? TEXT.summarizing : s.current ? TEXT.summarizeAgain : TEXT.summarize);
    panel.appendChild(h("div", { className: "summary__head" },
      h("span", { className: "summary__title" }, sparkIcon(), h("span", { text: TEXT.summary })),
      h("span", { className: "summary__meta", "data-testid": "summary-meta", text: meta.join(" · ") }),
      h("span", { className: "summary__ask-wrap", title: title }, ask)));
    if (s.live) {
      panel.appendChild(h("div", { className: "summary__text summary__text--live", "data-testid": "summary-text", text: s.live.text }));
    } else if (s.current) {
      panel.appendChild(summaryText(s.current.text));
    } else {
      panel.appendChild(h("div", { className: "summary__empty", "data-testid": "summary-empty", text: s.loaded ? TEXT.noSummary : TEXT.loading }));
    }
    if (s.error) panel.appendChild(h("div", { className: "summary__error", role: "alert", "data-testid": "summary-error", text: s.error }));
  }

  var BULLET_RE = /^\s*(?:[-•*]|\d+[.)])\s+/;

  /** The summary's "- " lines as a list; anything else as it was written. */
  function summaryText(text) {
    var lines = String(text).split(/\n+/).filter(function (line) { return line.trim(); });
    if (!lines.length || !lines.every(function (line) { return BULLET_RE.test(line); })) {
      return h("div", { className: "summary__text", "data-testid": "summary-text", text: text });
    }
    var list = h("ul", { className: "summary__text summary__list", "data-testid": "summary-text" });
    lines.forEach(function (line) { list.appendChild(h("li", { text: line.replace(BULLET_RE, "") })); });
    return list;
  }

  // ---------------------------------------------------------------------------------------
  // The knowledge a bot reply used: "Sources: [1] Title › Heading", the passage on a click
  // ---------------------------------------------------------------------------------------

  var chunks = new Map(); // chunk id -> chunk, null when it is gone, "failed", or "loading"
  var expanded = new Set(); // "<message id>:<chunk id>"

  HC.on("message", function (m) {
    var cited = m.sender === "bot" && m.metadata && Array.isArray(m.metadata.citations)
      ? m.metadata.citations.filter(validCitation).slice(0, CITATIONS_SHOWN) : [];
    if (!cited.length) return null;
    var row = h("div", { className: "msg__sources", "data-testid": "message-sources" },
      h("span", { className: "msg__sources-label", text: TEXT.sources }));
    var wrap = h("div", { className: "msg__sources-wrap" }, row);
    cited.forEach(function (c) {
      var key = m.id + ":" + c.chunk_id;
      var isOpen = expanded.has(key);
      row.appendChild(h("button", {
        type: "button",
        className: "source",
        "data-testid": "source",
        "data-chunk-id": c.chunk_id,
        "aria-expanded": isOpen ? "true" : "false",
        onclick: function () { toggleSource(key, cited); },
        text: "[" + c.n + "] " + citationLabel(c),
      }));
      if (isOpen) wrap.appendChild(passage(c));
    });
    return wrap;
  });

  function toggleSource(key, cited) {
    if (expanded.has(key)) expanded.delete(key);
    else expanded.add(key);
    var wanted = cited.map(function (c) { return c.chunk_id; }).filter(function (id) {
      var known = chunks.get(id);
      return known === undefined || known === "failed";
    });
    if (wanted.length) loadChunks(wanted);
    HC.rerender();
  }

  function loadChunks(ids) {
    ids.forEach(function (id) { chunks.set(id, "loading"); });
    HC.api(HC.boot.assist.chunks, { ids: ids.join(",") }).then(function (body) {
      (body.chunks || []).forEach(function (chunk) { chunks.set(chunk.id, chunk); });
      ids.forEach(function (id) { if (chunks.get(id) === "loading") chunks.set(id, null); });
    }).catch(function () {
      ids.forEach(function (id) { chunks.set(id, "failed"); });
    }).then(HC.rerender);
  }

  function passage(c) {
    var chunk = chunks.get(c.chunk_id);
    var attrs = { className: "source-text", "data-testid": "source-text", "data-chunk-id": c.chunk_id };
    if (chunk === undefined || chunk === "loading") {
      return h("div", Object.assign(attrs, { "data-state": "loading" }), h("span", { className: "muted", text: TEXT.loading }));
    }
    if (chunk === null || chunk === "failed") {
      return h("div", Object.assign(attrs, { "data-state": chunk === null ? "gone" : "failed" }),
        h("span", { className: "muted", text: chunk === null ? TEXT.sourceGone : TEXT.sourceFailed }));
    }
    var link = /^https?:\/\//i.test(chunk.url || "")
      ? h("a", { className: "source-text__link", href: chunk.url, target: "_blank", rel: "noopener noreferrer", text: TEXT.openSource })
      : null;
    return h("div", Object.assign(attrs, { "data-state": "ready" }),
      h("div", { className: "source-text__title", text: "[" + c.n + "] " + citationLabel(chunk) }),
      h("div", { className: "source-text__body", text: chunk.text }),
      link);
  }

  // ---------------------------------------------------------------------------------------
  // Wiring
  // ---------------------------------------------------------------------------------------

  HC.on("frame", function (frame) {
    var type = String(frame.type || "");
    var data = frame.data || {};
    if (type === "assist.summary.delta" || type === "assist.summary" || (type === "assist.error" && data.purpose === "summary")) {
      onSummaryFrame(frame);
    } else if (type === "assist.delta" || type === "assist.done" || type === "assist.error") {
      onSuggestionFrame(frame);
    }
  });

  var shownConversation = null;

  function onChange() {
    var open = HC.open();
    var id = open ? open.id : null;
    if (id !== shownConversation) {
      shownConversation = id;
      // A draft belongs to the conversation it was asked for.
      if (suggestion) endSuggestion();
      hideDraftSources();
      loadSummary(id);
    }
    paintSuggest();
    paintSummary();
  }

  HC.on("change", onChange);
  onChange();
})();
