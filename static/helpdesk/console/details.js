// The side panel: the open conversation's contact, its facts, the products the customer
// mentioned and their other conversations. A column on wide screens, a drawer on narrow ones.
import { agentName } from "./agents.js";
import { api, conversationUrl } from "./api.js";
import { $, clear, h, linkify, paintAvatar } from "./dom.js";
import { followUpDetail } from "./follow-up.js";
import { handoffReasonLabel, statusBadge } from "./labels.js";
import { stockEl } from "./products.js";
import { ratingEl } from "./rating.js";
import { currentConversation, state } from "./state.js";
import { dayAndTime, fullTime, parseTime, relativeTime } from "./time.js";
import { formatNumber } from "../shared/format.js";
import { httpUrl } from "../shared/links.js";
import { cardTitle, formatPrice } from "../shared/products.js";
import { gettext, interpolate } from "../shared/i18n.js";

const detailsEl = $("[data-testid=contact-panel]");
const WIDE = window.matchMedia("(min-width: 1200px)");

function detailRow(label, value, testid) {
  if (value === null || value === undefined || value === "") return null;
  return h("div", { className: "kv" },
    h("dt", { text: label }),
    h("dd", { "data-testid": testid || null }, typeof value === "string" ? linkify(value) : value));
}

export function renderDetails() {
  var empty = $("[data-testid=contact-panel-empty]");
  var body = $(".details__body", detailsEl);
  document.body.classList.toggle("details-open", state.detailsVisible);
  $("[data-testid=toggle-details]").setAttribute("aria-pressed", state.detailsVisible ? "true" : "false");
  var open = state.open;
  if (!open || !open.detail) {
    empty.hidden = false;
    empty.textContent = open && !open.error ? gettext("Loading contact…") : gettext("Contact details show here when a conversation is open.");
    body.hidden = true;
    return;
  }
  empty.hidden = true;
  body.hidden = false;
  clear(body);
  var d = open.detail;
  var c = currentConversation() || d.conversation;
  // The panel's answer is the newer look at the contact when it arrived after the detail.
  var contact = (open.panel && open.panel.contact) || d.contact;
  var avatar = h("span", { className: "avatar avatar--lg", "aria-hidden": "true" });
  paintAvatar(avatar, contact.name, contact.id);
  var when = function (v) { var t = parseTime(v); return t === null ? null : fullTime(t); };
  body.appendChild(h("div", { className: "details__head" }, avatar,
    h("div", null,
      h("div", { className: "details__name", "data-testid": "contact-name", text: contact.name }),
      contact.email ? h("div", { className: "details__email", "data-testid": "contact-email", text: contact.email }) : h("div", { className: "details__email muted", text: gettext("No e-mail yet") })),
    h("button", { type: "button", className: "icon-btn details__close", "aria-label": gettext("Close details"), "data-testid": "close-details", text: "×",
      onclick: function () { state.detailsVisible = false; renderDetails(); } })));

  var contactList = h("dl", { className: "kv-list" },
    detailRow(gettext("Phone"), contact.phone || null, "contact-phone"),
    detailRow(gettext("Verified user ID"), contact.external_id || null, "contact-external-id"),
    detailRow(gettext("Visitor"), contact.visitor_id ? contact.visitor_id.slice(0, 8) : null),
    detailRow(gettext("Visitor since"), when(contact.created_at), "contact-since"),
    detailRow(gettext("Last seen"), when(contact.last_seen_at) || "—", "contact-last-seen"),
    detailRow(gettext("Language"), contact.language_name || null, "contact-language"));
  var meta = contact.metadata || {};
  Object.keys(meta).slice(0, 20).forEach(function (key) {
    var v = meta[key];
    var text = typeof v === "string" ? v : JSON.stringify(v);
    if (text && text.length > 300) text = text.slice(0, 300) + "…";
    var row = detailRow(key, text);
    if (row) contactList.appendChild(row);
  });
  body.appendChild(h("section", { className: "details__section", "data-testid": "contact-details" },
    h("h3", { text: gettext("Contact") }), contactList));

  body.appendChild(prechatSection(d.details, contact));

  body.appendChild(h("section", { className: "details__section", "data-testid": "conversation-details" },
    h("h3", { text: gettext("Conversation") }),
    h("dl", { className: "kv-list" },
      detailRow(gettext("Status"), statusBadge(c.status)),
      detailRow(gettext("Inbox"), d.inbox ? d.inbox.name : null),
      detailRow(gettext("Assignee"), c.assignee !== null && c.assignee !== undefined ? agentName(c.assignee, c.assignee_name) : gettext("Nobody")),
      detailRow(gettext("Handoff reason"), handoffReasonLabel(c.handoff_reason) || null),
      detailRow(gettext("Follow-up"), followUpDetail(c, contact), "follow-up-detail"),
      detailRow(gettext("Started"), when(c.created_at)),
      detailRow(gettext("Messages"), formatNumber(c.last_seq || 0)),
      detailRow(gettext("Rating"), ratingEl(c.rating)))));

  body.appendChild(productsSection(open));
  body.appendChild(pastSection(open));
}

