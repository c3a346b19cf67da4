// Dates, times, relative times and numbers in the language of the UI, for the console, its
// reports page and the widget: "3 minutes ago" / "3分钟前", "1,234" / "1,234", "Mar 5" / "3月5日".
//
// The language is currentLocale() of shared/i18n.js, a Django language code ("en", "zh-hans");
// Intl wants a BCP 47 tag ("en", "zh-Hans-CN"). The widget learns its language after it starts
// (its catalog arrives later, and may change), so no formatter is made up front: each is made
// the first time it is needed in a language, and kept for the next call in that language.
import { currentLocale } from "./i18n.js";

// Django language code → BCP 47, where the two differ by more than letter case.
const INTL_TAGS = {
  "zh-hans": "zh-Hans-CN",
  "zh-hant": "zh-Hant-TW",
  "zh-cn": "zh-Hans-CN",
  "zh-tw": "zh-Hant-TW",
  zh: "zh-Hans-CN",
};

const formatters = new Map();

/** The Intl locale for a Django language code (the UI's language by default): "zh-hans" →
 * "zh-Hans-CN", "pt-br" → "pt-BR", "en" → "en"; "en" for anything Intl does not accept. */
export function intlLocale(language) {
  const code = String(language || currentLocale() || "en")
    .trim()
    .replace(/_/g, "-")
    .toLowerCase();
  const tag = INTL_TAGS[code] || code;
  try {
    return Intl.getCanonicalLocales(tag)[0] || "en";
  } catch (e) {
    return "en";
  }
}

function formatter(Kind, options) {
  const locale = intlLocale();
  const key = Kind.name + "|" + locale + "|" + JSON.stringify(options || {});
  let made = formatters.get(key);
  if (!made) {
    made = new Kind(locale, options); // may throw (an unknown currency): not cached then
    formatters.set(key, made);
  }
  return made;
}

/** An Intl.DateTimeFormat / NumberFormat / RelativeTimeFormat / ListFormat for the UI's
 * language, made once per language and options. */
export function dateTimeFormat(options) {
  return formatter(Intl.DateTimeFormat, options);
}

export function numberFormat(options) {
  return formatter(Intl.NumberFormat, options);
}

export function relativeTimeFormat(options) {
  return formatter(Intl.RelativeTimeFormat, options);
}

function listFormat(options) {
  return Intl.ListFormat ? formatter(Intl.ListFormat, options) : null;
}

/** Milliseconds since the epoch of a Date, a number of milliseconds or an ISO 8601 string;
 * null for anything else. */
export function timestamp(value) {
  if (value === null || value === undefined || value === "") return null;
  const t = value instanceof Date ? value.getTime() : typeof value === "number" ? value : Date.parse(value);
  return typeof t === "number" && isFinite(t) ? t : null;
}

