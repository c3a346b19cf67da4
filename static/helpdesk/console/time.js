// Dates and times as the agent reads them: clock times, day separators, "5m" ago.
import { INTL_LOCALES as LOCALES } from "./boot.js";
import { gettext, interpolate } from "../shared/i18n.js";

export const timeFmt = new Intl.DateTimeFormat(LOCALES, { hour: "2-digit", minute: "2-digit" });
export const shortDayFmt = new Intl.DateTimeFormat(LOCALES, { day: "numeric", month: "short" });
export const fullFmt = new Intl.DateTimeFormat(LOCALES, { dateStyle: "medium", timeStyle: "short" });
const dayFmt = new Intl.DateTimeFormat(LOCALES, { weekday: "long", day: "numeric", month: "long" });
const weekdayFmt = new Intl.DateTimeFormat(LOCALES, { weekday: "short" });

export function parseTime(value) {
  if (!value) return null;
  var t = Date.parse(value);
  return isNaN(t) ? null : t;
}

export function startOfDay(t) { var d = new Date(t); d.setHours(0, 0, 0, 0); return d.getTime(); }

export function relativeTime(value) {
  var t = parseTime(value);
  if (t === null) return "";
  var diff = Date.now() - t;
  if (diff < 60000) return gettext("now");
  // Translators: minutes ago, as short as possible ("5m").
  if (diff < 3600000) return interpolate(gettext("%(minutes)sm"), { minutes: Math.floor(diff / 60000) });
  if (t >= startOfDay(Date.now())) return timeFmt.format(t);
  if (diff < 6 * 86400000) return weekdayFmt.format(t);
  return shortDayFmt.format(t);
}

export function dayLabel(t) {
  var today = startOfDay(Date.now());
  var day = startOfDay(t);
  if (day === today) return gettext("Today");
  var yesterday = new Date(today);
  yesterday.setDate(yesterday.getDate() - 1);
  if (day === yesterday.getTime()) return gettext("Yesterday");
  return dayFmt.format(t);
}