/** The pre-chat form's answers with their questions' labels, but for the name, e-mail and
 * phone already shown with the contact (nothing when no other answer was given). */
function prechatSection(details, contact) {
  var known = [contact.given_name, contact.email, contact.phone].filter(Boolean);
  var shown = (Array.isArray(details) ? details : []).filter(function (answer) {
    return answer && known.indexOf(answer.value) < 0;
  });
  if (!shown.length) return document.createTextNode("");
  var list = h("dl", { className: "kv-list" });
  shown.slice(0, 30).forEach(function (answer) {
    var row = detailRow(String(answer.label || answer.key), String(answer.value || ""), "prechat-answer-" + answer.key);
    if (row) list.appendChild(row);
  });
  return h("section", { className: "details__section", "data-testid": "prechat-answers" },
    h("h3", { text: gettext("Pre-chat answers") }), list);
}

/** Product cards from the contact's messages, newest mention first. */
function productsSection(open) {
  var section = h("section", { className: "details__section", "data-testid": "contact-products" });
  var cards = open.panel ? open.panel.cards : null;
  section.appendChild(h("h3", null, gettext("Products"), cards && cards.length ? h("span", { className: "details__count", text: formatNumber(cards.length) }) : null));
  if (!open.panel) {
    section.appendChild(h("p", { className: "details__note", text: open.panelError ? gettext("Could not load products.") : gettext("Loading…") }));
    return section;
  }
  if (!cards.length) {
    section.appendChild(h("p", { className: "details__note", "data-testid": "contact-products-empty", text: gettext("No product links in this customer's messages yet.") }));
    return section;
  }
  var list = h("div", { className: "mini-cards" });
  cards.forEach(function (card) {
    var url = httpUrl(card.url);
    var image = httpUrl(card.image);
    var price = formatPrice(card.price, card.currency);
    var elsewhere = card.conversation && card.conversation !== open.id;
    var body = h("span", { className: "mini-card__body" },
      h("span", { className: "mini-card__title", text: cardTitle(card, url) }),
      h("span", { className: "mini-card__meta" },
        price ? h("span", { className: "mini-card__price", text: price }) : null,
        stockEl(card)),
      h("span", { className: "mini-card__where", text: elsewhere ? interpolate(gettext("In #%(id)s · %(when)s"), { id: card.conversation, when: relativeTime(card.seen_at) }) : relativeTime(card.seen_at) }));
    var media = image
      ? h("img", { className: "mini-card__img", src: image.href, alt: "", loading: "lazy", referrerpolicy: "no-referrer" })
      : h("span", { className: "mini-card__img mini-card__img--none", "aria-hidden": "true" });
    var attrs = { className: "mini-card", "data-testid": "panel-product-card", "data-url": url ? url.href : null };
    list.appendChild(url
      ? h("a", Object.assign(attrs, { href: url.href, target: "_blank", rel: "noopener noreferrer nofollow" }), media, body)
      : h("div", attrs, media, body));
  });
  section.appendChild(list);
  return section;
}

