// Uploading a file to /widget/api/attachments (docs/widget.md): one upload per picked file,
// with its progress; a message waits for its uploads, and a file uploaded once is never sent
// again (its id is kept, on a retry too).
import { config } from "./config.js";
import { S } from "./state.js";
import { obtainToken } from "./token.js";

const UPLOAD_TIMEOUT_MS = 5 * 60000;
const PATH = "/widget/api/attachments";

/** A file to upload: what chips and pending messages show while it goes up. */
export function newUpload(file, type, previewUrl) {
  return {
    file: file,
    name: file.name || "",
    size: file.size,
    type: type,
    previewUrl: previewUrl || null, // blob: URL of a picked image, ours
    id: null,
    attachment: null, // the server's answer ({id, name, type, size, width, height, url, thumbnail_url})
    state: "waiting", // waiting | uploading | done | failed
    progress: 0, // 0..1
    error: null, // {code, message, name} when failed
    promise: null,
    onchange: null, // called as progress and state change
  };
}

/** An upload the server already has (restored from storage with its attachment). */
export function doneUpload(attachment) {
  return {
    file: null,
    name: String(attachment.name || ""),
    size: attachment.size,
    type: String(attachment.type || ""),
    previewUrl: null,
    id: attachment.id,
    attachment: attachment,
    state: "done",
    progress: 1,
    error: null,
    promise: null,
    onchange: null,
  };
}

function changed(entry) {
  if (typeof entry.onchange === "function") {
    try {
      entry.onchange(entry);
    } catch (e) {
      /* a display problem must not stop the upload */
    }
  }
}

function post(entry) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", config.httpBase + PATH, true);
    xhr.timeout = UPLOAD_TIMEOUT_MS;
    xhr.withCredentials = false;
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-Inbox-Key", config.inbox);
    if (S.token) xhr.setRequestHeader("Authorization", "Bearer " + S.token);
    if (xhr.upload) {
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable && event.total) {
          entry.progress = Math.min(1, event.loaded / event.total);
          changed(entry);
        }
      };
    }
    const finish = (status, text) => {
      let json = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch (e) {
        /* not JSON */
      }
      resolve({ status: status, json: json, retryAfter: xhr.getResponseHeader && xhr.getResponseHeader("Retry-After") });
    };
    xhr.onload = () => finish(xhr.status, xhr.responseText);
    xhr.onerror = () => finish(0, "");
    xhr.ontimeout = () => finish(0, "");
    xhr.onabort = () => finish(0, "");
    const form = new FormData();
    form.append("file", entry.file, entry.name || "file");
    xhr.send(form);
  });
}

function errorOf(answer) {
  const json = answer.json;
  const error = json && json.error && typeof json.error === "object" ? json.error : {};
  let code = typeof error.code === "string" ? error.code : json && typeof json.code === "string" ? json.code : "";
  if (!code) {
    if (answer.status === 413) code = "attachment_too_large";
    else if (answer.status === 415) code = "attachment_type_not_allowed";
    else if (answer.status === 429) code = "rate_limited";
    else code = "upload_failed";
  }
  const retry = Number(error.retry_after != null ? error.retry_after : answer.retryAfter);
  return {
    code: code,
    message: typeof error.message === "string" ? error.message : "",
    limit: error.limit != null ? error.limit : null,
    retry_after: isFinite(retry) ? retry : null,
  };
}

function ensureToken() {
  return S.token ? Promise.resolve(true) : obtainToken();
}

/** Upload ``entry`` unless it is up already; resolves the entry (done or failed), never rejects. */
export function startUpload(entry) {
  if (entry.state === "done") return Promise.resolve(entry);
  if (entry.state === "uploading" && entry.promise) return entry.promise;
  if (!entry.file) {
    entry.state = "failed";
    entry.error = { code: "attachment_not_found", name: entry.name };
    return Promise.resolve(entry);
  }
  entry.state = "uploading";
  entry.progress = 0;
  entry.error = null;
  changed(entry);
  let renewed = false;
  const attempt = () =>
    ensureToken()
      .then(() => post(entry))
      .then((answer) => {
        const code = errorOf(answer).code;
        const expired = answer.status === 401 || code === "token_expired" || code === "token_invalid" || code === "unauthenticated";
        if (expired && !renewed) {
          // An old token: renew it once (as reconnecting does) and upload again.
          renewed = true;
          return obtainToken().then(attempt);
        }
        return answer;
      });
  entry.promise = attempt()
    .then((answer) => {
      const a = answer.json && answer.json.attachment;
      if (answer.status >= 200 && answer.status < 300 && a && a.id != null) {
        entry.state = "done";
        entry.id = a.id;
        entry.attachment = a;
        entry.progress = 1;
      } else {
        entry.state = "failed";
        entry.error = Object.assign(errorOf(answer), { name: entry.name });
      }
      changed(entry);
      return entry;
    })
    .catch(() => {
      entry.state = "failed";
      entry.error = { code: "upload_failed", name: entry.name };
      changed(entry);
      return entry;
    });
  return entry.promise;
}

export function uploadsDone(entries) {
  return !entries || entries.every((entry) => entry.state === "done");
}

export function uploadIds(entries) {
  return (entries || []).filter((entry) => entry.state === "done").map((entry) => entry.id);
}

/** Upload what is not up yet, then ``ok()``; or ``failed(error)`` with the first failure. */
export function whenUploaded(entries, ok, failed) {
  Promise.all(entries.map(startUpload)).then(() => {
    const bad = entries.filter((entry) => entry.state !== "done");
    if (bad.length) failed(bad[0].error || { code: "upload_failed", name: bad[0].name });
    else ok();
  });
}
