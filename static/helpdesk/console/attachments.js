// Files in the agent's composer: the paperclip, paste and drag and drop onto the conversation,
// the chips of the files picked for the next message (preview, size, progress, ×), checks made
// before uploading (the server checks again), and errors as toasts. The picked files stay with
// their conversation, like the draft.
import { boot } from "./boot.js";
import { $, h, svgIcon } from "./dom.js";
import { toast } from "./toast.js";
import { newUpload, startUpload } from "./uploads.js";
import { checkFiles, chipSizeText, humanFileError, isInlineImage, probableType, sniffFile } from "../shared/files.js";
import { gettext, interpolate } from "../shared/i18n.js";

const LIMITS = boot.attachments || null;

const composer = $("[data-testid=composer]");
const input = $("[data-testid=composer-input]");
const thread = $("[data-testid=conversation]");
let tray = null;
let button = null;
let picker = null;
let zone = null;
let entries = [];
let conversationId = null;
let dragDepth = 0;
let onChange = function () {};
// Picked files of the conversations the agent looked away from.
const parked = new Map();

export function fileErrorText(error) {
  var text = humanFileError(error || {});
  if (text) return text;
  if (error && error.code === "rate_limited") return gettext("Uploading too fast — please wait a moment and try again.");
  if (error && error.message) return String(error.message);
  return gettext("The file could not be uploaded. Please try again.");
}

const CLIP_ICON = "M16.5 6.5v10.1a4.5 4.5 0 0 1-9 0V5.75a3 3 0 0 1 6 0v9.85a1.5 1.5 0 0 1-3 0V6.5H9v9.1a3 3 0 0 0 6 0V5.75a4.5 4.5 0 0 0-9 0V16.6a6 6 0 0 0 12 0V6.5h-1.5Z";

/** Whether the agent may attach files now (notes too, when the server allows them). */
function allowed() {
  if (!LIMITS || !composer || input.disabled) return false;
  return composer.getAttribute("data-mode") !== "note" || LIMITS.notes !== false;
}

/** ``changed`` is called when the picked files change (the Send button's state). */
export function wireAttachments(changed) {
  if (!composer || !LIMITS) return;
  onChange = changed || onChange;
  tray = h("div", { className: "att-tray", "data-testid": "attachment-tray", "aria-label": gettext("Files to send"), hidden: true });
  input.parentNode.insertBefore(tray, input);
  picker = h("input", { type: "file", multiple: true, hidden: true, tabindex: "-1", "data-testid": "attach-input" });
  button = h("button", {
    type: "button", className: "icon-btn composer__attach", "data-testid": "attach-button",
    "aria-label": gettext("Attach a file"), title: gettext("Attach a file"),
    onclick: function () { if (allowed()) picker.click(); },
  }, svgIcon(CLIP_ICON, 18));
  var foot = composer.querySelector(".composer__foot");
  foot.insertBefore(button, foot.firstChild);
  foot.appendChild(picker);
  picker.addEventListener("change", function () {
    var files = Array.prototype.slice.call(picker.files || []);
    picker.value = "";
    if (files.length) addFiles(files);
  });
  input.addEventListener("paste", onPaste);
  zone = h("div", { className: "dropzone", "data-testid": "dropzone", hidden: true },
    h("div", { className: "dropzone__inner", text: gettext("Drop files here to attach them") }));
  if (thread) {
    thread.appendChild(zone);
    thread.addEventListener("dragenter", onDragEnter);
    thread.addEventListener("dragover", onDragOver);
    thread.addEventListener("dragleave", onDragLeave);
    thread.addEventListener("drop", onDrop);
  }
  // The note toggle and the composer's state decide whether the paperclip shows.
  new MutationObserver(syncAttachButton).observe(composer, { attributes: true, attributeFilter: ["data-mode", "class"] });
  syncAttachButton();
}

export function syncAttachButton() {
  if (!button) return;
  var note = composer.getAttribute("data-mode") === "note";
  button.hidden = note && LIMITS.notes === false;
  button.disabled = input.disabled;
}

function hasFiles(dataTransfer) {
  var types = (dataTransfer && dataTransfer.types) || [];
  for (var i = 0; i < types.length; i++) if (types[i] === "Files") return true;
  return false;
}

function onDragEnter(e) {
  if (!hasFiles(e.dataTransfer) || !allowed()) return;
  e.preventDefault();
  dragDepth++;
  zone.hidden = false;
}

function onDragOver(e) {
  if (!hasFiles(e.dataTransfer)) return;
  e.preventDefault(); // otherwise the browser opens the file instead of the console
  e.dataTransfer.dropEffect = allowed() ? "copy" : "none";
}

function onDragLeave(e) {
  if (!hasFiles(e.dataTransfer)) return;
  dragDepth = Math.max(0, dragDepth - 1);
  if (!dragDepth) zone.hidden = true;
}

