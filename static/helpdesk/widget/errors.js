// The visitor-facing sentence for each error code of docs/protocol.md.
import { humanFileError } from "../shared/files.js";
import { gettext, interpolate } from "../shared/i18n.js";

export function humanError(data, secondsLeft) {
  const code = data && data.code;
  switch (code) {
    case "rate_limited":
      return interpolate(gettext("You're sending messages too fast, retrying in %(seconds)ss"), {
        seconds: Math.max(0, secondsLeft || 0),
      });
    case "text_empty":
      return gettext("The message is empty.");
    case "text_too_long":
      return data.limit
        ? interpolate(gettext("This message is too long (at most %(limit)s characters)."), {
            limit: data.limit,
          })
        : gettext("This message is too long.");
    case "frame_too_large":
      return gettext("This message is too large.");
    case "conversation_closed":
      return gettext("This conversation is closed.");
    case "not_found":
      return gettext("This conversation no longer exists.");
    case "invalid":
      return gettext("This message could not be sent.");
    case "server_error":
      return gettext("Something went wrong on our side. Please try again.");
    case "unauthenticated":
    case "token_invalid":
    case "token_expired":
      return gettext("Your session expired. Please try again.");
    case "origin_not_allowed":
      return gettext("Chat is not available on this website.");
    default:
      return humanFileError(data) || gettext("Not delivered."); // attachment_too_large, ...
  }
}
