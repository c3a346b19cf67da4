// The agent's own availability (online, busy, offline): the select in the top bar, changed
// over the socket and confirmed by the server's presence frame.
import { ACTION_TIMEOUT_MS, ME } from "./boot.js";
import * as socket from "./connection.js";
import { $ } from "./dom.js";
import { availabilityLabel } from "./labels.js";
import { toast } from "./toast.js";
import { gettext, interpolate } from "../shared/i18n.js";

const availEl = $("[data-testid=availability]");
const availSelect = $("[data-testid=availability-select]");
const availability = { value: ME.availability || availSelect.value, pending: null, timer: null };

function paintAvailability() {
  var shown = availability.pending || availability.value;
  availSelect.value = shown;
  availEl.setAttribute("data-availability", shown);
  availEl.setAttribute("data-pending", availability.pending ? "true" : "false");
  availEl.title = availabilityTitle(shown);
}

export function confirmAvailability(value) {
  clearTimeout(availability.timer);
  availability.value = value;
  availability.pending = null;
  paintAvailability();
}

function onSelect() {
  var wanted = availSelect.value;
  if (!socket.isOpen()) {
    paintAvailability();
    toast(interpolate(gettext("Not connected — your availability stays %(availability)s."), { availability: availabilityLabel(availability.value) || availability.value }), "error");
    return;
  }
  availability.pending = wanted;
  paintAvailability();
  socket.send({ type: "availability.set", data: { availability: wanted } });
  clearTimeout(availability.timer);
  // The answer is a `presence` frame; without one (an older server) the choice stands.
  availability.timer = setTimeout(function () {
    if (availability.pending === wanted) confirmAvailability(wanted);
  }, ACTION_TIMEOUT_MS);
}

/** An `error` that refuses our availability change; true when it was one. */
export function availabilityError(frame) {
  var data = frame.data || {};
  if (data.ref !== "availability.set" || !availability.pending) return false;
  clearTimeout(availability.timer);
  availability.pending = null;
  paintAvailability();
  toast(data.message || gettext("Could not change your availability."), "error", { testid: "action-error", attrs: { "data-code": data.code || "" } });
  return true;
}

/** The connection dropped: a change the server has not confirmed did not happen. */
export function forgetPendingAvailability() {
  if (!availability.pending) return;
  clearTimeout(availability.timer);
  availability.pending = null;
  paintAvailability();
}

function availabilityTitle(value) {
  switch (value) {
    case "online": return gettext("You are online: new conversations may be assigned to you");
    case "busy": return gettext("You are busy");
    case "offline": return gettext("You are offline");
    default: return interpolate(gettext("You are %(availability)s"), { availability: value });
  }
}

export function wireAvailability() {
  availSelect.addEventListener("change", onSelect);
  paintAvailability();
}
