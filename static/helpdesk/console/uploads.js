// An agent's files going up to /console/api/attachments (session cookie + CSRF token, like the
// console's other POSTs), with their progress. A message waits for its uploads; an uploaded
// file keeps its id, so a retry never uploads it again.
import { boot } from "./boot.js";
import { signInAgain } from "./api.js";

const UPLOAD_TIMEOUT_MS = 5 * 60000;

export function uploadPath() {
  return (boot.attachments && boot.attachments.upload) || "/console/api/attachments";
}

export function newUpload(file, type, previewUrl, conversationId) {
  return {
    file: file,
    name: file.name || "",
    size: file.size,
    type: type,
    previewUrl: previewUrl || null, // blob: URL of a picked image (ours)
    conversation: conversationId,
    id: null,
    attachment: null, // the server's {id, name, type, size, width, height, url, thumbnail_url}
    state: "waiting", // waiting | uploading | done | failed
    progress: 0,
    error: null, // {code, message, limit, name}
    promise: null,
    onchange: null,
  };
}

function changed(entry) {
  if (typeof entry.onchange === "function") {
    try { entry.onchange(entry); } catch (err) { if (window.console) window.console.error(err); }
  }
}

function post(entry) {
  return new Promise(function (resolve) {
    var xhr = new XMLHttpRequest();
    xhr.open("POST", new URL(uploadPath(), window.location.origin).toString(), true);
    xhr.timeout = UPLOAD_TIMEOUT_MS;
    xhr.withCredentials = true;
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRFToken", boot.csrfToken);
    if (xhr.upload) {
      xhr.upload.onprogress = function (event) {
        if (event.lengthComputable && event.total) {
          entry.progress = Math.min(1, event.loaded / event.total);
          changed(entry);
        }
      };
    }
    var finish = function (status, text) {
      var json = null;
      try { json = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
      resolve({ status: status, json: json });
    };
    xhr.onload = function () { finish(xhr.status, xhr.responseText); };
    xhr.onerror = function () { finish(0, ""); };
    xhr.ontimeout = function () { finish(0, ""); };
    xhr.onabort = function () { finish(0, ""); };
    var form = new FormData();
    form.append("file", entry.file, entry.name || "file");
    if (entry.conversation != null) form.append("conversation", String(entry.conversation));
    xhr.send(form);
  });
}

function errorOf(answer, name) {
  var json = answer.json;
  var error = json && json.error && typeof json.error === "object" ? json.error : {};
  var code = typeof error.code === "string" ? error.code : "";
  if (!code) {
    if (answer.status === 413) code = "attachment_too_large";
    else if (answer.status === 415) code = "attachment_type_not_allowed";
    else if (answer.status === 429) code = "rate_limited";
    else code = "upload_failed";
  }
  return { code: code, message: typeof error.message === "string" ? error.message : "", limit: error.limit != null ? error.limit : null, name: name };
}

/** Upload ``entry`` unless it is up already; resolves the entry (done or failed), never rejects. */
export function startUpload(entry) {
  if (entry.state === "done") return Promise.resolve(entry);
  if (entry.state === "uploading" && entry.promise) return entry.promise;
  entry.state = "uploading";
  entry.progress = 0;
  entry.error = null;
  changed(entry);
  entry.promise = post(entry).then(function (answer) {
    var a = answer.json && answer.json.attachment;
    if (answer.status >= 200 && answer.status < 300 && a && a.id != null) {
      entry.state = "done";
      entry.id = a.id;
      entry.attachment = a;
      entry.progress = 1;
    } else {
      entry.state = "failed";
      entry.error = errorOf(answer, entry.name);
      if (entry.error.code === "unauthenticated") signInAgain();
    }
    changed(entry);
    return entry;
  });
  return entry.promise;
}

export function uploadsDone(entries) {
  return !entries || entries.every(function (entry) { return entry.state === "done"; });
}

export function uploadIds(entries) {
  return (entries || []).filter(function (entry) { return entry.state === "done"; }).map(function (entry) { return entry.id; });
}

/** Upload what is not up yet, then ``ok()``; or ``failed(error)`` with the first failure. */
export function whenUploaded(entries, ok, failed) {
  Promise.all(entries.map(startUpload)).then(function () {
    var bad = entries.filter(function (entry) { return entry.state !== "done"; });
    if (bad.length) failed(bad[0].error || { code: "upload_failed", name: bad[0].name });
    else ok();
  });
}
