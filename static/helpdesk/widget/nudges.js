// Beside the closed launcher: the inbox's label ("Chat with us") as a pill, and its proactive
// greeting, a small bubble shown after options.proactive.delay_seconds on the page. The bubble
// opens the panel on a click; once it was dismissed or the panel was opened, it stays away for
// the rest of the browser session (sessionStorage). Text goes in with textContent only.
import { gettext } from "../shared/i18n.js";
import { el, ui } from "./dom.js";
import { onOptions } from "./options.js";
import { openPanel } from "./panel.js";
import { S } from "./state.js";
import { session } from "./storage.js";
import { toInt } from "./values.js";

const ICON_CLOSE =
  '<svg viewBox="0 0 24 24" width="14" height="14" aria-hidden="true" focusable="false">' +
  '<path d="M6.3 6.3a1 1 0 0 1 1.4 0L12 10.6l4.3-4.3a1 1 0 1 1 1.4 1.4L13.4 12l4.3 4.3a1 1 0 0 1-1.4 1.4' +
  'L12 13.4l-4.3 4.3a1 1 0 0 1-1.4-1.4l4.3-4.3-4.3-4.3a1 1 0 0 1 0-1.4Z"/></svg>';
const MAX_DELAY_SECONDS = 3600;
const DONE_KEY = "proactive";

const N = { label: null, bubble: null, text: null, dismiss: null, timer: null, message: "" };

export function mountNudges() {
  if (!ui.root || N.observer) return;
  // The panel opened (launcher, label, bubble, the page's HelpdeskWidget.open()…).
  N.observer = new MutationObserver(() => {
    if (ui.root.classList.contains("open")) proactiveDone();
  });
  N.observer.observe(ui.root, { attributes: true, attributeFilter: ["class"] });
  onOptions(applyOptions);
}

function applyOptions(options) {
  const label = typeof options.launcher_label === "string" ? options.launcher_label.trim() : "";
  showLabel(label);
  const proactive = options.proactive && typeof options.proactive === "object" ? options.proactive : {};
  const message = typeof proactive.message === "string" ? proactive.message.trim() : "";
  const delay = toInt(proactive.delay_seconds) || 0;
  if (message && delay > 0 && delay <= MAX_DELAY_SECONDS) scheduleProactive(message, delay);
}

function showLabel(text) {
  if (!text) {
    if (N.label) N.label.hidden = true;
    return;
  }
  if (!N.label) {
    // The launcher itself is the control for keyboards and screen readers; the pill is a
    // bigger target for the pointer.
    N.label = el("button", "launcher-label", { type: "button", tabindex: "-1", "aria-hidden": "true", "data-testid": "launcher-label" });
    N.label.addEventListener("click", () => openPanel(true));
    ui.root.insertBefore(N.label, ui.launcher);
  }
  N.label.textContent = text;
  N.label.hidden = false;
}

function scheduleProactive(message, delaySeconds) {
  N.message = message;
  if (N.text) N.text.textContent = message;
  if (N.timer || N.bubble || session.get(DONE_KEY) === "1" || S.open) return;
  // Seconds on the page: counted from the page's load, not from when the options arrived.
  const elapsed = window.performance && performance.now ? performance.now() : 0;
  N.timer = setTimeout(showProactive, Math.max(0, delaySeconds * 1000 - elapsed));
}

function showProactive() {
  N.timer = null;
  if (session.get(DONE_KEY) === "1" || S.open || S.fatal) return;
  const bubble = el("div", "proactive", { "data-testid": "proactive", role: "status" });
  const text = el("button", "proactive-text", { type: "button", "data-testid": "proactive-open" });
  text.textContent = N.message;
  text.addEventListener("click", () => openPanel(true)); // the observer records it as done
  const dismiss = el("button", "proactive-close", { type: "button", "data-testid": "proactive-close" });
  dismiss.innerHTML = ICON_CLOSE; // constant markup
  dismiss.addEventListener("click", () => {
    proactiveDone();
    ui.launcher.focus();
  });
  bubble.appendChild(text);
  bubble.appendChild(dismiss);
  ui.root.insertBefore(bubble, ui.launcher);
  Object.assign(N, { bubble, text, dismiss });
  labelNudges();
}

function proactiveDone() {
  session.set(DONE_KEY, "1");
  if (N.timer) clearTimeout(N.timer);
  N.timer = null;
  if (N.bubble && N.bubble.parentNode) N.bubble.parentNode.removeChild(N.bubble);
  N.bubble = N.text = N.dismiss = null;
}

/** The bubble's labels, in the current language. */
export function labelNudges() {
  if (!N.dismiss) return;
  N.dismiss.setAttribute("aria-label", gettext("Dismiss"));
  N.dismiss.setAttribute("title", gettext("Dismiss"));
  N.text.setAttribute("title", gettext("Open chat"));
}