/** The contact's other conversations, newest first; clicking one opens it. */
function pastSection(open) {
  var section = h("section", { className: "details__section", "data-testid": "past-conversations" });
  var past = open.panel ? open.panel.conversations : null;
  section.appendChild(h("h3", null, gettext("Past conversations"), past && past.length ? h("span", { className: "details__count", text: formatNumber(past.length) + (open.panel.more_conversations ? "+" : "") }) : null));
  if (!open.panel) {
    section.appendChild(h("p", { className: "details__note", text: open.panelError ? gettext("Could not load the history.") : gettext("Loading…") }));
    return section;
  }
  if (!past.length) {
    section.appendChild(h("p", { className: "details__note", "data-testid": "past-conversations-empty", text: gettext("This is their first conversation.") }));
    return section;
  }
  var list = h("ul", { className: "past" });
  past.forEach(function (p) {
    // Live updates of a past conversation (it was reopened, say) show here too.
    var c = state.conversations.get(p.id) || p;
    var t = parseTime(c.created_at);
    list.appendChild(h("li", null, h("a", {
      className: "past__link", href: "#/" + state.view + "/" + c.id,
      "data-testid": "past-conversation", "data-conversation-id": c.id, "data-status": c.status,
    },
      h("span", { className: "past__top" },
        statusBadge(c.status),
        h("time", { className: "past__date", datetime: c.created_at || "", title: t !== null ? fullTime(t) : null, text: t !== null ? dayAndTime(t) : "" }),
        h("span", { className: "past__id", text: "#" + c.id })),
      h("span", { className: "past__preview", text: c.last_message ? String(c.last_message.preview || "").replace(/\s+/g, " ") : gettext("No messages") }))));
  });
  section.appendChild(list);
  if (open.panel.more_conversations) {
    section.appendChild(h("p", { className: "details__note", text: gettext("Older conversations are not shown.") }));
  }
  return section;
}

export function loadPanel(open) {
  open.panelError = null;
  return api(conversationUrl(open.id) + "/contact").then(function (body) {
    if (state.open !== open) return;
    open.panel = body;
    renderDetails();
  }).catch(function (err) {
    if (state.open !== open) return;
    open.panelError = err;
    renderDetails();
  });
}

/** A message of the open conversation got product cards (the plugin runs after it is stored):
 * put them at the top of the panel's list without asking the server again. */
export function panelCardsFrom(open, m) {
  if (!open.panel || !m || m.sender !== "contact" || !m.metadata || !Array.isArray(m.metadata.cards)) return;
  var cards = open.panel.cards;
  var added = false;
  m.metadata.cards.slice().reverse().forEach(function (card) {
    if (!card || typeof card !== "object" || !(card.url || card.title)) return;
    var key = card.url ? "u:" + card.url : "t:" + card.title;
    var at = -1;
    cards.forEach(function (x, i) { if ((x.url ? "u:" + x.url : "t:" + x.title) === key) at = i; });
    if (at === 0) return;
    if (at > 0) cards.splice(at, 1);
    cards.unshift(Object.assign({}, card, { conversation: open.id, seen_at: m.created_at }));
    added = true;
  });
  if (added) renderDetails();
}

export function wireDetails() {
  $("[data-testid=toggle-details]").addEventListener("click", function () {
    state.detailsVisible = !state.detailsVisible;
    renderDetails();
  });
  // The side panel is a column on wide screens and a drawer on narrow ones: follow the width
  // when it crosses the line, and leave it to the agent in between.
  if (WIDE.addEventListener) {
    WIDE.addEventListener("change", function () { state.detailsVisible = WIDE.matches; renderDetails(); });
  }
}
