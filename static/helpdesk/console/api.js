// The console's JSON API (/console/api/...): GETs, and POSTs with the CSRF token.
import { boot } from "./boot.js";
import { gettext } from "../shared/i18n.js";

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The session is gone (expired, or signed out elsewhere): to the login page, and back here. */
export function signInAgain() {
  window.location.assign(boot.urls.login + "?next=" + encodeURIComponent(window.location.pathname + window.location.hash));
}

/** GET `path` (or POST it, with the CSRF token); the JSON body, or an ApiError. */
export function api(path, params, method) {
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
      if (err.code === "unauthenticated") signInAgain();
      throw new ApiError(response.status, err.code || "http_" + response.status, err.message || gettext("The request failed."));
    });
  });
}

export function conversationUrl(id) { return boot.urls.conversations + "/" + encodeURIComponent(id); }
