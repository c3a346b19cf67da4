// Hooks for add-ons (assist.js): what they hear of, and what they may add.
//
// "frame": a socket frame the console does not handle itself; "change": the open conversation
// changed (opened, closed, loaded, new status); "message": a transcript message is being
// drawn, and the listener may return an element to show under its bubble.
const listeners = { frame: [], change: [], message: [] };

export function on(kind, listener) { listeners[kind].push(listener); }

export function emit(kind, value) {
  parts(kind, value);
}

/** Tell the listeners of `kind`; the elements they return. */
export function parts(kind, value) {
  var found = [];
  listeners[kind].forEach(function (listener) {
    try {
      var part = listener(value);
      if (part) found.push(part);
    } catch (err) {
      // One add-on's bug must not take the console down with it.
      if (window.console) window.console.error(err);
    }
  });
  return found;
}
