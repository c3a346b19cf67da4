// The open conversation's header: who, status, presence, the notice above the composer, and
// what the agent may do now.
import { renderActions } from "./actions.js";
import { agentName } from "./agents.js";
import { ME } from "./boot.js";
import { setComposerOpen } from "./composer.js";
import { renderDetails } from "./details.js";
import { $, paintAvatar } from "./dom.js";
import { emit } from "./events.js";
import { renderFollowUpHeader } from "./follow-up.js";
import { contactName, handoffReasonLabel, statusLabel } from "./labels.js";
import { currentConversation, state } from "./state.js";
import { gettext, interpolate } from "../shared/i18n.js";

const threadEl = $("[data-testid=conversation]");
const noticeEl = $("[data-testid=conversation-notice]");

/** Redraw everything about the open conversation that its status and assignee decide. */
export function refreshOpenHeader() {
  var open = state.open;
  if (!open) return;
  var c = currentConversation();
  var name = c && c.contact ? contactName(c.contact) : (open.error ? gettext("Conversation") : gettext("Loading…"));
  $("[data-testid=conversation-title]").textContent = name;
  paintAvatar($("[data-testid=conversation-avatar]"), name, c && c.contact ? c.contact.id : open.id);
  var badge = $("[data-testid=conversation-status]");
  badge.className = "badge badge--" + (c ? c.status : "unknown");
  badge.setAttribute("data-status", c ? c.status : "");
  badge.textContent = c ? statusLabel(c.status) || c.status : "";
  badge.hidden = !c;
  renderFollowUpHeader(c);
  var sub = ["#" + open.id];
  if (open.detail && open.detail.inbox) sub.push(open.detail.inbox.name);
  if (c && c.assignee !== null && c.assignee !== undefined) sub.push(interpolate(gettext("Assigned to %(name)s"), { name: agentName(c.assignee, c.assignee_name) }));
  $("[data-testid=conversation-subtitle]").textContent = sub.join(" · ");
  threadEl.setAttribute("data-conversation-id", String(open.id));
  threadEl.setAttribute("data-status", c ? c.status : "");

  var presence = $("[data-testid=contact-presence]");
  presence.hidden = open.contactOnline === null;
  presence.setAttribute("data-online", open.contactOnline ? "true" : "false");
  presence.textContent = open.contactOnline ? gettext("Online") : gettext("Offline");

  var closed = c && c.status === "resolved";
  var notice = null;
  if (closed) notice = gettext("This conversation is resolved. Reopen it to reply.");
  else if (c && c.status === "bot") notice = gettext("The bot is answering this conversation.");
  else if (c && c.status === "queued") notice = c.handoff_reason
      ? interpolate(gettext("Waiting for an agent — %(reason)s"), { reason: handoffReasonLabel(c.handoff_reason) })
      : gettext("Waiting for an agent.");
  else if (c && c.status === "assigned" && c.assignee !== ME.id && c.assignee !== null && c.assignee !== undefined) {
    notice = interpolate(gettext("%(name)s is handling this conversation."), { name: agentName(c.assignee, c.assignee_name) });
  }
  noticeEl.hidden = !notice;
  noticeEl.textContent = notice || "";
  noticeEl.setAttribute("data-status", c ? c.status : "");
  setComposerOpen(!closed, !open.error);
  renderActions();
  renderDetails();
  emit("change");
}
