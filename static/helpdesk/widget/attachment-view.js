// The files of a message: images (PNG, JPEG, GIF, WebP) as thumbnails that open full size,
// anything else as a row with its name, size and a download link. Only http(s) URLs from the
// server (absolute, or relative to the helpdesk) are used, and blob: URLs of the customer's
// own picked files while they upload.
import { fileUrl, humanSize, isInlineImage } from "../shared/files.js";
import { formatPercent } from "../shared/format.js";
import { gettext, interpolate } from "../shared/i18n.js";
import { config } from "./config.js";
import { el } from "./dom.js";
import { openLightbox } from "./lightbox.js";

const THUMB_MAX_PX = 220;

const ICON_DOWNLOAD =
  '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">' +
  '<path d="M11 4a1 1 0 1 1 2 0v8.59l2.8-2.8a1 1 0 1 1 1.4 1.42l-4.5 4.5a1 1 0 0 1-1.4 0l-4.5-4.5a1 1 0 1 1 1.4-1.42' +
  'l2.8 2.8V4ZM5 18a1 1 0 0 1 1 1h12a1 1 0 1 1 2 0 2 2 0 0 1-2 2H6a2 2 0 0 1-2-2 1 1 0 0 1 1-1Z"/></svg>';
const ICON_FILE =
  '<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">' +
  '<path d="M6 2h8l6 6v12a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2Zm7 1.5V9h5.5L13 3.5Z"/></svg>';

function serverUrl(raw) {
  return fileUrl(raw, config.httpBase + "/");
}

function fromServer(a) {
  if (!a || typeof a !== "object") return null;
  const type = String(a.type || "").toLowerCase();
  const href = serverUrl(a.url);
  const thumb = isInlineImage(type) ? serverUrl(a.thumbnail_url) || href : null;
  return {
    id: a.id,
    name: typeof a.name === "string" ? a.name : "",
    type: type,
    size: a.size,
    width: Number(a.width) || 0,
    height: Number(a.height) || 0,
    href: href,
    thumb: thumb,
  };
}

/** The files to show under a message: the server's, or while it is sent, the picked ones. */
export function attachmentsOf(item) {
  if (Array.isArray(item.attachments) && item.attachments.length) {
    releasePreviews(item);
    return item.attachments.map(fromServer).filter(Boolean);
  }
  if (!Array.isArray(item.uploads)) return [];
  return item.uploads.map((entry) => {
    if (entry.attachment) return fromServer(entry.attachment);
    const image = isInlineImage(entry.type) && entry.previewUrl;
    return {
      id: null,
      name: entry.name,
      type: entry.type,
      size: entry.size,
      width: 0,
      height: 0,
      href: image ? entry.previewUrl : null, // ours: made with URL.createObjectURL
      thumb: image ? entry.previewUrl : null,
    };
  }).filter(Boolean);
}

/** The server's copies are shown now: the picked files' previews can go. */
function releasePreviews(item) {
  if (!Array.isArray(item.uploads)) return;
  for (const entry of item.uploads) {
    if (entry.previewUrl && window.URL && URL.revokeObjectURL) URL.revokeObjectURL(entry.previewUrl);
    entry.previewUrl = null;
  }
}

function setSvg(node, markup) {
  const template = document.createElement("template");
  template.innerHTML = markup; // constant markup
  node.appendChild(template.content.cloneNode(true));
}

function imageEl(a) {
  const button = el("button", "att-image", { type: "button", "data-testid": "attachment-image" });
  button.setAttribute("aria-label", interpolate(gettext("Open image %(name)s"), { name: a.name || "" }));
  const img = el("img", "att-thumb", { alt: a.name || "", decoding: "async", referrerpolicy: "no-referrer" });
  if (a.width && a.height) {
    // Its box has the image's shape before it loads: the list does not jump.
    const scale = Math.min(1, THUMB_MAX_PX / Math.max(a.width, a.height));
    img.width = Math.max(1, Math.round(a.width * scale));
    img.height = Math.max(1, Math.round(a.height * scale));
    img.style.aspectRatio = a.width + " / " + a.height;
  } else {
    button.classList.add("unsized");
  }
  img.addEventListener("error", () => button.classList.add("broken"));
  img.src = a.thumb;
  button.appendChild(img);
  button.addEventListener("click", () => openLightbox(a.href || a.thumb, a.name, a.href));
  return button;
}

/** The name with its extension always in view: a long name is cut before it. */
export function appendFileName(node, name) {
  const dot = name.lastIndexOf(".");
  const cut = dot > 0 && name.length - dot <= 8 ? dot : name.length;
  const stem = el("span", "att-stem");
  stem.textContent = name.slice(0, cut);
  node.appendChild(stem);
  if (cut < name.length) {
    const ext = el("span", "att-ext");
    ext.textContent = name.slice(cut);
    node.appendChild(ext);
  }
}

function fileEl(a) {
  const row = a.href
    ? el("a", "att-file", { target: "_blank", rel: "noopener noreferrer", "data-testid": "attachment-file" })
    : el("div", "att-file", { "data-testid": "attachment-file" });
  if (a.href) {
    row.href = a.href;
    row.setAttribute("download", a.name || "");
  }
  const icon = el("span", "att-icon");
  setSvg(icon, ICON_FILE);
  const text = el("span", "att-text");
  const name = el("span", "att-name", { "data-testid": "attachment-name", title: a.name || "" });
  appendFileName(name, a.name || gettext("file"));
  const size = el("span", "att-size");
  size.textContent = humanSize(a.size);
  text.appendChild(name);
  text.appendChild(size);
  row.appendChild(icon);
  row.appendChild(text);
  if (a.href) {
    row.setAttribute("aria-label", interpolate(gettext("Download %(name)s"), { name: a.name || "" }));
    const get = el("span", "att-download");
    setSvg(get, ICON_DOWNLOAD);
    row.appendChild(get);
  }
  return row;
}

/** Draw the files of ``item`` under its bubble (``parts`` of render.js); a message of files only
 *  shows no empty bubble. */
export function renderAttachments(item, parts) {
  const list = attachmentsOf(item);
  const key = list.map((a) => [a.id, a.name, a.href, a.thumb, a.width, a.height].join("|")).join("\n");
  parts.bubble.hidden = !!list.length && !String(item.text || "").trim();
  if (parts.filesKey === key) return;
  parts.filesKey = key;
  if (parts.files && parts.files.parentNode) parts.files.parentNode.removeChild(parts.files);
  parts.files = null;
  if (!list.length) return;
  const box = el("div", "files", { "data-testid": "attachments" });
  for (const a of list) box.appendChild(a.thumb ? imageEl(a) : fileEl(a));
  parts.bubble.parentNode.insertBefore(box, parts.bubble.nextSibling);
  parts.files = box;
}

/** "Uploading… 40%" under an own message whose files are still going up; "" otherwise. */
export function uploadingLine(item) {
  const entries = Array.isArray(item.uploads) ? item.uploads : [];
  if (!entries.length || entries.every((entry) => entry.state === "done")) return "";
  let total = 0;
  let done = 0;
  for (const entry of entries) {
    total += entry.size || 0;
    done += (entry.size || 0) * (entry.state === "done" ? 1 : entry.progress || 0);
  }
  return interpolate(gettext("Uploading… %(percent)s"), { percent: formatPercent(total ? done / total : 0, 0) });
}
