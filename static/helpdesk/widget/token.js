// The visitor token: asked for (or renewed) at /widget/api/visitor before connecting.
import { browserLanguages, useLocale } from "./catalog.js";
import { config, TIMINGS } from "./config.js";
import { firstErrorCode, request } from "./http.js";
import { setFatal } from "./panel.js";
import { setGreeting } from "./render.js";
import { S, setToken } from "./state.js";

let pending = null;

/** Resolves true (token in hand), false (fatal: do not retry) or "neterr" (try again later). */
export function obtainToken() {
  if (pending) return pending;
  const body = { inbox: config.inbox, languages: browserLanguages() };
  if (config.locale) body.locale = config.locale;
  if (S.token) body.token = S.token;
  pending = request("POST", "/widget/api/visitor", body, false, TIMINGS.sendTimeoutMs, null)
    .then((r) => {
      pending = null;
      if (r.ok && r.json && typeof r.json.token === "string" && r.json.token) {
        setToken(r.json.token);
        if (r.json.visitor) S.visitor = r.json.visitor;
        useLocale(r.json.locale);
        if (typeof r.json.greeting === "string") setGreeting(r.json.greeting);
        return true;
      }
      const code = firstErrorCode(r.json);
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