// The shapes of dates the UI shows, by name.
const DATE_STYLES = {
  time: { hour: "2-digit", minute: "2-digit" }, // 09:41 AM / 09:41
  dateTime: { dateStyle: "medium", timeStyle: "short" }, // Mar 5, 2026, 9:41 AM / 2026年3月5日 09:41
  day: { day: "numeric", month: "short" }, // Mar 5 / 3月5日
  dayTime: { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" },
  weekday: { weekday: "short" }, // Thu / 周四
  longDay: { weekday: "long", day: "numeric", month: "long" }, // Thursday, March 5 / 3月5日星期四
};

/** A date in the UI's language: ``style`` is one of DATE_STYLES' names or Intl.DateTimeFormat
 * options. "" for a value that is no date. */
export function formatDate(value, style) {
  const t = timestamp(value);
  if (t === null) return "";
  const options = typeof style === "string" ? DATE_STYLES[style] : style;
  return dateTimeFormat(options || DATE_STYLES.dateTime).format(t);
}

/** From one date to another, said once: "Nov 8 – Dec 7, 2026" / "2026年11月8日至12月7日". */
export function formatDateRange(from, to, style) {
  const a = timestamp(from);
  const b = timestamp(to);
  if (a === null || b === null) return "";
  const options = typeof style === "string" ? DATE_STYLES[style] : style;
  const format = dateTimeFormat(options || DATE_STYLES.dateTime);
  return format.formatRange ? format.formatRange(a, b) : format.format(a) + " – " + format.format(b);
}

const RELATIVE_STEPS = [
  // [unit, its length in seconds, used below this many seconds]
  ["second", 1, 45],
  ["minute", 60, 3600],
  ["hour", 3600, 86400],
  ["day", 86400, 7 * 86400],
  ["week", 7 * 86400, 30 * 86400],
  ["month", 30 * 86400, 365 * 86400],
  ["year", 365 * 86400, Infinity],
];

/** How long ago (or how soon) ``value`` is: "now", "3 minutes ago", "yesterday", "in 2 hours";
 * "现在", "3分钟前", "昨天". ``style`` is RelativeTimeFormat's: "long" (the default), "short"
 * or "narrow" ("3m ago"). Under 45 seconds is "now". */
export function formatRelative(value, style, now) {
  const t = timestamp(value);
  if (t === null) return "";
  const seconds = (t - (now === undefined ? Date.now() : now)) / 1000;
  const rtf = relativeTimeFormat({ numeric: "auto", style: style || "long" });
  const size = Math.abs(seconds);
  for (const [name, length, below] of RELATIVE_STEPS) {
    if (size < below) {
      if (name === "second") return rtf.format(0, "second");
      const count = Math.max(1, Math.floor(size / length));
      return rtf.format(seconds < 0 ? -count : count, name);
    }
  }
  return "";
}

/** A number in the UI's language: 1,234.5. */
export function formatNumber(n, options) {
  if (n === null || n === undefined || n === "" || !isFinite(Number(n))) return "";
  return numberFormat(options).format(Number(n));
}

/** A ratio as a percentage: 0.1234 → "12.3%". */
export function formatPercent(ratio, maximumFractionDigits) {
  return formatNumber(ratio, {
    style: "percent",
    maximumFractionDigits: maximumFractionDigits === undefined ? 1 : maximumFractionDigits,
  });
}

/** A big number short: 12,345 → "12K" / "1.2万". */
export function formatCompact(n) {
  return formatNumber(n, { notation: "compact", maximumFractionDigits: 1 });
}

/** An amount of money, or null when ``currency`` is no ISO 4217 code Intl knows. */
export function formatCurrency(n, currency) {
  const code = typeof currency === "string" ? currency.trim().toUpperCase() : "";
  if (!/^[A-Z]{3}$/.test(code) || n === null || n === undefined || n === "" || !isFinite(Number(n))) return null;
  try {
    return numberFormat({ style: "currency", currency: code }).format(Number(n));
  } catch (e) {
    return null; // a code Intl does not know
  }
}

function unit(n, name) {
  return numberFormat({ style: "unit", unit: name, unitDisplay: "short" }).format(n);
}

function units(parts) {
  const list = listFormat({ type: "unit", style: "narrow" });
  return list ? list.format(parts) : parts.join(" ");
}

/** A duration in seconds, in at most its two largest units: "42 sec", "3 min 20 sec",
 * "2 hr 5 min", "1 day 3 hr" / "42秒", "3分钟20秒", "2小时5分钟", "1天3小时". "–" for none. */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(Number(seconds))) return "–";
  seconds = Math.max(0, Number(seconds));
  if (seconds < 60) return unit(seconds < 10 ? Math.round(seconds * 10) / 10 : Math.round(seconds), "second");
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    const rest = Math.round(seconds - minutes * 60);
    return rest && minutes < 10 && rest < 60 ? units([unit(minutes, "minute"), unit(rest, "second")]) : unit(minutes, "minute");
  }
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? units([unit(hours, "hour"), unit(minutes % 60, "minute")]) : unit(hours, "hour");
  const days = Math.floor(hours / 24);
  return hours % 24 ? units([unit(days, "day"), unit(hours % 24, "hour")]) : unit(days, "day");
}
