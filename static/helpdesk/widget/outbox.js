// Own messages not acknowledged yet: kept in localStorage so that they survive a reload, and
// sent again when the connection is back.
import { TIMINGS } from "./config.js";
import { render } from "./render.js";
import { messages, outbox } from "./state.js";
import { store } from "./storage.js";
import { doneUpload, uploadsDone } from "./uploads.js";
import { now } from "./values.js";

const RESTORE_MAX_AGE_MS = 24 * 3600 * 1000;

/** A message written here, not sent yet. */
export function pendingItem(clientId, text, createdAt) {
  return {
    local: true,
    client_id: clientId,
    text: text,
    sender: "contact",
    sender_name: "",
    kind: "text",
    metadata: {},
    state: "pending",
    seq: null,
    id: null,
    created_at: createdAt,
  };
}

export function addToOutbox(item) {
  messages.byClient[item.client_id] = item;
  outbox.push(item);
  saveOutbox();
}

export function removeFromOutbox(item) {
  const i = outbox.indexOf(item);
  if (i >= 0) {
    outbox.splice(i, 1);
    saveOutbox();
  }
}

export function saveOutbox() {
  // A message whose files are not uploaded yet cannot be sent after a reload (the files are gone).
  const list = outbox.filter((item) => uploadsDone(item.uploads)).slice(0, TIMINGS.outboxMax).map((item) => ({
    client_id: item.client_id,
    text: item.text,
    created_at: item.created_at,
    attachments: item.uploads ? item.uploads.map((entry) => entry.attachment) : undefined,
  }));
  if (list.length) store.set("outbox", JSON.stringify(list));
  else store.del("outbox");
}

/** Show again the messages a previous page left unsent (up to a day old). */
export function restoreOutbox() {
  const raw = store.get("outbox");
  if (!raw) return;
  let list;
  try {
    list = JSON.parse(raw);
  } catch (e) {
    store.del("outbox");
    return;
  }
  if (!Array.isArray(list)) return;
  const cutoff = now() - RESTORE_MAX_AGE_MS;
  for (let i = 0; i < list.length && i < TIMINGS.outboxMax; i++) {
    const saved = list[i];
    const valid = saved && typeof saved.client_id === "string" && typeof saved.text === "string";
    if (!valid || messages.byClient[saved.client_id]) continue;
    const written = new Date(saved.created_at).getTime();
    if (isFinite(written) && written < cutoff) continue;
    const item = pendingItem(saved.client_id, saved.text, saved.created_at);
    const files = Array.isArray(saved.attachments) ? saved.attachments.filter((a) => a && a.id != null) : [];
    if (files.length) item.uploads = files.map(doneUpload); // uploaded already: not again
    messages.byClient[item.client_id] = item;
    outbox.push(item);
    render(item);
  }
  saveOutbox();
}

export function clearRetryTimer(item) {
  if (item.retryTimer) {
    clearInterval(item.retryTimer);
    item.retryTimer = null;
  }
}
