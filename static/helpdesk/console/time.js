// Dates and times as the agent reads them: clock times, day separators, "5m ago". Everything is
// in the console's language (shared/format.js); the formatters follow it, not the browser's.
import { gettext } from "../shared/i18n.js";
import { formatDate, formatRelative } from "../shared/format.js";

export function parseTime(value) {
  if (!value) return null;
  var t = Date.parse(value);
  return isNaN(t) ? null : t;
}

export function startOfDay(t) { var d = new Date(t); d.setHours(0, 0, 0, 0); return d.getTime(); }

/** A clock time (09:41), a date with its time, a short day (Mar 5 / 3月5日), for a timestamp. */
export function clockTime(t) { return formatDate(t, "time"); }
export function fullTime(t) { return formatDate(t, "dateTime"); }
export function shortDay(t) { return formatDate(t, "day"); }
export function dayAndTime(t) { return formatDate(t, "dayTime"); }
// For modules that format clock times themselves (assist-summary.js): made when used, so it
// follows the language too.
export const timeFmt = { format: clockTime };

/** The list's "when": "now" and "5m ago" for the last hour, then the clock time today, the
 * weekday this week, the day before that. */
export function relativeTime(value) {
  var t = parseTime(value);
  if (t === null) return "";
  var diff = Date.now() - t;
  if (diff < 3600000) return formatRelative(t, "narrow");
  if (t >= startOfDay(Date.now())) return clockTime(t);
  if (diff < 6 * 86400000) return formatDate(t, "weekday");
  return shortDay(t);
}

export function dayLabel(t) {
  var today = startOfDay(Date.now());
  var day = startOfDay(t);
  if (day === today) return gettext("Today");
  var yesterday = new Date(today);
  yesterday.setDate(yesterday.getDate() - 1);
  if (day === yesterday.getTime()) return gettext("Yesterday");
  return formatDate(t, "longDay");
}
