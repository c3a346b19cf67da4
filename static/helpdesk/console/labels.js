// The names of the protocol's values (statuses, senders, alerts, availability) as shown.
// Functions with literal gettext() calls, so that makemessages finds every one.
import { gettext, interpolate } from "../shared/i18n.js";
import { boot } from "./boot.js";
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

/** A contact's name as shown: what they said they are called, else "Visitor 7d1c0a2b". */
export function contactName(contact) {
  if (!contact) return gettext("Visitor");
  if (contact.name) return contact.name;
  return contact.visitor ? interpolate(gettext("Visitor %(id)s"), { id: contact.visitor }) : gettext("Visitor");
}

/** Why a conversation waits for a human, in words: the server stores "code" or "code:detail"
 * and gives the page each code's wording in the agent's language (handoff_reasons.py). */
export function handoffReasonLabel(reason) {
  if (!reason) return "";
  var at = reason.indexOf(":");
  var code = at < 0 ? reason : reason.slice(0, at);
  var wording = (boot.handoffReasons || {})[code];
  if (!wording) return reason; // stored before reasons had codes
  return interpolate(wording, { detail: at < 0 ? "" : reason.slice(at + 1) });
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
