// The console composer's emoji button (in its foot, before Send) and its grid above the
// composer; shared/emoji-picker.js does the picking.
import { createEmojiPicker } from "../shared/emoji-picker.js";
import { gettext } from "../shared/i18n.js";

const ICON_SMILEY =
  '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">' +
  '<path fill="currentColor" d="M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20Zm0 18a8 8 0 1 1 0-16 8 8 0 0 1 0 16Zm-3.5-9a1.5 1.5 0 1 0 0-3' +
  ' 1.5 1.5 0 0 0 0 3Zm7 0a1.5 1.5 0 1 0 0-3 1.5 1.5 0 0 0 0 3Zm.62 2.6a1 1 0 0 0-1.38.3A3.3 3.3 0 0 1 12 15.5' +
  'a3.3 3.3 0 0 1-2.74-1.6 1 1 0 1 0-1.68 1.08A5.3 5.3 0 0 0 12 17.5a5.3 5.3 0 0 0 4.42-2.52 1 1 0 0 0-.3-1.38Z"/></svg>';

export function wireEmoji() {
  const composer = document.querySelector("[data-testid=composer]");
  const input = composer && composer.querySelector("[data-testid=composer-input]");
  const foot = composer && composer.querySelector(".composer__foot");
  if (!input || !foot) return;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "icon-btn composer__emoji";
  button.setAttribute("data-testid", "composer-emoji");
  button.setAttribute("aria-controls", "composer-emoji-pop");
  button.setAttribute("aria-label", gettext("Insert emoji"));
  button.title = gettext("Insert emoji");
  button.innerHTML = ICON_SMILEY; // constant markup
  foot.insertBefore(button, foot.querySelector(".assist-slot") || foot.querySelector(".composer__send"));
  const pop = document.createElement("div");
  pop.id = "composer-emoji-pop";
  pop.className = "composer-emoji";
  pop.setAttribute("data-testid", "composer-emoji-picker");
  pop.setAttribute("aria-label", gettext("Emoji"));
  pop.hidden = true;
  composer.appendChild(pop);
  createEmojiPicker(input, button, pop);
}
