// What the parts of agent assist share: the endpoints, the error texts, the citations' labels.
import { boot } from "./boot.js";
import { gettext } from "../shared/i18n.js";

// A request that has heard nothing for this long is given up (the socket may have dropped).
export const SILENCE_MS = 60000;
export const CITATIONS_SHOWN = 10;

export function url(id, tail) { return boot.urls.conversations + "/" + encodeURIComponent(id) + tail; }

/** What went wrong, for the agent. assist_unavailable is not here: the server's message says
 * why (no bot, no model, …). */
export function errorText(code, message) {
  switch (code) {
    case "assist_timeout": return gettext("The assistant took too long. Try again.");
    case "assist_failed": return gettext("The assistant could not write this. Try again.");
    case "assist_no_messages": return gettext("There is nothing to work from yet.");
    case "rate_limited": return gettext("Too many requests. Wait a minute and try again.");
    case "csrf_failed": return gettext("The page is out of date. Reload it and try again.");
    default: return message || gettext("The assistant could not help with this.");
  }
}

export function noAnswer() { return gettext("The assistant did not answer. Try again."); }

export function sparkIcon() {
  var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("width", "14");
  svg.setAttribute("height", "14");
  svg.setAttribute("viewBox", "0 0 16 16");
  svg.setAttribute("aria-hidden", "true");
  var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", "M8 1.5 9.4 6.6 14.5 8 9.4 9.4 8 14.5 6.6 9.4 1.5 8 6.6 6.6Z");
  path.setAttribute("fill", "currentColor");
  svg.appendChild(path);
  return svg;
}

export function citationLabel(c) {
  return [c.title, c.heading].filter(function (part) { return part; }).join(" › ");
}

export function validCitation(c) {
  return c && typeof c === "object" && typeof c.chunk_id === "number";
}
