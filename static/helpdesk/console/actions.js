// Conversation actions (docs/protocol.md, "Conversation actions (agents)"): the toolbar of the
// open conversation, one action in flight at a time, and the server's answer to it.
import { ACTION_TIMEOUT_MS, ME } from "./boot.js";
import { focusComposer, setMode } from "./composer.js";
import * as socket from "./connection.js";
import { refreshConversation } from "./conversation.js";
import { $, clear, h } from "./dom.js";
import { onConversationUpdated } from "./list.js";
import { currentConversation, state } from "./state.js";
import { toast } from "./toast.js";
import { closeTransfer, openTransfer, renderTransfer, transferRefused } from "./transfer.js";
import { gettext } from "../shared/i18n.js";

const actionsEl = $("[data-testid=conversation-actions]");

const ACTIONS = {
  takeover: { type: "conversation.takeover", style: "primary" },
  accept: { type: "conversation.accept", style: "primary" },
  handback: { type: "conversation.handback" },
  transfer: { type: "conversation.transfer" },
  resolve: { type: "conversation.resolve", style: "resolve" },
  reopen: { type: "conversation.reopen", style: "primary" },
};
const ACTION_BY_TYPE = {};
Object.keys(ACTIONS).forEach(function (key) { ACTION_BY_TYPE[ACTIONS[key].type] = key; });

/** An action's button label, its tooltip, and what the toast says when it is done. */
function actionText(key) {
  switch (key) {
    case "takeover": return { label: gettext("Take over"), title: gettext("Answer this customer yourself; the bot stops"), done: gettext("You took over the conversation.") };
    case "accept": return { label: gettext("Accept"), title: gettext("Take this conversation from the queue"), done: gettext("You accepted the conversation.") };
    case "handback": return { label: gettext("Hand back"), title: gettext("Let the bot answer again"), done: gettext("Handed back to the bot.") };
    case "transfer": return { label: gettext("Transfer…"), title: gettext("Give this conversation to a colleague"), done: gettext("Conversation transferred.") };
    case "resolve": return { label: gettext("Resolve"), title: gettext("Close this conversation"), done: gettext("Conversation resolved.") };
    case "reopen": return { label: gettext("Reopen"), title: gettext("Open it again, assigned to you"), done: gettext("Reopened — it is yours now.") };
    default: return { label: key, title: "", done: gettext("Done.") };
  }
}

function inboxHasBot(c) {
  // The conversation payload says whether its inbox has a bot (has_bot). Unknown (an older
  // server) means "show it and let the server decide".
  if (c && typeof c.has_bot === "boolean") return c.has_bot;
  return null;
}

/** What this agent may do with `c` now, in toolbar order. The server checks again. */
function allowedActions(c) {
  if (!c) return [];
  var mine = c.assignee === ME.id;
  var admin = ME.role === "admin";
  switch (c.status) {
    case "bot": return ["takeover", "resolve"];
    case "queued": return ["accept", "takeover", "resolve"];
    case "assigned": {
      // Handing back and transferring are the assignee's (or an admin's); any agent may
      // resolve, as the protocol allows.
      var list = [];
      if (mine || admin) {
        if (inboxHasBot(c) !== false) list.push("handback");
        list.push("transfer");
      }
      list.push("resolve");
      return list;
    }
    case "resolved": return ["reopen"];
    default: return [];
  }
}

export function renderActions() {
  var open = state.open;
  var c = currentConversation();
  clear(actionsEl);
  if (!open || open.error || !c) return;
  var pending = state.action && state.action.conversation === open.id ? state.action : null;
  actionsEl.setAttribute("data-pending", pending ? pending.key : "");
  allowedActions(c).forEach(function (key) {
    var spec = ACTIONS[key];
    var text = actionText(key);
    var busy = pending && pending.key === key;
    // One primary button at a time: in the queue that is Accept, not Take over.
    var primary = spec.style === "primary" && !(key === "takeover" && c.status === "queued");
    actionsEl.appendChild(h("button", {
      type: "button",
      className: "btn btn-sm action action--" + key + (primary ? " btn-primary" : " btn-ghost") + (busy ? " action--busy" : ""),
      "data-testid": "action-" + key,
      "data-action": key,
      title: text.title,
      disabled: !!pending,
      "aria-busy": busy ? "true" : null,
      onclick: function () { if (key === "transfer") openTransfer(); else runAction(key, c.id); },
    }, busy ? h("span", { className: "spinner spinner--sm", "aria-hidden": "true" }) : null, text.label));
  });
}

/** Send an action frame and wait for `action.done` or `error`; one at a time. */
export function runAction(key, conversationId, data) {
  var spec = ACTIONS[key];
  if (state.action) return false;
  if (!socket.isOpen()) {
    toast(gettext("Not connected — try again when the connection is back."), "error");
    return false;
  }
  var frame = { type: spec.type, conversation: conversationId };
  if (data) frame.data = data;
  if (key === "takeover" || key === "accept" || key === "reopen") state.selfAssigned.set(conversationId, Date.now());
  state.action = {
    key: key,
    type: spec.type,
    conversation: conversationId,
    timer: setTimeout(function () {
      if (!state.action || state.action.conversation !== conversationId || state.action.key !== key) return;
      finishAction();
      toast(gettext("No answer from the server. Check the conversation and try again."), "error");
    }, ACTION_TIMEOUT_MS),
  };
  renderActions();
  renderTransfer();
  socket.send(frame);
  return true;
}

function finishAction() {
  if (state.action) clearTimeout(state.action.timer);
  state.action = null;
  renderActions();
  renderTransfer();
}

/** The connection dropped: the answer to a pending action is lost with it. */
export function connectionLost() {
  if (!state.action) return;
  // Whatever happened shows after the reload.
  finishAction();
  toast(gettext("The connection dropped before the server answered. Check the conversation."), "warn");
}

/** `action.done`: the server did it. */
export function onActionDone(frame) {
  var data = frame.data || {};
  var key = ACTION_BY_TYPE[data.action] || (ACTIONS[data.action] ? data.action : null);
  if (data.conversation && typeof data.conversation === "object") onConversationUpdated(data.conversation);
  var mineAction = state.action && state.action.conversation === frame.conversation;
  if (!mineAction) return;
  key = key || state.action.key;
  finishAction();
  if (key === "transfer") closeTransfer();
  // Short: the toolbar and the transcript already show what changed.
  toast(actionText(key).done, "ok", { testid: "action-toast", attrs: { "data-action": key }, ms: 2500 });
  if ((key === "takeover" || key === "accept" || key === "reopen") && state.open && state.open.id === frame.conversation) {
    setMode("text", true);
    focusComposer();
  }
}

/** An `error` that answers the pending action (its `ref` is the frame type). */
export function actionError(frame) {
  var data = frame.data || {};
  var pending = state.action;
  if (!pending) return false;
  var answers = data.ref === pending.type ||
    (!data.ref && frame.conversation === pending.conversation && data.code !== "rate_limited");
  if (!answers) return false;
  var key = pending.key;
  state.selfAssigned.delete(pending.conversation);
  finishAction();
  var text = data.message || data.code || gettext("The server refused that.");
  if (key === "transfer") transferRefused(text);
  toast(text, "error", { testid: "action-error", attrs: { "data-code": data.code || "", "data-action": key } });
  // The list or header may be behind (someone else was faster): ask for the truth.
  if (data.code === "invalid_transition" || data.code === "forbidden") refreshConversation(pending.conversation);
  return true;
}
