// What the reports page's charts share: the page's colours (its CSS custom properties), a
// colour made transparent, and a share that may be missing.
import { formatPercent } from "../shared/format.js";

export function cssVar(name, fallback) {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

export function alpha(hex, a) {
  const m = /^#([0-9a-f]{6})$/i.exec(hex);
  if (!m) return hex;
  const n = parseInt(m[1], 16);
  return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + a + ")";
}

export function percent(ratio) {
  return ratio === null || ratio === undefined ? "–" : formatPercent(ratio);
}
