// Attachments in the widget and the console: what a file is, whether it may be sent, how big
// it is in words, and which of the server's URLs may become a link or an image.
//
// The checks here only save the customer a useless upload: the server decides (it looks at the
// file's content, helpdesk/core/filetypes.py). A file's first bytes are read as a hint of its
// type; its name is never trusted.
import { formatNumber, formatPercent } from "./format.js";
import { gettext, interpolate, ngettext } from "./i18n.js";

// Shown as images in messages; everything else is a download (SVG is a document, not here).
export const INLINE_IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"];

const SNIFF_BYTES = 16;

function startsWith(bytes, signature, offset) {
  offset = offset || 0;
  if (bytes.length < offset + signature.length) return false;
  for (let i = 0; i < signature.length; i++) {
    if (signature[i] !== null && bytes[offset + i] !== signature[i]) return false;
  }
  return true;
}

function ascii(text) {
  return Array.prototype.map.call(text, (ch) => ch.charCodeAt(0));
}

/** The MIME type the first bytes of a file say it has, or "" when they say nothing we know. */
export function sniffBytes(bytes) {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "image/jpeg";
  if (startsWith(bytes, ascii("GIF87a")) || startsWith(bytes, ascii("GIF89a"))) return "image/gif";
  if (startsWith(bytes, ascii("RIFF")) && startsWith(bytes, ascii("WEBP"), 8)) return "image/webp";
  if (startsWith(bytes, ascii("%PDF-"))) return "application/pdf";
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) return "application/zip"; // also .docx / .xlsx
  if (startsWith(bytes, ascii("ID3")) || (bytes.length > 1 && bytes[0] === 0xff && (bytes[1] & 0xe0) === 0xe0)) {
    return "audio/mpeg";
  }
  if (startsWith(bytes, ascii("ftyp"), 4)) return "video/mp4";
  return "";
}

/** Resolves the sniffed type of a File (or ""): only its first bytes are read. */
export function sniffFile(file) {
  if (!file || typeof file.slice !== "function") return Promise.resolve("");
  const head = file.slice(0, SNIFF_BYTES);
  const read = typeof head.arrayBuffer === "function"
    ? head.arrayBuffer()
    : new Promise((resolve, reject) => {
        const reader = new FileReader();
        reader.onload = () => resolve(reader.result);
        reader.onerror = () => reject(reader.error);
        reader.readAsArrayBuffer(head);
      });
  return read.then((buffer) => sniffBytes(new Uint8Array(buffer)), () => "");
}

const OFFICE_TYPES = [
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
];

/** Whether a file whose browser type is ``declared`` and whose bytes say ``sniffed`` may be
 *  one of ``allowed`` types. Only a clear "no" refuses: an unknown type is the server's call. */
export function typeAllowed(declared, sniffed, allowed) {
  if (!Array.isArray(allowed) || !allowed.length) return true; // no list: the server decides
  const list = allowed.map((t) => String(t).toLowerCase());
  declared = String(declared || "").toLowerCase();
  if (sniffed) {
    if (list.indexOf(sniffed) >= 0) return true;
    // A .docx or .xlsx is a ZIP inside: trust the browser's word for which one.
    if (sniffed === "application/zip" && OFFICE_TYPES.indexOf(declared) >= 0) return list.indexOf(declared) >= 0;
    return false;
  }
  // No signature we know: plain text has none (whatever the browser calls it: .csv, .html,
  // .json), so where text is allowed the server reads the content and decides.
  if (!declared || list.indexOf("text/plain") >= 0) return true;
  return list.indexOf(declared) >= 0;
}

/** The type to show for a file before the server has its say. */
export function probableType(declared, sniffed) {
  return sniffed || String(declared || "").toLowerCase() || "application/octet-stream";
}

export function isInlineImage(type) {
  return INLINE_IMAGE_TYPES.indexOf(String(type || "").toLowerCase()) >= 0;
}

const UNITS = [
  ["gigabyte", 1024 * 1024 * 1024],
  ["megabyte", 1024 * 1024],
  ["kilobyte", 1024],
];

/** A size in bytes in the UI's language: "512 byte", "12 kB", "3.4 MB". */
export function humanSize(bytes) {
  const n = Number(bytes);
  if (!isFinite(n) || n < 0) return "";
  for (const [unit, size] of UNITS) {
    if (n >= size) {
      const value = n / size;
      return formatNumber(value, {
        style: "unit",
        unit: unit,
        unitDisplay: "short",
        maximumFractionDigits: value < 10 ? 1 : 0,
      });
    }
  }
  return interpolate(ngettext("%(count)s byte", "%(count)s bytes", n), { count: formatNumber(n) });
}

