// Checks and conversions of values that come from the network or the clock.

export function now() {
  return Date.now();
}

export function toInt(value) {
  if (value === null || value === undefined || value === "") return null;
  const n = Number(value);
  return isFinite(n) ? Math.floor(n) : null;
}

export function sameId(a, b) {
  return a !== null && a !== undefined && b !== null && b !== undefined && String(a) === String(b);
}

/** The URL as a string when it parses and is http(s); otherwise null. */
export function safeHttpUrl(text) {
  if (typeof text !== "string" || !text) return null;
  try {
    const url = new URL(text.trim());
    if (url.protocol === "http:" || url.protocol === "https:") return url.href;
  } catch (e) {
    /* not a URL */
  }
  return null;
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
