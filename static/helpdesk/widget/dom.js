// The widget's elements (filled in by panel.js when it mounts) and small DOM helpers.

// host, shadow, root, launcher, badge, panel, title, status, statusText, close, body, list,
// typing, typingLabel, notice, form, input, send, footer
export const ui = {};

export function el(tag, className, attributes) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (attributes) {
    for (const name in attributes) {
      if (Object.prototype.hasOwnProperty.call(attributes, name)) element.setAttribute(name, attributes[name]);
    }
  }
  return element;
}

export function nearBottom() {
  const body = ui.body;
  return body.scrollHeight - body.scrollTop - body.clientHeight < 80;
}

export function scrollToBottom() {
  ui.body.scrollTop = ui.body.scrollHeight;
}
