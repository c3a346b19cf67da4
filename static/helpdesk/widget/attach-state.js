// Files the customer picked for the next message, and the inbox's attachment settings: shared
// by the composer's tray (attachments.js), the panel (the Send button, the notice) and sending.
import { S } from "./state.js";

// entries: uploads (uploads.js) shown as chips above the input; notice: an error about files
// for the panel's notice line (cleared after a while); relabel: attachments.js's labels, set
// again by the panel when the language changes.
export const tray = { entries: [], notice: null, relabel: null };

/** The inbox's ``options.attachments`` ({enabled, types, max_bytes, per_message}), or null. */
export function attachmentLimits() {
  const o = S.options && S.options.attachments;
  return o && typeof o === "object" ? o : null;
}

export function attachmentsEnabled() {
  const limits = attachmentLimits();
  return !!(limits && limits.enabled) && !S.fatal;
}

export function hasPickedFiles() {
  return tray.entries.length > 0;
}
