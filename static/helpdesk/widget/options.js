// The inbox's widget options (S.options: /widget/api/visitor's `options`, docs/widget.md).
// A feature that depends on them registers a function here; it runs once they are known and
// again whenever a token renewal brings them anew.
import { S } from "./state.js";

const listeners = [];

function run(fn) {
  try {
    fn(S.options);
  } catch (e) {
    if (window.console) console.warn("[helpdesk] options:", e);
  }
}

/** Call ``fn(options)`` now if the options are known, and each time they arrive. */
export function onOptions(fn) {
  listeners.push(fn);
  if (S.options) run(fn);
}

/** token.js: the options just arrived. */
export function optionsArrived() {
  for (const fn of listeners) run(fn);
}
