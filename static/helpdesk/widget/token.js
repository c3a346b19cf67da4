// The visitor token: asked for (or renewed) at /widget/api/visitor before connecting.
import { browserLanguages, useLocale } from "./catalog.js";
import { config, TIMINGS } from "./config.js";
import { firstErrorCode, request } from "./http.js";
import { optionsArrived } from "./options.js";
import { setFatal } from "./panel.js";
import { setGreeting } from "./render.js";
import { S, setToken } from "./state.js";

let pending = null;

/** Resolves true (token in hand), false (fatal: do not retry) or "neterr" (try again later).
 *  With a signed ``identity`` (identity.js) the token names that user's contact; a refused one
 *  resolves {refused: code, message} and leaves the token and the widget as they were. */
export function obtainToken(identity) {
  if (pending) return identity ? pending.then(() => obtainToken(identity)) : pending;
  const body = { inbox: config.inbox, languages: browserLanguages() };
  if (config.locale) body.locale = config.locale;
  if (S.token) body.token = S.token;
  if (identity) body.identity = identity;
  pending = request("POST", "/widget/api/visitor", body, false, TIMINGS.sendTimeoutMs, null)
    .then((r) => {
      pending = null;
      if (r.ok && r.json && typeof r.json.token === "string" && r.json.token) {
        setToken(r.json.token);
        if (r.json.visitor) S.visitor = r.json.visitor;
        if (r.json.options && typeof r.json.options === "object") {
          S.options = r.json.options;
          optionsArrived();
        }
        useLocale(r.json.locale);
        if (typeof r.json.greeting === "string") setGreeting(r.json.greeting);
        return true;
      }
      const code = firstErrorCode(r.json);
      if (identity && code === "identity_invalid") return { refused: code, message: firstErrorMessage(r.json) };
      if (r.status === 403 || code === "origin_not_allowed") {
        setFatal("origin_not_allowed");
        return false;
      }
      if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) {
        setFatal(code || "http_" + r.status);
        return false;
      }
      return "neterr";
    })
    .catch(() => {
      pending = null;
      return "neterr";
    });
  return pending;
}

function firstErrorMessage(json) {
  const events = json && Array.isArray(json.events) ? json.events : [];
  for (const event of events) if (event && event.type === "error" && event.data) return String(event.data.message || "");
  return "";
}
