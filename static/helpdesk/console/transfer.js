// The transfer dialog: pick a colleague (connected and available first) and hand them the
// open conversation, with an optional private note.
import { runAction } from "./actions.js";
import { directory, directoryReady, loadDirectory, whenDirectoryChanges } from "./agents.js";
import { ME } from "./boot.js";
import { $, clear, h, paintAvatar } from "./dom.js";
import { availabilityLabel, contactName } from "./labels.js";
import { currentConversation, state } from "./state.js";
import { gettext, interpolate, ngettext } from "../shared/i18n.js";

const transferDialog = $("[data-testid=transfer-dialog]");
const transferForm = $("[data-testid=transfer-form]");
const transferList = $("[data-testid=transfer-agents]");
const transferStateEl = $("[data-testid=transfer-state]");
const transferNote = $("[data-testid=transfer-note]");
const transferErrorEl = $("[data-testid=transfer-error]");
const transferConfirm = $("[data-testid=transfer-confirm]");
const transfer = { conversation: null, to: null, error: null };

export function openTransfer() {
  var c = currentConversation();
  if (!c) return;
  transfer.conversation = c.id;
  transfer.to = null;
  transfer.error = null;
  transferNote.value = "";
  transferErrorEl.hidden = true;
  $("[data-testid=transfer-subtitle]").textContent = interpolate(
    gettext("#%(id)s · %(name)s. Pick who takes it over; they are notified at once."),
    { id: c.id, name: contactName(c.contact) });
  if (typeof transferDialog.showModal === "function") transferDialog.showModal();
  else transferDialog.setAttribute("open", "");
  renderTransfer();
  loadDirectory().catch(function (err) {
    transfer.error = err.message || gettext("Could not load the agents.");
    renderTransfer();
  });
}

export function closeTransfer() {
  transfer.conversation = null;
  if (transferDialog.open) {
    if (typeof transferDialog.close === "function") transferDialog.close();
    else transferDialog.removeAttribute("open");
  }
}

const AVAILABILITY_ORDER = { online: 0, busy: 1, offline: 2 };

function agentRank(a) {
  // Connected and online first, then busy, then everyone who could not answer right now.
  if (a.online === false) return 3;
  return AVAILABILITY_ORDER[a.availability] !== undefined ? AVAILABILITY_ORDER[a.availability] : 2;
}

export function renderTransfer() {
  if (!transferDialog.open || transfer.conversation === null) return;
  var c = state.conversations.get(transfer.conversation);
  var pending = state.action && state.action.key === "transfer";
  var candidates = [];
  // Until the directory answers, the names from the page alone would show every agent as
  // "unknown": wait for it (or for its failure, then the names are better than nothing).
  if (directoryReady() || transfer.error) {
    directory.forEach(function (a) {
      if (a.id === ME.id || (c && a.id === c.assignee)) return;
      candidates.push(a);
    });
  }
  candidates.sort(function (a, b) { return agentRank(a) - agentRank(b) || String(a.name).localeCompare(String(b.name)); });
  if (transfer.to !== null && !candidates.some(function (a) { return a.id === transfer.to; })) transfer.to = null;
  var focused = document.activeElement && document.activeElement.getAttribute("data-agent-id");
  clear(transferList);
  candidates.forEach(function (a) {
    var status = a.online === false ? "offline" : (a.availability || "unknown");
    var statusText = a.online === false
      ? gettext("Not connected")
      : (availabilityLabel(a.availability) || gettext("Availability unknown"));
    var load = agentLoad(a);
    var id = "transfer-agent-" + a.id;
    var avatar = h("span", { className: "avatar avatar--sm", "aria-hidden": "true" });
    paintAvatar(avatar, a.name, a.id);
    transferList.appendChild(h("label", {
      className: "agent-option" + (transfer.to === a.id ? " agent-option--picked" : ""),
      "data-testid": "transfer-agent", "data-agent-id": a.id, "data-availability": status, for: id,
    },
      h("input", { type: "radio", name: "transfer-to", id: id, value: String(a.id), checked: transfer.to === a.id, disabled: pending,
        "data-agent-id": a.id,
        onchange: function () { transfer.to = a.id; transferErrorEl.hidden = true; renderTransfer(); } }),
      avatar,
      h("span", { className: "agent-option__body" },
        h("span", { className: "agent-option__name", text: a.role === "admin" ? interpolate(gettext("%(name)s (admin)"), { name: a.name }) : a.name }),
        h("span", { className: "agent-option__status" },
          h("span", { className: "avail-dot", "data-availability": status, "aria-hidden": "true" }),
          h("span", { "data-testid": "transfer-agent-status", text: statusText }))),
      load ? h("span", { className: "agent-option__load", text: load }) : null));
  });
  if (focused) {
    var again = transferList.querySelector('input[data-agent-id="' + focused + '"]');
    if (again) again.focus();
  }
  var stateText = null;
  if (transfer.error) stateText = transfer.error;
  else if (!directoryReady()) stateText = gettext("Loading agents…");
  else if (!candidates.length) stateText = gettext("There is nobody else to transfer to. Add agents in the admin.");
  transferStateEl.hidden = !stateText;
  transferStateEl.textContent = stateText || "";
  transferConfirm.disabled = pending || transfer.to === null;
  transferConfirm.textContent = pending ? gettext("Transferring…") : gettext("Transfer");
  transferNote.disabled = pending;
}

/** How many chats the agent has open, and of how many they may have. */
function agentLoad(a) {
  if (typeof a.open !== "number") return "";
  if (a.capacity) return interpolate(gettext("%(open)s / %(capacity)s chats"), { open: a.open, capacity: a.capacity });
  return interpolate(ngettext("%(open)s chat", "%(open)s chats", a.open), { open: a.open });
}

/** The server refused the transfer: say why in the dialog too, and show the agents as they
 * are now (the one picked may have left meanwhile). */
export function transferRefused(text) {
  if (!transferDialog.open) return;
  transferErrorEl.hidden = false;
  transferErrorEl.textContent = text;
  loadDirectory().catch(function () { /* kept as is */ });
}

/** After a reconnect: the presence shown in an open dialog may be stale. */
export function refreshTransferAgents() {
  if (transferDialog.open) loadDirectory().catch(function () { /* shown as before */ });
}

function onSubmit(e) {
  e.preventDefault();
  if (transfer.to === null || transfer.conversation === null) return;
  var data = { to: transfer.to };
  var note = transferNote.value.trim();
  if (note) data.note = note;
  transferErrorEl.hidden = true;
  runAction("transfer", transfer.conversation, data);
}

export function wireTransfer() {
  transferForm.addEventListener("submit", onSubmit);
  $("[data-testid=transfer-cancel]").addEventListener("click", closeTransfer);
  transferDialog.addEventListener("close", function () { transfer.conversation = null; });
  whenDirectoryChanges(renderTransfer);
}
