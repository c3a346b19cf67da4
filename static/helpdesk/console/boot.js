// What the page hands the console (#console-bootstrap), read once, and the settings every part
// shares. The translation catalog is loaded here, as the module graph is evaluated: the console
// looks its labels up when it draws them, which is after that.
import { loadCatalog } from "../shared/i18n.js";

export const boot = JSON.parse(document.getElementById("console-bootstrap").textContent);
export const ME = boot.agent;
export const VIEWS = boot.views || ["bot", "queued", "mine", "follow_up", "all"];
export const MAX_CHARS = boot.messageMaxChars || 4000;
// How long an action, or an availability change, waits for the server's answer.
export const ACTION_TIMEOUT_MS = 15000;

if (boot.i18n) loadCatalog(boot.i18n, boot.language);
