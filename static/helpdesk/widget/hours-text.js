// The inbox's availability in words (S.options.hours, docs/widget.md): the header's status
// line ("Typically replies in 5 min", "Back Monday at 09:00") and the offline texts. Times are
// shown in the visitor's own time zone and language (shared/format.js).
import { dateTimeFormat, formatDuration, timestamp } from "../shared/format.js";
import { gettext, interpolate } from "../shared/i18n.js";
import { S } from "./state.js";

const DAY_MS = 86400000;

/** The availability the widget knows (options.hours, or a fresher GET availability), or null. */
export function hours() {
  const h = S.options && S.options.hours;
  return h && typeof h === "object" ? h : null;
}

/** offline.js: a fresher answer of GET /widget/api/availability. */
export function setHours(h) {
  if (!h || typeof h !== "object") return;
  if (!S.options) S.options = {};
  S.options.hours = h;
}

/** Nobody answers now: closed, or no agent there. Bot inboxes are never "offline" here. */
export function nobodyThere(h) {
  return !!h && (h.open === false || h.agents_available === false);
}

function startOfDay(t) {
  const d = new Date(t);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/** "Back today at 09:00", "Back tomorrow at 09:00", "Back Monday at 09:00", "Back on 24 December
 *  at 09:00"; null without a time. */
export function backAtText(iso, now) {
  const t = timestamp(iso);
  if (t === null) return null;
  const time = dateTimeFormat({ hour: "numeric", minute: "2-digit" }).format(new Date(t));
  const days = Math.round((startOfDay(t) - startOfDay(now === undefined ? Date.now() : now)) / DAY_MS);
  if (days <= 0) return interpolate(gettext("Back today at %(time)s"), { time: time });
  if (days === 1) return interpolate(gettext("Back tomorrow at %(time)s"), { time: time });
  if (days < 7) {
    const day = dateTimeFormat({ weekday: "long" }).format(new Date(t));
    return interpolate(gettext("Back %(day)s at %(time)s"), { day: day, time: time });
  }
  const date = dateTimeFormat({ month: "long", day: "numeric" }).format(new Date(t));
  return interpolate(gettext("Back on %(date)s at %(time)s"), { date: date, time: time });
}

/** "Typically replies in 5 min"; rounded to whole minutes (hours past two hours). */
export function replyTimeText(seconds) {
  if (typeof seconds !== "number" || !isFinite(seconds) || seconds < 0) return null;
  if (seconds < 60) return gettext("Typically replies in under a minute");
  let rounded = Math.round(seconds / 60) * 60;
  if (rounded >= 7200) rounded = Math.round(seconds / 3600) * 3600;
  return interpolate(gettext("Typically replies in %(duration)s"), { duration: formatDuration(rounded) });
}

/** The header's line while no human has the conversation, or null to keep the usual one (a bot
 *  inbox: the bot answers at once, whatever the hours). */
export function hoursStatus() {
  const h = hours();
  if (!h || h.has_bot) return null;
  if (h.open === false) return backAtText(h.back_at) || gettext("We're away right now");
  if (h.agents_available === false) return gettext("No one is available right now");
  return replyTimeText(h.reply_time_seconds) || gettext("We'll reply as soon as we can");
}
