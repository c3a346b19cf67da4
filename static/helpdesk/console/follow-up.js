// Conversations whose customer left an e-mail with the widget's offline form (follow_up): a
// badge in the list and the header, and the address to answer in the details.
import { $, h } from "./dom.js";
import { gettext, interpolate } from "../shared/i18n.js";

function title(c) {
  var email = c && c.contact && c.contact.email;
  return email ? interpolate(gettext("Answer by e-mail: %(email)s"), { email: email })
    : gettext("The customer asked to be answered by e-mail.");
}

/** The list row's badge, or null when the conversation is not a follow-up. */
export function followUpBadge(c) {
  if (!c || c.follow_up !== true) return null;
  return h("span", { className: "badge badge--follow-up", "data-testid": "follow-up-badge", title: title(c), text: gettext("Follow-up") });
}

/** The open conversation's header: the same badge next to its status. */
export function renderFollowUpHeader(c) {
  var status = $("[data-testid=conversation-status]");
  if (!status) return;
  var badge = $("[data-testid=conversation-follow-up]");
  if (!badge) {
    badge = h("span", { className: "badge badge--follow-up", "data-testid": "conversation-follow-up", text: gettext("Follow-up") });
    status.insertAdjacentElement("afterend", badge);
  }
  badge.hidden = !(c && c.follow_up === true);
  badge.title = title(c);
}

/** The details row: whom to write to (null when not a follow-up, so no row). */
export function followUpDetail(c, contact) {
  if (!c || c.follow_up !== true) return null;
  var email = (contact && contact.email) || (c.contact && c.contact.email);
  return email ? interpolate(gettext("By e-mail to %(email)s"), { email: email }) : gettext("By e-mail");
}
