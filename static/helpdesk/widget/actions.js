// Requests that the server answers with ``action.done`` (or an ``error`` whose ``ref`` is the
// request's type), on whichever transport is live: follow_up.request (offline.js), ... One
// request of a kind at a time; frames.js hands the answers here.
import { liveConnection } from "./state.js";

const waiting = {}; // by action name: { ref, resolve, reject, timer }

/** Send ``frame`` and resolve with the action.done frame for ``action``; reject with the error
 *  frame's data (``{code, message, field}``), ``{code: "offline"}`` when there is no live
 *  connection, or ``{code: "timeout"}``. */
export function sendAction(frame, action, timeoutMs) {
  return new Promise((resolve, reject) => {
    const connection = liveConnection();
    if (!connection) {
      reject({ code: "offline" });
      return;
    }
    settle(action, { code: "superseded" }, true);
    const timer = setTimeout(() => settle(action, { code: "timeout" }, true), timeoutMs || 15000);
    waiting[action] = { ref: frame.type, resolve: resolve, reject: reject, timer: timer };
    connection.send(frame);
  });
}

function settle(action, value, failed) {
  const w = waiting[action];
  if (!w) return false;
  delete waiting[action];
  clearTimeout(w.timer);
  if (failed) w.reject(value);
  else w.resolve(value);
  return true;
}

/** frames.js: an ``action.done`` frame. */
export function actionDone(frame) {
  const d = (frame && frame.data) || {};
  return typeof d.action === "string" && settle(d.action, frame, false);
}

/** frames.js: an error frame's data; true when it answered a request made here. */
export function actionFailed(data) {
  if (!data || typeof data.ref !== "string") return false;
  for (const action in waiting) {
    if (waiting[action].ref === data.ref) return settle(action, data, true);
  }
  return false;
}
