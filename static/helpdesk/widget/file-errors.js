// The customer-facing sentence for a failed upload or a refused file.
import { humanFileError } from "../shared/files.js";
import { gettext } from "../shared/i18n.js";
import { humanError } from "./errors.js";

export function fileErrorText(error) {
  const text = humanFileError(error || {});
  if (text) return text;
  if (error && error.code === "rate_limited") return gettext("You're sending files too fast. Please try again in a moment.");
  return humanError(error || {});
}
