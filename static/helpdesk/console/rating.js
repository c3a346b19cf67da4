// The customer's satisfaction rating of a conversation, for the details panel: stars (1-5) or
// a thumb, and their comment. The conversation payload's `rating` ({score, scale, comment}) is
// null until the customer rates; a conversation.updated brings it live.
import { h } from "./dom.js";
import { gettext, interpolate } from "../shared/i18n.js";

/** The rating's element, or null when the conversation is not rated. */
export function ratingEl(rating) {
  if (!rating || typeof rating !== "object" || typeof rating.score !== "number") return null;
  var score = Math.max(1, Math.min(5, Math.round(rating.score)));
  var thumbs = rating.scale === "thumbs";
  var up = score >= 4;
  var label = thumbs
    ? (up ? gettext("Thumbs up") : gettext("Thumbs down"))
    : interpolate(gettext("%(score)s out of 5 stars"), { score: score });
  var mark = thumbs
    ? h("span", { className: "rating__thumb rating__thumb--" + (up ? "up" : "down"), "aria-hidden": "true", text: up ? "👍" : "👎" })
    : h("span", { className: "rating__stars", "aria-hidden": "true", text: "★★★★★".slice(0, score) + "☆☆☆☆☆".slice(0, 5 - score) });
  return h("span", { className: "rating", "data-testid": "conversation-rating", "data-score": String(score), "data-scale": rating.scale || "" },
    mark,
    h("span", { className: "visually-hidden", text: label }),
    rating.comment ? h("q", { className: "rating__comment", "data-testid": "conversation-rating-comment", text: rating.comment }) : null);
}
