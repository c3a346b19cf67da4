// The agent console's entry point: wires the parts together and follows the address
// (#/<view>/<conversation id>). No build step: the browser loads these ES modules as they are.
//
// Data comes from two places: the JSON API (/console/api/...) loads lists and transcripts, and
// the WebSocket (/ws/console/, docs/protocol.md) delivers live events and carries writes.
// The database is the source of truth: after every (re)connect the open conversation is
// resumed from the last seq we hold, and messages are keyed by seq so replays never duplicate.
import { wireAvailability } from "./availability.js";
import { VIEWS } from "./boot.js";
import { wireCanned } from "./canned.js";
import { updateComposer, wireComposer } from "./composer.js";
import * as socket from "./connection.js";
import { closeConversation, openConversation, wireConversation } from "./conversation.js";
import { wireDetails } from "./details.js";
import { wireEmoji } from "./emoji.js";
import { $ } from "./dom.js";
import { onConnected, onDisconnected, onFrame } from "./frames.js";
import { setView, wireList } from "./list.js";
import { wireNotifications } from "./notifications.js";
import { state } from "./state.js";
import { wireTranscript } from "./transcript.js";
import { wireTransfer } from "./transfer.js";
import { wireTyping } from "./typing.js";

function route() {
  var parts = window.location.hash.replace(/^#\/?/, "").split("/");
  var view = VIEWS.indexOf(parts[0]) >= 0 ? parts[0] : state.view;
  setView(view);
  var id = /^[1-9][0-9]{0,17}$/.test(parts[1] || "") ? Number(parts[1]) : null;
  if (id) openConversation(id);
  else closeConversation();
}

wireList();
wireConversation();
wireTranscript();
wireTyping();
wireComposer();
wireEmoji();
wireCanned();
wireDetails();
wireTransfer();
wireAvailability();
wireNotifications();
$("[data-testid=back-to-list]").addEventListener("click", function () {
  window.location.hash = "#/" + state.view;
});
window.addEventListener("hashchange", route);

route();
updateComposer();
socket.start({ onConnected: onConnected, onDisconnected: onDisconnected, onFrame: onFrame });
