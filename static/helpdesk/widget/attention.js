// New replies while the page's tab is hidden: a short beep (Web Audio, no sound file) and the
// unread count in the page's title ("(2) Original title"), put back when the tab is visible
// again. Each can be switched off per inbox (options.sound, options.title_unread); the customer
// can mute the sound with the button in the panel's header (remembered in localStorage).
// Only replies from an agent or the bot count: not the customer's own messages, not events.
import { gettext } from "../shared/i18n.js";
import { el, ui } from "./dom.js";
import { onOptions } from "./options.js";
import { messages, S } from "./state.js";
import { store } from "./storage.js";
import { toInt } from "./values.js";

const BURST_MS = 4000; // replies within this of the last beep make no new one

const ICON_SOUND =
  '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">' +
  '<path d="M11 5.1a1 1 0 0 0-1.64-.77L5.65 7.4H3a1 1 0 0 0-1 1v7.2a1 1 0 0 0 1 1h2.65l3.71 3.07A1 1 0 0 0 11 18.9' +
  'V5.1Zm3.54 2.44a1 1 0 0 1 1.41 0 6.3 6.3 0 0 1 0 8.92 1 1 0 1 1-1.41-1.42 4.3 4.3 0 0 0 0-6.08 1 1 0 0 1 0-1.42Z' +
  'm2.83-2.83a1 1 0 0 1 1.41 0 10.3 10.3 0 0 1 0 14.58 1 1 0 1 1-1.41-1.42 8.3 8.3 0 0 0 0-11.74 1 1 0 0 1 0-1.42Z"/></svg>';
const ICON_MUTED =
  '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">' +
  '<path d="M11 5.1a1 1 0 0 0-1.64-.77L5.65 7.4H3a1 1 0 0 0-1 1v7.2a1 1 0 0 0 1 1h2.65l3.71 3.07A1 1 0 0 0 11 18.9' +
  'V5.1Zm4.3 3.9a1 1 0 0 1 1.4 0l1.8 1.8 1.8-1.8a1 1 0 1 1 1.4 1.4L19.9 12l1.8 1.8a1 1 0 0 1-1.4 1.4l-1.8-1.8' +
  '-1.8 1.8a1 1 0 0 1-1.4-1.4l1.8-1.8-1.8-1.8a1 1 0 0 1 0-1.4Z"/></svg>';

const A = {
  sound: false, // the inbox allows the beep
  title: false, // the inbox allows the count in the title
  muted: store.get("sound") === "off", // the customer muted it
  toggle: null,
  audio: null,
  lastBeepAt: -Infinity,
  seen: {}, // conversation:seq of the replies already noticed
  titleSet: null, // the title we wrote, and the page's own under it
  baseTitle: null,
};

function hidden() {
  return document.visibilityState === "hidden";
}

/** Watch the messages for new replies and the tab for coming back; called once at start. */
export function mountAttention() {
  if (!ui.list || A.observer) return;
  A.observer = new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.nodeType !== 1) continue;
        if (node.getAttribute("data-testid") === "message") noticed(node);
        else if (node.querySelectorAll) node.querySelectorAll("[data-testid=message]").forEach(noticed);
      }
    }
  });
  A.observer.observe(ui.list, { childList: true, subtree: true });
  document.addEventListener("visibilitychange", () => {
    if (!hidden()) restoreTitle();
  });
  onOptions((options) => {
    A.sound = options.sound !== false;
    A.title = options.title_unread !== false;
    if (!A.title) restoreTitle();
    showToggle();
  });
}

function isReply(node) {
  const sender = node.getAttribute("data-sender");
  return (
    (sender === "agent" || sender === "bot") &&
    node.getAttribute("data-kind") !== "event" &&
    !!node.getAttribute("data-seq")
  );
}

function noticed(node) {
  if (!isReply(node)) return;
  const key = S.conversation + ":" + node.getAttribute("data-seq");
  if (A.seen[key]) return; // moved or redrawn, not new
  A.seen[key] = true;
  if (!hidden()) return;
  const seq = toInt(node.getAttribute("data-seq"));
  if (seq != null && seq <= lastRead()) return; // history the customer has read
  if (A.title) showCount();
  if (A.sound && !A.muted) beepOncePerBurst();
}

function lastRead() {
  return toInt(store.get("read:" + S.conversation)) || 0;
}

/** Replies the customer has not read: the seqs after the last read one, agent's and bot's. */
function unreadReplies() {
  const read = lastRead();
  let n = 0;
  for (const seq in messages.bySeq) {
    const item = messages.bySeq[seq];
    const reply = (item.sender === "agent" || item.sender === "bot") && item.kind !== "event";
    if (reply && item.seq > read) n++;
  }
  return n;
}

function showCount() {
  const n = unreadReplies();
  if (!n) return;
  // The page may have changed its title since we wrote ours: keep what it wrote.
  if (A.titleSet === null || document.title !== A.titleSet) A.baseTitle = document.title;
  A.titleSet = "(" + (n > 99 ? "99+" : n) + ") " + A.baseTitle;
  document.title = A.titleSet;
}

function restoreTitle() {
  if (A.titleSet !== null && document.title === A.titleSet) document.title = A.baseTitle;
  A.titleSet = null;
  A.baseTitle = null;
}

function beepOncePerBurst() {
  const now = Date.now();
  if (now - A.lastBeepAt < BURST_MS) return;
  A.lastBeepAt = now;
  beep();
}

/** A short two-tone chime. Browsers start audio only after the page had a user gesture: until
 *  then nothing is created, and a refusal never throws out of here. */
function beep() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  const activation = navigator.userActivation;
  if (!A.audio && activation && !activation.hasBeenActive) return; // would start suspended
  try {
    if (!A.audio) A.audio = new Context();
    const audio = A.audio;
    if (audio.state === "suspended" && audio.resume) {
      const resumed = audio.resume();
      if (resumed && resumed.catch) resumed.catch(() => {});
    }
    const t = audio.currentTime;
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.type = "sine";
    oscillator.frequency.setValueAtTime(880, t);
    oscillator.frequency.setValueAtTime(1318.5, t + 0.1);
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.12, t + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.32);
    oscillator.connect(gain);
    gain.connect(audio.destination);
    oscillator.start(t);
    oscillator.stop(t + 0.34);
  } catch (e) {
    /* audio blocked or unavailable: the title still says it */
  }
}

/** The header's mute button: there only when the inbox plays a sound. */
function showToggle() {
  if (!A.sound) {
    if (A.toggle) A.toggle.hidden = true;
    return;
  }
  if (!A.toggle) {
    A.toggle = el("button", "sound-toggle", { type: "button", "data-testid": "sound-toggle" });
    A.toggle.addEventListener("click", () => {
      A.muted = !A.muted;
      if (A.muted) store.set("sound", "off");
      else store.del("sound");
      labelAttention();
    });
    ui.close.parentNode.insertBefore(A.toggle, ui.close);
  }
  A.toggle.hidden = false;
  labelAttention();
}

/** The mute button's icon and label, in the current language. */
export function labelAttention() {
  if (!A.toggle) return;
  A.toggle.innerHTML = A.muted ? ICON_MUTED : ICON_SOUND; // constant markup
  A.toggle.setAttribute("data-muted", A.muted ? "true" : "false");
  const label = A.muted ? gettext("Turn on the sound for new replies") : gettext("Turn off the sound for new replies");
  A.toggle.setAttribute("aria-label", label);
  A.toggle.setAttribute("title", label);
}
