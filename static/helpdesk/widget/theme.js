// Light or dark: the page's script tag may force one (data-theme="light" | "dark"); by default
// ("auto") the widget follows the visitor's prefers-color-scheme, live. The root element gets
// data-scheme="light" | "dark"; the CSS (touches-css.js) switches the --hd-* colours on it.
import { config } from "./config.js";
import { ui } from "./dom.js";

const DARK_SURFACE = "#161b26"; // --hd-surface in the dark scheme (touches-css.js)

export function mountTheme() {
  if (!ui.root) return;
  const forced = config.theme === "light" || config.theme === "dark" ? config.theme : "auto";
  ui.root.setAttribute("data-theme", forced);
  ui.root.style.setProperty("--hd-link-dark", readableOn(config.accent, DARK_SURFACE));
  const query = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  const apply = () => {
    const dark = forced === "dark" || (forced === "auto" && !!query && query.matches);
    ui.root.setAttribute("data-scheme", dark ? "dark" : "light");
  };
  apply();
  if (query && forced === "auto") {
    if (query.addEventListener) query.addEventListener("change", apply);
    else if (query.addListener) query.addListener(apply); // Safari < 14
  }
}

function rgbOf(hex) {
  let h = hex.slice(1);
  if (h.length === 3) h = h.charAt(0) + h.charAt(0) + h.charAt(1) + h.charAt(1) + h.charAt(2) + h.charAt(2);
  return [0, 2, 4].map((i) => parseInt(h.substr(i, 2), 16));
}

function luminance(rgb) {
  const c = rgb.map((v) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}

function contrast(a, b) {
  const la = luminance(a);
  const lb = luminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/** The accent colour, lightened just enough to read as text on ``background`` (WCAG 4.5:1). */
export function readableOn(accent, background) {
  const base = rgbOf(accent);
  const bg = rgbOf(background);
  for (let step = 0; step <= 10; step++) {
    const t = step / 10;
    const mixed = base.map((v) => Math.round(v + (255 - v) * t));
    if (contrast(mixed, bg) >= 4.5) return "rgb(" + mixed.join(",") + ")";
  }
  return "#ffffff";
}
