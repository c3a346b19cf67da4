// The tenant's agents: their names, and the directory (presence, availability, load) that the
// transfer dialog picks from.
import { api } from "./api.js";
import { boot, ME } from "./boot.js";
import { gettext, interpolate } from "../shared/i18n.js";

const agentNames = new Map();
(boot.agents || []).forEach(function (a) { agentNames.set(a.id, a.name); });

/** user id -> {id, name, role, availability, online, open, capacity} */
export const directory = new Map();
(boot.agents || []).forEach(function (a) { directory.set(a.id, Object.assign({ availability: null, online: null }, a)); });
let directoryLoaded = false;
let directoryLoading = null;
const listeners = [];

export function agentName(id, fallback) {
  if (id === null || id === undefined) return null;
  if (id === ME.id) return gettext("You");
  return agentNames.get(id) || fallback || interpolate(gettext("Agent #%(id)s"), { id: id });
}

/** Call `listener` whenever the directory changed (loaded, or someone's presence). */
export function whenDirectoryChanges(listener) { listeners.push(listener); }

function changed() { listeners.forEach(function (listener) { listener(); }); }

/** Whether the directory holds the server's answer (not only the names from the page). */
export function directoryReady() { return directoryLoaded; }

/** Presence changes were missed (the socket was down): ask again when it is next needed. */
export function forgetDirectory() { directoryLoaded = false; }

export function loadDirectory() {
  if (directoryLoading) return directoryLoading;
  directoryLoading = api(boot.urls.agents).then(function (body) {
    var seen = new Set();
    body.agents.forEach(function (a) {
      seen.add(a.id);
      directory.set(a.id, Object.assign(directory.get(a.id) || {}, a));
      agentNames.set(a.id, a.name);
    });
    directory.forEach(function (a, id) { if (!seen.has(id)) directory.delete(id); });
    directoryLoaded = true;
  }).finally(function () { directoryLoading = null; changed(); });
  return directoryLoading;
}

/** A `presence` frame about an agent. */
export function onAgentPresence(data) {
  if (typeof data.id !== "number") return;
  var a = directory.get(data.id) || { id: data.id, name: data.name || agentName(data.id) };
  if (typeof data.online === "boolean") a.online = data.online;
  if (typeof data.availability === "string") a.availability = data.availability;
  if (data.name) { a.name = data.name; agentNames.set(data.id, data.name); }
  directory.set(data.id, a);
  changed();
}
