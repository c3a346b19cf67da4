// HTTP calls to the widget API: JSON in and out, a timeout, and aborted with their connection.
import { config } from "./config.js";
import { S } from "./state.js";

/** Resolves {status, ok, json, headers}; ``c`` (a connection) aborts it when torn down. */
export function request(method, path, body, withAuth, timeoutMs, c) {
  const controller = typeof AbortController === "function" ? new AbortController() : null;
  const timer = setTimeout(() => {
    if (controller) controller.abort();
  }, timeoutMs);
  if (c && controller) c.aborts.push(controller);
  const headers = { Accept: "application/json" };
  const hasBody = body !== null && body !== undefined;
  if (hasBody) headers["Content-Type"] = "application/json";
  if (withAuth) {
    headers["X-Inbox-Key"] = config.inbox;
    if (S.token) headers.Authorization = "Bearer " + S.token;
  }
  const done = () => {
    clearTimeout(timer);
    if (c && controller) {
      const i = c.aborts.indexOf(controller);
      if (i >= 0) c.aborts.splice(i, 1);
    }
  };
  return fetch(config.httpBase + path, {
    method: method,
    headers: headers,
    body: hasBody ? JSON.stringify(body) : undefined,
    credentials: "omit",
    cache: "no-store",
    mode: "cors",
    signal: controller ? controller.signal : undefined,
  })
    .then((response) =>
      response.text().then((text) => {
        let json = null;
        try {
          json = text ? JSON.parse(text) : null;
        } catch (e) {
          /* not JSON */
        }
        return { status: response.status, ok: response.ok, json: json, headers: response.headers };
      }),
    )
    .then(
      (answer) => {
        done();
        return answer;
      },
      (error) => {
        done();
        throw error;
      },
    );
}

export function eventsOf(json) {
  return json && Array.isArray(json.events) ? json.events : [];
}

export function firstErrorCode(json) {
  for (const event of eventsOf(json)) if (event && event.type === "error" && event.data) return event.data.code;
  if (json && typeof json.code === "string") return json.code;
  if (json && json.error && typeof json.error === "string") return json.error;
  return null;
}
