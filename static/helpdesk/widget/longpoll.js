// The HTTP long-polling transport: frames go out as POSTs, one at a time and in order; events
// come back in their answers and in a poll the server holds open. ``events`` as in websocket.js.
import { config, debug, TIMINGS } from "./config.js";
import { newConnection } from "./connection.js";
import { switchConversation } from "./conversation.js";
import { eventsOf, request } from "./http.js";
import { updateUI } from "./panel.js";
import { S } from "./state.js";
import { now, sameId, toInt } from "./values.js";

export function openLongPoll(events) {
  const c = newConnection("longpoll");
  c.queue = Promise.resolve();
  c.polling = false;
  c.pollController = null;

  c.send = (frame) => {
    if (c.dead) return false;
    c.queue = c.queue.then(() => post(c, frame, events));
    return true;
  };
  // Poll once the frames queued so far (resume, resends) have been answered.
  c.startPoll = () => c.queue.then(() => pollLoop(c, events));
  c.restartPoll = () => {
    if (c.pollController) {
      try {
        c.pollController.abort();
      } catch (e) {
        /* ignore */
      }
    }
    c.startPoll();
  };
  c.send({ type: "hello", data: { inbox: config.inbox, token: S.token } });
  return c;
}

function post(c, frame, events) {
  if (c.dead || S.conn !== c) return Promise.resolve();
  debug("→ POST", frame.type, frame);
  return request("POST", "/widget/api/poll/send", frame, true, TIMINGS.sendTimeoutMs, c).then(
    (answer) => {
      if (c.dead || S.conn !== c) return;
      handleAnswer(c, answer, frame, events);
    },
    (error) => {
      if (c.dead || S.conn !== c) return;
      debug("long-poll send failed", error);
      events.reconnect();
    },
  );
}

function refOf(frame) {
  return (frame.data && frame.data.client_id) || frame.type;
}

/** Handle an HTTP answer of the long-poll endpoints; false when the connection is done for. */
function handleAnswer(c, r, frame, events) {
  let frames = eventsOf(r.json);
  if (r.status === 401) {
    events.authFailed();
    return false;
  }
  if (r.status === 403) {
    events.fatal("origin_not_allowed");
    return false;
  }
  if (r.status >= 500 || (r.status !== 200 && !frames.length && r.status !== 404 && r.status !== 409)) {
    if (r.status >= 400 && r.status < 500 && frame) {
      // A refusal with no body we understand: fail the message, not the connection.
      events.receive(c, { type: "error", data: { code: r.status === 429 ? "rate_limited" : "invalid", ref: refOf(frame) } });
      return true;
    }
    events.reconnect();
    return false;
  }
  if (!frames.length && (r.status === 404 || r.status === 409) && frame) {
    frames = [{ type: "error", data: { code: r.status === 404 ? "not_found" : "conversation_closed", ref: refOf(frame) } }];
  }
  const retryAfter = r.headers && r.headers.get ? toInt(r.headers.get("Retry-After")) : null;
  for (const event of frames) {
    const isError = event && event.type === "error" && event.data;
    if (isError && event.data.code === "rate_limited" && event.data.retry_after == null && retryAfter != null) {
      event.data.retry_after = retryAfter;
    }
    if (isError && !event.data.ref && frame) event.data.ref = refOf(frame);
    events.receive(c, event);
    if (c.dead || S.conn !== c) return false;
  }
  if (frame && frame.type === "hello" && !c.welcomed) {
    // 200 without a welcome: the server does not speak our protocol here.
    events.reconnect();
    return false;
  }
  return true;
}

function pollLoop(c, events) {
  if (c.dead || S.conn !== c || c.polling || S.conversation == null) return;
  c.polling = true;
  const conversation = S.conversation;
  const since = S.lastSeq;
  const started = now();
  const before = c.aborts.length;
  const query = "?conversation=" + encodeURIComponent(String(conversation)) + "&seq=" + encodeURIComponent(String(since));
  const poll = request("GET", "/widget/api/poll" + query, null, true, TIMINGS.pollTimeoutMs, c);
  c.pollController = c.aborts.length > before ? c.aborts[c.aborts.length - 1] : null;
  poll.then(
    (r) => {
      c.polling = false;
      if (c.dead || S.conn !== c) return;
      if (!sameId(conversation, S.conversation)) {
        pollLoop(c, events); // the conversation changed while we waited
        return;
      }
      if (r.status === 404) {
        switchConversation(null);
        return;
      }
      if (!handleAnswer(c, r, null, events)) return;
      S.connected = true;
      updateUI();
      const progressed = S.lastSeq > since || eventsOf(r.json).length > 0;
      const wait = !progressed && now() - started < TIMINGS.pollMinIntervalMs ? TIMINGS.pollMinIntervalMs : 0;
      c.pollTimer = setTimeout(() => pollLoop(c, events), wait);
    },
    (error) => {
      c.polling = false;
      if (c.dead || S.conn !== c) return;
      if (error && error.name === "AbortError" && !sameId(conversation, S.conversation)) {
        pollLoop(c, events); // aborted on purpose: a new conversation
        return;
      }
      debug("poll failed", error);
      events.reconnect();
    },
  );
}
