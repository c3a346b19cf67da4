// Checks and conversions of values that come from the network or the clock.
import { httpUrl } from "../shared/links.js";

export function now() {
  return Date.now();
}

export function toInt(value) {
  if (value === null || value === undefined || value === "") return null;
  const n = Number(value);
  return isFinite(n) ? Math.floor(n) : null;
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A plausible e-mail address (the server checks it for real). */
export function looksLikeEmail(text) {
  return EMAIL_RE.test(text);
}

export function sameId(a, b) {
  return a !== null && a !== undefined && b !== null && b !== undefined && String(a) === String(b);
}

/** The URL as a string when it parses and is http(s); otherwise null. */
export function safeHttpUrl(text) {
  const url = httpUrl(text);
  return url ? url.href : null;
}

export function newClientId() {
  let random = "";
  try {
    if (window.crypto && crypto.randomUUID) random = crypto.randomUUID();
    else if (window.crypto && crypto.getRandomValues) {
      const words = new Uint32Array(4);
      crypto.getRandomValues(words);
      for (let i = 0; i < words.length; i++) random += words[i].toString(36);
    }
  } catch (e) {
    /* fall through */
  }
  if (!random) random = Math.random().toString(36).slice(2) + now().toString(36);
  return "w-" + random.replace(/[^A-Za-z0-9._:-]/g, "").slice(0, 60);
}
