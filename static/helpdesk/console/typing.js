// "… is typing" under the open conversation's transcript, from the typing frames of the
// customer, the bot and other agents.
import { ME } from "./boot.js";
import { $ } from "./dom.js";
import { contactName, senderLabel } from "./labels.js";
import { currentConversation, state } from "./state.js";
import { gettext, interpolate, ngettext } from "../shared/i18n.js";

// A typer who said nothing more for this long has stopped (their "stopped" frame may be lost).
const TYPING_SHOW_MS = 7000;
const typingEl = $("[data-testid=typing-indicator]");

export function renderTyping() {
  var open = state.open;
  if (!open) { typingEl.hidden = true; return; }
  var now = Date.now();
  var names = [];
  open.typers.forEach(function (t, key) {
    if (t.until < now) open.typers.delete(key);
    else names.push(t.name);
  });
  typingEl.hidden = !names.length;
  typingEl.setAttribute("data-typing", names.length ? "true" : "false");
  $(".typing__text", typingEl).textContent = names.length
    ? interpolate(ngettext("%(names)s is typing…", "%(names)s are typing…", names.length), { names: names.join(", ") })
    : "";
}

export function onTyping(open, data) {
  if (!data || typeof data.sender !== "string") return;
  // The server relays typing to the whole conversation group, this connection included.
  if (data.sender === "agent" && data.name === ME.name) return;
  var name = data.name || (data.sender === "contact"
    ? (currentConversation() && currentConversation().contact ? contactName(currentConversation().contact) : gettext("The customer"))
    : senderLabel(data.sender) || gettext("Someone"));
  var key = data.sender + ":" + name;
  if (data.typing) open.typers.set(key, { sender: data.sender, name: name, until: Date.now() + TYPING_SHOW_MS });
  else open.typers.delete(key);
  renderTyping();
}

export function wireTyping() {
  // Typers expire: look again every second.
  setInterval(renderTyping, 1000);
}