/** Why files cannot go with a message, before any upload: an object {code, text} for the first
 *  problem, or null. ``limits`` is the inbox's ``options.attachments`` ({enabled, types,
 *  max_bytes, per_message}); ``already`` is how many files the message has already. Each file
 *  comes with its sniffed type ({file, sniffed}). */
/** What a picked file's chip says under its name: its progress while it uploads, else its size. */
export function chipSizeText(entry) {
  return entry.state === "uploading"
    ? interpolate(gettext("Uploading… %(percent)s"), { percent: formatPercent(entry.progress || 0, 0) })
    : humanSize(entry.size);
}

export function checkFiles(items, limits, already) {
  limits = limits || {};
  if (limits.enabled === false) return { code: "attachments_disabled", text: humanFileError({ code: "attachments_disabled" }) };
  const max = Number(limits.per_message) || 0;
  if (max && (already || 0) + items.length > max) {
    return { code: "too_many_attachments", text: humanFileError({ code: "too_many_attachments", limit: max }) };
  }
  for (const { file, sniffed } of items) {
    const name = file.name || gettext("file");
    if (Number(limits.max_bytes) && file.size > Number(limits.max_bytes)) {
      return {
        code: "attachment_too_large",
        text: humanFileError({ code: "attachment_too_large", name: name, size: file.size, limit: limits.max_bytes }),
      };
    }
    if (file.size === 0) return { code: "attachment_invalid", text: humanFileError({ code: "attachment_invalid", name: name }) };
    if (!typeAllowed(file.type, sniffed, limits.types)) {
      return {
        code: "attachment_type_not_allowed",
        text: humanFileError({ code: "attachment_type_not_allowed", name: name }),
      };
    }
  }
  return null;
}

/** The sentence a person reads for an attachment error ({code, name?, size?, limit?}); null
 *  for a code that is not about attachments. */
export function humanFileError(error) {
  const code = error && error.code;
  const name = (error && error.name) || "";
  switch (code) {
    case "attachment_too_large":
      if (name && error.limit) {
        return interpolate(gettext("“%(name)s” is too large. Files can be at most %(limit)s."), {
          name: name,
          limit: humanSize(error.limit),
        });
      }
      return name
        ? interpolate(gettext("“%(name)s” is too large to send."), { name: name })
        : gettext("This file is too large to send.");
    case "attachment_type_not_allowed":
      return name
        ? interpolate(gettext("Files like “%(name)s” cannot be sent here."), { name: name })
        : gettext("This type of file cannot be sent here.");
    case "attachment_invalid":
      return name
        ? interpolate(gettext("“%(name)s” cannot be read: it is empty or damaged."), { name: name })
        : gettext("The file cannot be read: it is empty or damaged.");
    case "attachment_refused":
      // A plugin's reason, as the server words it.
      return error.message ? String(error.message) : gettext("This file was refused.");
    case "attachments_disabled":
      return gettext("Files cannot be sent here.");
    case "too_many_attachments":
      return error.limit
        ? interpolate(
            ngettext(
              "You can send at most %(limit)s file with a message.",
              "You can send at most %(limit)s files with a message.",
              Number(error.limit),
            ),
            { limit: error.limit },
          )
        : gettext("Too many files for one message.");
    case "attachment_not_found":
      return gettext("A file of this message is no longer available. Please attach it again.");
    case "upload_failed":
      return name
        ? interpolate(gettext("“%(name)s” could not be uploaded. Please try again."), { name: name })
        : gettext("The file could not be uploaded. Please try again.");
    default:
      return null;
  }
}

/** A URL the server gave for a file, as an absolute http(s) URL string, or null. ``base`` is
 *  the helpdesk's base URL, for the root-relative URLs the server may give. */
export function fileUrl(raw, base) {
  if (typeof raw !== "string" || !raw.trim()) return null;
  raw = raw.trim();
  let url;
  try {
    // Absolute stays as it is; "/path" is the helpdesk's; "//host" and other forms are refused.
    if (/^[a-z][a-z0-9+.-]*:/i.test(raw)) url = new URL(raw);
    else if (raw.charAt(0) === "/" && raw.charAt(1) !== "/" && raw.charAt(1) !== "\\") url = new URL(raw, base);
    else return null;
  } catch (e) {
    return null;
  }
  return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
}