function onDrop(e) {
  if (!hasFiles(e.dataTransfer)) return;
  e.preventDefault();
  dragDepth = 0;
  zone.hidden = true;
  if (!allowed()) return;
  var files = Array.prototype.slice.call(e.dataTransfer.files || []);
  if (files.length) addFiles(files);
}

function onPaste(e) {
  var data = e.clipboardData;
  if (!data || !allowed()) return;
  var files = [];
  var items = data.items || [];
  for (var i = 0; i < items.length; i++) {
    if (items[i].kind === "file") {
      var file = items[i].getAsFile();
      if (file) files.push(file);
    }
  }
  if (!files.length) return;
  if (!data.getData("text/plain")) e.preventDefault();
  addFiles(files);
}

/** Check the files, show them as chips and start uploading them. */
export function addFiles(files) {
  var forConversation = conversationId;
  return Promise.all(files.map(function (file) {
    return sniffFile(file).then(function (sniffed) { return { file: file, sniffed: sniffed }; });
  })).then(function (items) {
    if (forConversation !== conversationId) return false; // the agent moved on meanwhile
    var problem = checkFiles(items, LIMITS, entries.length);
    if (problem) {
      toast(problem.text, "error", { testid: "attachment-error" });
      return false;
    }
    items.forEach(function (item) {
      var type = probableType(item.file.type, item.sniffed);
      var preview = isInlineImage(type) && window.URL && URL.createObjectURL ? URL.createObjectURL(item.file) : null;
      var entry = newUpload(item.file, type, preview, conversationId);
      entry.onchange = updateChip;
      entries.push(entry);
      startUpload(entry).then(function () {
        if (entry.state !== "failed") return;
        toast(fileErrorText(entry.error), "error", { testid: "attachment-error", ms: 8000 });
        dropEntry(entry);
      });
    });
    drawTray();
    return true;
  });
}

function dropEntry(entry) {
  var list = entries.indexOf(entry) >= 0 ? entries : null;
  if (!list) {
    parked.forEach(function (other) { if (other.indexOf(entry) >= 0) list = other; });
  }
  if (!list) return;
  list.splice(list.indexOf(entry), 1);
  entry.onchange = null;
  entry.chip = null;
  if (entry.previewUrl && window.URL && URL.revokeObjectURL) URL.revokeObjectURL(entry.previewUrl);
  if (list === entries) drawTray();
}

export function hasPickedFiles() { return entries.length > 0; }

/** The picked files, for the message being sent; the tray empties. */
export function takeFiles() {
  var taken = entries;
  entries = [];
  taken.forEach(function (entry) { entry.onchange = null; entry.chip = null; });
  drawTray();
  return taken;
}

/** The composer shows another conversation: its picked files come back, ours are parked. */
export function switchFiles(id) {
  if (id === conversationId) return;
  if (conversationId !== null && entries.length) parked.set(conversationId, entries);
  entries = (id !== null && parked.get(id)) || [];
  parked.delete(id);
  conversationId = id;
  drawTray();
}

function drawTray() {
  if (!tray) return;
  while (tray.firstChild) tray.removeChild(tray.firstChild);
  entries.forEach(function (entry) {
    entry.chip = chipEl(entry);
    updateChip(entry);
    tray.appendChild(entry.chip);
  });
  tray.hidden = !entries.length;
  onChange();
}

function updateChip(entry) {
  var c = entry.chip;
  if (!c) return;
  c.setAttribute("data-state", entry.state);
  var uploading = entry.state === "uploading";
  c._size.textContent = chipSizeText(entry);
  c._bar.hidden = !uploading;
  c._bar.style.width = Math.round((entry.progress || 0) * 100) + "%";
}

function chipEl(entry) {
  var size = h("span", { className: "att-chip__size", "data-testid": "attachment-chip-size" });
  var bar = h("span", { className: "att-chip__bar", "aria-hidden": "true" });
  var thumb = entry.previewUrl
    ? h("img", { className: "att-chip__thumb", alt: "", src: entry.previewUrl })
    : h("span", { className: "att-chip__icon", "aria-hidden": "true", text: "📄" });
  var c = h("div", { className: "att-chip", "data-testid": "attachment-chip" },
    thumb,
    h("span", { className: "att-chip__text" },
      h("span", { className: "att-chip__name", "data-testid": "attachment-chip-name", title: entry.name, text: entry.name || gettext("file") }),
      size),
    bar,
    h("button", {
      type: "button", className: "att-chip__remove", "data-testid": "attachment-remove", text: "×",
      "aria-label": interpolate(gettext("Remove %(name)s"), { name: entry.name || gettext("file") }),
      onclick: function () { dropEntry(entry); input.focus(); },
    }));
  c._size = size;
  c._bar = bar;
  return c;
}
