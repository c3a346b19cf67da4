// Short messages in the corner of the console.
import { $, h } from "./dom.js";
import { gettext } from "../shared/i18n.js";

const toastRoot = $("[data-testid=toasts]");

/** A short message in the corner. `options.action` ({label, run}) adds a button, e.g. "Open";
 * `options.testid` and `options.attrs` mark it for tests; `options.ms` keeps it longer. */
export function toast(text, kind, options) {
  options = options || {};
  var attrs = Object.assign({ className: "toast toast--" + (kind || "info"), role: "status", "data-testid": options.testid || "toast" }, options.attrs || {});
  var el = h("div", attrs, h("span", { className: "toast__text", text: text }));
  var remove = function () { if (el.parentNode) el.parentNode.removeChild(el); };
  if (options.action) {
    el.appendChild(h("button", { type: "button", className: "toast__action", "data-testid": "toast-action", text: options.action.label,
      onclick: function () { remove(); options.action.run(); } }));
  }
  el.appendChild(h("button", { type: "button", className: "toast__close", "aria-label": gettext("Dismiss"), text: "×", onclick: remove }));
  toastRoot.appendChild(el);
  // At most a handful at once: a burst of notifications must not cover the screen.
  while (toastRoot.children.length > 5) toastRoot.removeChild(toastRoot.firstChild);
  var ms = options.ms || 5000;
  setTimeout(function () { el.classList.add("toast--out"); }, ms - 500);
  setTimeout(remove, ms);
  return el;
}
