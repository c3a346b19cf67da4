// The composer's emoji button (before Send) and its grid, just above the composer
// (shared/emoji-picker.js does the picking).
import { createEmojiPicker } from "../shared/emoji-picker.js";
import { gettext } from "../shared/i18n.js";
import { el, ui } from "./dom.js";

const ICON_SMILEY =
  '<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">' +
  '<path d="M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20Zm0 18a8 8 0 1 1 0-16 8 8 0 0 1 0 16Zm-3.5-9a1.5 1.5 0 1 0 0-3' +
  ' 1.5 1.5 0 0 0 0 3Zm7 0a1.5 1.5 0 1 0 0-3 1.5 1.5 0 0 0 0 3Zm.62 2.6a1 1 0 0 0-1.38.3A3.3 3.3 0 0 1 12 15.5' +
  'a3.3 3.3 0 0 1-2.74-1.6 1 1 0 1 0-1.68 1.08A5.3 5.3 0 0 0 12 17.5a5.3 5.3 0 0 0 4.42-2.52 1 1 0 0 0-.3-1.38Z"/></svg>';

const picker = { button: null, pop: null };

export function mountEmojiPicker() {
  if (!ui.form || picker.button) return;
  const button = el("button", "emoji-button", { type: "button", "data-testid": "emoji-button", "aria-controls": "hd-emoji" });
  button.innerHTML = ICON_SMILEY; // constant markup
  ui.form.insertBefore(button, ui.send);
  const pop = el("div", "emoji-pop", { id: "hd-emoji", "data-testid": "emoji-picker" });
  pop.hidden = true;
  ui.panel.appendChild(pop);
  Object.assign(picker, { button, pop });
  createEmojiPicker(ui.input, button, pop, () => {
    // Just above the composer, however tall its text has grown.
    const above = ui.panel.getBoundingClientRect().bottom - ui.form.getBoundingClientRect().top;
    pop.style.bottom = Math.round(above + 6) + "px";
  });
  labelEmojiPicker();
}

/** The button's and the grid's labels, in the current language. */
export function labelEmojiPicker() {
  if (!picker.button) return;
  picker.button.setAttribute("aria-label", gettext("Insert emoji"));
  picker.button.setAttribute("title", gettext("Insert emoji"));
  picker.pop.setAttribute("aria-label", gettext("Emoji"));
}
