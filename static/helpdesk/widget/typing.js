// Typing indicators both ways: "Alice is typing…" from the other side, and our own typing
// frames (throttled, and stopped after a pause).
import { gettext, interpolate } from "../shared/i18n.js";
import { TIMINGS } from "./config.js";
import { nearBottom, scrollToBottom, ui } from "./dom.js";
import { isForAnotherConversation, liveConnection, S } from "./state.js";
import { now } from "./values.js";

let remoteTyping = {}; // sender → {name, until}
let expiryTimer = null;
const ownTyping = { active: false, sentAt: 0, idle: null };

export function handleTyping(frame) {
  const data = frame.data || {};
  if (isForAnotherConversation(frame)) return;
  const sender = typeof data.sender === "string" ? data.sender : "agent";
  if (sender === "contact") return; // our own echo (another tab)
  if (data.typing) {
    remoteTyping[sender] = {
      name: typeof data.name === "string" ? data.name : "",
      until: now() + TIMINGS.remoteTypingTtlMs,
    };
  } else delete remoteTyping[sender];
  renderTyping();
}

export function clearRemoteTyping(sender) {
  if (remoteTyping[sender]) {
    delete remoteTyping[sender];
    renderTyping();
  }
}

export function clearAllRemoteTyping() {
  remoteTyping = {};
  renderTyping();
}

function renderTyping() {
  if (!ui.typing) return;
  const t = now();
  let who = null;
  let soonest = Infinity;
  for (const sender in remoteTyping) {
    if (remoteTyping[sender].until <= t) {
      delete remoteTyping[sender];
      continue;
    }
    soonest = Math.min(soonest, remoteTyping[sender].until);
    if (!who || sender === "agent") who = sender;
  }
  clearTimeout(expiryTimer);
  if (!who) {
    ui.typing.hidden = true;
    ui.typing.removeAttribute("data-sender");
    return;
  }
  const stick = nearBottom();
  const name = remoteTyping[who].name || (who === "bot" ? gettext("Assistant") : gettext("An agent"));
  ui.typingLabel.textContent = interpolate(gettext("%(name)s is typing…"), { name: name });
  ui.typing.setAttribute("data-sender", who);
  ui.typing.hidden = false;
  if (S.open && stick) scrollToBottom();
  expiryTimer = setTimeout(renderTyping, Math.max(50, soonest - t));
}

export function onOwnTyping() {
  if (!ui.input.value.trim()) {
    stopOwnTyping();
    return;
  }
  const connection = liveConnection();
  if (S.conversation == null || !connection) return;
  const t = now();
  if (!ownTyping.active || t - ownTyping.sentAt > TIMINGS.typingThrottleMs) {
    ownTyping.active = true;
    ownTyping.sentAt = t;
    connection.send({ type: "typing", conversation: S.conversation, data: { typing: true } });
  }
  clearTimeout(ownTyping.idle);
  ownTyping.idle = setTimeout(stopOwnTyping, TIMINGS.typingIdleMs);
}

export function stopOwnTyping() {
  clearTimeout(ownTyping.idle);
  ownTyping.idle = null;
  if (!ownTyping.active) return;
  ownTyping.active = false;
  const connection = liveConnection();
  if (S.conversation != null && connection) {
    connection.send({ type: "typing", conversation: S.conversation, data: { typing: false } });
  }
}
