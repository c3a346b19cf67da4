// The names of the protocol's values (statuses, senders, alerts, availability) as shown.
// Functions with literal gettext() calls, so that makemessages finds every one.
import { gettext } from "../shared/i18n.js";
import { h } from "./dom.js";

export function statusLabel(status) {
  switch (status) {
    case "bot": return gettext("Bot");
    case "queued": return gettext("Queued");
    case "assigned": return gettext("Assigned");
    case "resolved": return gettext("Resolved");
    default: return null;
  }
}

export function senderLabel(sender) {
  switch (sender) {
    case "contact": return gettext("Customer");
    case "bot": return gettext("Bot");
    case "agent": return gettext("Agent");
    case "system": return gettext("System");
    default: return null;
  }
}

export function alertLabel(kind) {
  switch (kind) {
    case "queued": return gettext("New");
    case "assigned": return gettext("For you");
    case "waiting": return gettext("Still waiting");
    default: return null;
  }
}

export function availabilityLabel(availability) {
  switch (availability) {
    case "online": return gettext("Online");
    case "busy": return gettext("Busy");
    case "offline": return gettext("Offline");
    default: return null;
  }
}

export function statusBadge(status, extraClass) {
  var label = statusLabel(status);
  return h("span", {
    className: "badge badge--" + (label ? status : "unknown") + (extraClass ? " " + extraClass : ""),
    "data-testid": "status-badge",
    "data-status": status,
    text: label || status || "—",
  });
}
