// The small things: the emoji picker, the new-reply beep and title count, the launcher label
// and proactive greeting, and the dark scheme. main.js mounts them once the panel is there.
import { ui } from "./dom.js";
import { labelAttention, mountAttention } from "./attention.js";
import { labelEmojiPicker, mountEmojiPicker } from "./emoji-picker.js";
import { labelNudges, mountNudges } from "./nudges.js";
import { mountTheme } from "./theme.js";

export function mountTouches() {
  mountTheme();
  mountEmojiPicker();
  mountAttention();
  mountNudges();
  // panel.js sets the root's lang when a catalog arrives: label ours in that language too.
  new MutationObserver(() => {
    labelEmojiPicker();
    labelAttention();
    labelNudges();
  }).observe(ui.root, { attributes: true, attributeFilter: ["lang"] });
}
