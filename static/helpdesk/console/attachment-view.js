// The files of a message in the transcript: images (PNG, JPEG, GIF, WebP) as thumbnails that
// open full size in a new tab, anything else as a row with its name, size and a download link.
// Only http(s) URLs (the server's, absolute or relative to this site) become links or images,
// and blob: URLs of the agent's own files while they upload.
import { h, svgIcon } from "./dom.js";
import { fileUrl, humanSize, isInlineImage } from "../shared/files.js";
import { gettext, interpolate } from "../shared/i18n.js";

const THUMB_MAX_PX = 240;

function serverUrl(raw) { return fileUrl(raw, window.location.origin + "/"); }

function fromServer(a) {
  if (!a || typeof a !== "object") return null;
  var type = String(a.type || "").toLowerCase();
  var href = serverUrl(a.url);
  return {
    name: typeof a.name === "string" ? a.name : "",
    type: type,
    size: a.size,
    width: Number(a.width) || 0,
    height: Number(a.height) || 0,
    href: href,
    thumb: isInlineImage(type) ? serverUrl(a.thumbnail_url) || href : null,
  };
}

/** The files of a stored message. */
export function messageFiles(m) {
  return Array.isArray(m.attachments) ? m.attachments.map(fromServer).filter(Boolean) : [];
}

/** The files of a message on its way (uploads.js entries). */
export function pendingFiles(uploads) {
  return (uploads || []).map(function (entry) {
    if (entry.attachment) return fromServer(entry.attachment);
    var image = isInlineImage(entry.type) && entry.previewUrl;
    return { name: entry.name, type: entry.type, size: entry.size, width: 0, height: 0, href: null, thumb: image ? entry.previewUrl : null };
  }).filter(Boolean);
}

const FILE_ICON = "M6 2h8l6 6v12a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2Zm7 1.5V9h5.5L13 3.5Z";

function imageEl(a) {
  var img = h("img", { className: "att__thumb", alt: a.name || "", decoding: "async", loading: "lazy" });
  if (a.width && a.height) {
    // The box has the image's shape before it loads: the transcript does not jump.
    var scale = Math.min(1, THUMB_MAX_PX / Math.max(a.width, a.height));
    img.width = Math.max(1, Math.round(a.width * scale));
    img.height = Math.max(1, Math.round(a.height * scale));
    img.style.aspectRatio = a.width + " / " + a.height;
  }
  img.src = a.thumb;
  var attrs = { className: "att__image", "data-testid": "attachment-image", title: a.name || "" };
  if (a.href) {
    attrs.href = a.href;
    attrs.target = "_blank";
    attrs.rel = "noopener noreferrer";
    attrs["aria-label"] = interpolate(gettext("Open image %(name)s"), { name: a.name || "" });
  }
  return h(a.href ? "a" : "span", attrs, img);
}

/** The name with its extension always in view: a long name is cut before it. */
function fileName(name) {
  var dot = name.lastIndexOf(".");
  var cut = dot > 0 && name.length - dot <= 8 ? dot : name.length;
  return h("span", { className: "att__name", "data-testid": "attachment-name", title: name },
    h("span", { className: "att__stem", text: name.slice(0, cut) }),
    cut < name.length ? h("span", { className: "att__ext", text: name.slice(cut) }) : null);
}

function fileEl(a) {
  var attrs = { className: "att__file", "data-testid": "attachment-file" };
  if (a.href) {
    attrs.href = a.href;
    attrs.download = a.name || "";
    attrs.target = "_blank";
    attrs.rel = "noopener noreferrer";
  }
  return h(a.href ? "a" : "span", attrs,
    h("span", { className: "att__icon" }, svgIcon(FILE_ICON, 20)),
    h("span", { className: "att__text" },
      fileName(a.name || gettext("file")),
      h("span", { className: "att__size", text: humanSize(a.size) })),
    a.href ? h("span", { className: "att__download", text: gettext("Download") }) : null);
}

/** The element showing ``files`` (messageFiles / pendingFiles), or null for none. */
export function filesEl(files) {
  if (!files.length) return null;
  var box = h("div", { className: "att", "data-testid": "attachments" });
  files.forEach(function (a) { box.appendChild(a.thumb ? imageEl(a) : fileEl(a)); });
  return box;
}
