// Files in the composer: the paperclip button, paste and drag and drop, the chips of the files
// picked for the next message (with a preview, the size, the upload's progress and ×), and
// the checks made before uploading (the inbox's types, size and count; the server decides).
import { checkFiles, chipSizeText, isInlineImage, probableType, sniffFile } from "../shared/files.js";
import { gettext, interpolate } from "../shared/i18n.js";
import { attachmentLimits, attachmentsEnabled, tray } from "./attach-state.js";
import { el, ui } from "./dom.js";
import { fileErrorText } from "./file-errors.js";
import { onOptions } from "./options.js";
import { updateSendButton, updateUI } from "./panel.js";
import { newUpload, startUpload } from "./uploads.js";

const NOTICE_MS = 8000;

const ICON_CLIP =
  '<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">' +
  '<path d="M16.5 6.5v10.1a4.5 4.5 0 0 1-9 0V5.75a3 3 0 0 1 6 0v9.85a1.5 1.5 0 0 1-3 0V6.5H9v9.1a3 3 0 0 0 6 0' +
  'V5.75a4.5 4.5 0 0 0-9 0V16.6a6 6 0 0 0 12 0V6.5h-1.5Z"/></svg>';
const ICON_FILE =
  '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">' +
  '<path d="M6 2h8l6 6v12a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2Zm7 1.5V9h5.5L13 3.5Z"/></svg>';

let noticeTimer = null;
let dragDepth = 0;

/** Add the button, the tray and the drop zone to the mounted panel. */
export function bindAttachments() {
  const button = el("button", "attach", { type: "button", "data-testid": "attach-button" });
  setSvg(button, ICON_CLIP);
  const picker = el("input", "attach-input", { type: "file", multiple: "", hidden: "", tabindex: "-1", "data-testid": "attach-input" });
  ui.form.insertBefore(button, ui.input);
  ui.form.appendChild(picker);
  ui.attach = button;
  ui.picker = picker;

  const chips = el("div", "tray", { "data-testid": "attachment-tray", hidden: "" });
  ui.form.parentNode.insertBefore(chips, ui.form);
  ui.tray = chips;

  const zone = el("div", "dropzone", { "data-testid": "dropzone", hidden: "" });
  zone.appendChild(el("div", "dropzone-inner"));
  ui.panel.appendChild(zone);
  ui.dropzone = zone;
  tray.relabel = applyAttachmentLabels;
  applyAttachmentLabels();
  button.hidden = !attachmentsEnabled(); // until the inbox's options say files are welcome
  onOptions(() => {
    button.hidden = !attachmentsEnabled();
  });

  button.addEventListener("click", () => {
    const limits = attachmentLimits();
    const types = limits && Array.isArray(limits.types) ? limits.types : [];
    if (types.length) picker.setAttribute("accept", types.join(","));
    else picker.removeAttribute("accept");
    picker.click();
  });
  picker.addEventListener("change", () => {
    const files = Array.prototype.slice.call(picker.files || []);
    picker.value = ""; // the same file may be picked again
    if (files.length) addFiles(files);
  });
  ui.input.addEventListener("paste", onPaste);
  ui.panel.addEventListener("dragenter", onDragEnter);
  ui.panel.addEventListener("dragover", onDragOver);
  ui.panel.addEventListener("dragleave", onDragLeave);
  ui.panel.addEventListener("drop", onDrop);
}

/** The labels, in the current language (called again when the catalog arrives). */
function applyAttachmentLabels() {
  if (!ui.attach) return;
  ui.attach.setAttribute("aria-label", gettext("Attach a file"));
  ui.attach.setAttribute("title", gettext("Attach a file"));
  ui.tray.setAttribute("aria-label", gettext("Files to send"));
  ui.dropzone.firstChild.textContent = gettext("Drop files here to send them");
}

function setSvg(node, markup) {
  const template = document.createElement("template");
  template.innerHTML = markup; // constant markup, no text from anywhere
  node.appendChild(template.content.cloneNode(true));
}

function hasFiles(dataTransfer) {
  if (!dataTransfer) return false;
  const types = dataTransfer.types || [];
  for (let i = 0; i < types.length; i++) if (types[i] === "Files") return true;
  return false;
}

function onDragEnter(event) {
  if (!hasFiles(event.dataTransfer)) return;
  event.preventDefault();
  dragDepth++;
  ui.dropzone.hidden = false;
  ui.dropzone.setAttribute("data-enabled", attachmentsEnabled() ? "true" : "false");
}

function onDragOver(event) {
  if (!hasFiles(event.dataTransfer)) return;
  event.preventDefault(); // without it, dropping opens the file in the tab
  event.dataTransfer.dropEffect = attachmentsEnabled() ? "copy" : "none";
}

function onDragLeave(event) {
  if (!hasFiles(event.dataTransfer)) return;
  dragDepth = Math.max(0, dragDepth - 1);
  if (!dragDepth) ui.dropzone.hidden = true;
}

