// What the socket's frames mean for the console (docs/protocol.md), and what a reconnect or a
// dropped connection changes.
import { actionError, connectionLost, onActionDone } from "./actions.js";
import { forgetDirectory, onAgentPresence } from "./agents.js";
import { availabilityError, confirmAvailability, forgetPendingAvailability } from "./availability.js";
import { ME } from "./boot.js";
import * as socket from "./connection.js";
import { fillGap, GAP_CHECK_MS, markRead, syncOpenConversation } from "./conversation.js";
import { panelCardsFrom } from "./details.js";
import { emit } from "./events.js";
import { refreshOpenHeader } from "./header.js";
import { loadList, onConversationUpdated } from "./list.js";
import { onNotification } from "./notifications.js";
import { messageRefused, onAck, resendPending } from "./outbox.js";
import { putMessage, state } from "./state.js";
import { toast } from "./toast.js";
import { onMessageDelta, renderTranscript, scheduleTranscript } from "./transcript.js";
import { refreshTransferAgents } from "./transfer.js";
import { onTyping, renderTyping } from "./typing.js";

export function onConnected(again) {
  // Missed conversation.updated events cannot be replayed: reload the list instead.
  if (again) loadList(false, true);
  // Presence changes were missed too: the transfer list asks again when it is next shown.
  if (again) {
    forgetDirectory();
    refreshTransferAgents();
  }
  if (state.open && state.open.loaded) syncOpenConversation();
  resendPending();
  scheduleTranscript();
}

export function onDisconnected() {
  connectionLost();
  forgetPendingAvailability();
  if (state.open) {
    state.open.subscribed = false;
    state.open.typers.clear();
    state.open.contactOnline = null; // unknown until the server tells us again
    renderTyping();
    refreshOpenHeader();
  }
  scheduleTranscript();
}

export function onFrame(frame) {
  var open = state.open;
  var forOpen = open && frame.conversation === open.id;
  switch (frame.type) {
    case "welcome":
    case "pong":
    case "unsubscribed":
      return;
    case "conversation.updated":
      onConversationUpdated(frame.data);
      return;
    case "subscribed":
      if (frame.data && typeof frame.data.id === "number") onConversationUpdated(frame.data);
      return;
    case "message.created":
    case "message.updated":
      if (!forOpen) return;
      putMessage(open, frame.data);
      panelCardsFrom(open, frame.data);
      scheduleTranscript();
      // A seq beyond the next one means we missed some: fetch them.
      if (typeof frame.seq === "number" && frame.seq > open.lastSeq) {
        setTimeout(function () { if (state.open === open && frame.seq > open.lastSeq) fillGap(open); }, GAP_CHECK_MS);
      }
      markRead();
      return;
    case "message.delta":
      if (forOpen) onMessageDelta(open, frame);
      return;
    case "resumed":
      if (forOpen && typeof frame.seq === "number" && frame.seq > open.lastSeq) fillGap(open);
      markRead();
      return;
    case "ack":
      onAck(frame);
      return;
    case "typing":
      if (forOpen) onTyping(open, frame.data);
      return;
    case "read":
      if (forOpen && frame.data && frame.data.reader === "contact" && typeof frame.seq === "number") {
        open.contactReadSeq = Math.max(open.contactReadSeq, frame.seq);
        scheduleTranscript();
      }
      return;
    case "presence":
      if (frame.data && frame.data.who === "agent") {
        onAgentPresence(frame.data);
        if (frame.data.id === ME.id && typeof frame.data.availability === "string") confirmAvailability(frame.data.availability);
        return;
      }
      if (forOpen && frame.data && frame.data.who === "contact") {
        open.contactOnline = !!frame.data.online;
        refreshOpenHeader();
      }
      return;
    case "resync":
      // The server dropped events meant for this console (it fell behind): catch up as
      // after a reconnect.
      loadList(false, true);
      if (open && open.loaded) socket.send({ type: "resume", conversation: open.id, seq: open.lastSeq });
      break;
    case "error":
      if (actionError(frame) || availabilityError(frame)) return;
      onErrorFrame(frame);
      return;
    case "action.done":
      if (frame.data && (frame.data.action === "availability" || frame.data.action === "availability.set")) {
        if (typeof frame.data.availability === "string") confirmAvailability(frame.data.availability);
        return;
      }
      onActionDone(frame);
      return;
    case "notification":
      onNotification(frame);
      return;
    default:
      // Add-ons handle theirs (assist.js: assist.*); frames added to the protocol later are
      // ignored, not fatal.
      emit("frame", frame);
      return;
  }
}

function onErrorFrame(frame) {
  if (messageRefused(frame)) return;
  var data = frame.data || {};
  if (data.code === "revoked") {
    // The server closes with 4403 next; the close handler tells the agent.
    return;
  }
  if (data.code === "not_found" && state.open && frame.conversation === state.open.id) {
    state.open.error = { status: 404, message: data.message };
    renderTranscript();
    return;
  }
  if (data.code) toast(data.message || data.code, "error");
}