function onDrop(event) {
  if (!hasFiles(event.dataTransfer)) return;
  event.preventDefault();
  dragDepth = 0;
  ui.dropzone.hidden = true;
  const files = Array.prototype.slice.call(event.dataTransfer.files || []);
  if (files.length) addFiles(files);
}

function onPaste(event) {
  const data = event.clipboardData;
  if (!data) return;
  const files = [];
  const items = data.items || [];
  for (let i = 0; i < items.length; i++) {
    if (items[i].kind === "file") {
      const file = items[i].getAsFile();
      if (file) files.push(file);
    }
  }
  if (!files.length) return;
  // A screenshot comes alone; text copied with a picture (from a document) stays text.
  const text = data.getData("text/plain");
  if (text && !attachmentsEnabled()) return;
  if (!text) event.preventDefault();
  addFiles(files);
}

/** Check the files, then show them as chips and start uploading them. */
export function addFiles(files) {
  if (!attachmentsEnabled()) {
    showFileNotice(fileErrorText({ code: "attachments_disabled" }));
    return Promise.resolve(false);
  }
  return Promise.all(files.map((file) => sniffFile(file).then((sniffed) => ({ file: file, sniffed: sniffed })))).then(
    (items) => {
      const problem = checkFiles(items, attachmentLimits(), tray.entries.length);
      if (problem) {
        showFileNotice(problem.text);
        return false;
      }
      for (const { file, sniffed } of items) {
        const type = probableType(file.type, sniffed);
        let preview = null;
        if (isInlineImage(type) && window.URL && URL.createObjectURL) preview = URL.createObjectURL(file);
        const entry = newUpload(file, type, preview);
        entry.onchange = updateChip;
        tray.entries.push(entry);
        startUpload(entry).then(() => {
          if (entry.state === "failed" && tray.entries.indexOf(entry) >= 0) {
            removeEntry(entry);
            showFileNotice(fileErrorText(entry.error));
          }
        });
      }
      clearFileNotice();
      drawTray();
      return true;
    },
  );
}

/** The picked files, for the message being sent; the tray empties (previews stay: the pending
 *  message shows them). */
export function takeFiles() {
  const taken = tray.entries.slice();
  tray.entries.length = 0;
  for (const entry of taken) {
    entry.onchange = null;
    entry.chip = null;
  }
  drawTray();
  return taken;
}

function removeEntry(entry) {
  const i = tray.entries.indexOf(entry);
  if (i < 0) return;
  tray.entries.splice(i, 1);
  entry.onchange = null;
  entry.chip = null;
  if (entry.previewUrl && window.URL && URL.revokeObjectURL) URL.revokeObjectURL(entry.previewUrl);
  drawTray();
}

/** An error about files in the panel's notice line, for a while. */
export function showFileNotice(text) {
  tray.notice = text;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(clearFileNotice, NOTICE_MS);
  updateUI();
}

function clearFileNotice() {
  clearTimeout(noticeTimer);
  if (tray.notice === null) return;
  tray.notice = null;
  updateUI();
}

function drawTray() {
  if (!ui.tray) return;
  while (ui.tray.firstChild) ui.tray.removeChild(ui.tray.firstChild);
  for (const entry of tray.entries) {
    entry.chip = chip(entry);
    updateChip(entry);
    ui.tray.appendChild(entry.chip);
  }
  ui.tray.hidden = !tray.entries.length;
  updateSendButton();
}

/** A chip's state, size or progress, in place (the preview is not loaded again). */
function updateChip(entry) {
  const c = entry.chip;
  if (!c || tray.entries.indexOf(entry) < 0) return;
  c.setAttribute("data-state", entry.state);
  const uploading = entry.state === "uploading";
  c._size.textContent = chipSizeText(entry);
  c._bar.hidden = !uploading;
  c._bar.style.width = Math.round((entry.progress || 0) * 100) + "%";
}

function chip(entry) {
  const c = el("div", "chip", { "data-testid": "attachment-chip" });
  if (entry.previewUrl) {
    const img = el("img", "chip-thumb", { alt: "" });
    img.src = entry.previewUrl;
    c.appendChild(img);
  } else {
    const icon = el("span", "chip-icon");
    setSvg(icon, ICON_FILE);
    c.appendChild(icon);
  }
  const text = el("span", "chip-text");
  const name = el("span", "chip-name", { "data-testid": "attachment-chip-name" });
  name.textContent = entry.name || gettext("file");
  name.title = entry.name || "";
  const size = el("span", "chip-size", { "data-testid": "attachment-chip-size" });
  text.appendChild(name);
  text.appendChild(size);
  c.appendChild(text);
  const bar = el("span", "chip-progress", { "aria-hidden": "true" });
  c.appendChild(bar);
  c._size = size;
  c._bar = bar;
  const remove = el("button", "chip-remove", { type: "button", "data-testid": "attachment-remove" });
  remove.setAttribute("aria-label", interpolate(gettext("Remove %(name)s"), { name: entry.name || gettext("file") }));
  remove.textContent = "\u00d7";
  remove.addEventListener("click", () => {
    removeEntry(entry);
    ui.input.focus();
  });
  c.appendChild(remove);
  return c;
}
