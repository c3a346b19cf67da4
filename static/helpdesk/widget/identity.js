// Verified identity (docs/widget.md, "Verified identity"): HelpdeskWidget.identify() makes the
// visitor the site's own user, signed by the site's server (HMAC-SHA256 of the user id with the
// inbox's identity secret); logout() forgets them and starts a fresh anonymous visitor. Pages
// rendered on the server may give the same in attributes of the script tag instead:
// data-user-id, data-user-name, data-user-email and data-user-hash (the signature).
import { ui } from "./dom.js";
import { clearRetryTimer, saveOutbox } from "./outbox.js";
import { updateUI } from "./panel.js";
import { forgetPrechat } from "./prechat.js";
import { newGroup } from "./render.js";
import { forgetToken, messages, outbox, S } from "./state.js";
import { obtainToken } from "./token.js";
import { connect } from "./transport.js";
import { clearAllRemoteTyping } from "./typing.js";

const ID_MAX = 200;
const SIGNATURE_MAX = 128;

function refuse(code, message, onError) {
  if (window.console) console.error("[helpdesk] identify refused: " + code + (message ? " (" + message + ")" : ""));
  if (onError) {
    try {
      onError({ code: code, message: message || "" });
    } catch (e) {
      /* the page's callback failed: not ours to handle */
    }
  }
  return { ok: false, code: code };
}

/** {id, name, email, signature} as sent, or null when the arguments cannot be an identity. */
function identityOf(user, signature) {
  if (!user || typeof user !== "object") return null;
  let id = user.id;
  if (typeof id === "number" && isFinite(id)) id = String(id);
  if (typeof id !== "string" || !id || id.length > ID_MAX) return null;
  if (typeof signature !== "string" || !signature || signature.length > SIGNATURE_MAX) return null;
  const identity = { id: id, signature: signature };
  if (typeof user.name === "string" && user.name.trim()) identity.name = user.name.trim();
  if (typeof user.email === "string" && user.email.trim()) identity.email = user.email.trim();
  return identity;
}

/** HelpdeskWidget.identify(user, signature, {onError}): resolves {ok: true, visitor} or
 *  {ok: false, code}; a refusal is logged, given to ``onError`` and leaves the visitor as
 *  they were (anonymous, say). */
export function identify(user, signature, options) {
  const onError = options && typeof options.onError === "function" ? options.onError : null;
  const identity = identityOf(user, signature);
  if (!identity) return Promise.resolve(refuse("identity_invalid", "id and signature are required", onError));
  const before = S.visitor;
  return obtainToken(identity).then((r) => {
    if (r === true) {
      S.identityUser = { name: identity.name || "", email: identity.email || "" }; // prechat.js fills these in
      // Another person than the one on screen (another user, or a logout in between).
      if (before && S.visitor !== before) clearScreen();
      connect(); // the connection speaks for the contact the new token names
      return { ok: true, visitor: S.visitor };
    }
    if (r && typeof r === "object" && r.refused) return refuse(r.refused, r.message, onError);
    return refuse(r === "neterr" ? "network_error" : "unavailable", "", onError);
  });
}

/** HelpdeskWidget.logout(): forget the visitor (token, unsent messages, pre-chat answers) and
 *  go on as a new anonymous one, without reloading the page. */
export function logout() {
  forgetToken();
  S.visitor = null;
  S.identityUser = null;
  forgetPrechat();
  clearScreen();
  connect(); // without a token: a new visitor's first, then the connection
  return Promise.resolve({ ok: true });
}

/** The identity the script tag's attributes give, or null. */
export function pageIdentity() {
  const script = document.querySelector("script[data-inbox][data-user-id]");
  if (!script) return null;
  return identityOf(
    {
      id: script.getAttribute("data-user-id") || "",
      name: script.getAttribute("data-user-name") || "",
      email: script.getAttribute("data-user-email") || "",
    },
    script.getAttribute("data-user-hash") || "",
  );
}

/** main.js: the first token, as the tag's identity when it has one (refused: anonymous). */
export function firstToken() {
  const identity = pageIdentity();
  if (!identity) return obtainToken();
  return obtainToken(identity).then((r) => {
    if (r && typeof r === "object" && r.refused) {
      refuse(r.refused, r.message, null);
      return obtainToken();
    }
    if (r === true) S.identityUser = { name: identity.name || "", email: identity.email || "" };
    return r;
  });
}

/** Nothing of the previous visitor stays on screen or in storage. */
function clearScreen() {
  for (const item of outbox) clearRetryTimer(item);
  outbox.length = 0;
  saveOutbox();
  messages.bySeq = {};
  messages.byId = {};
  messages.byClient = {};
  if (ui.list) {
    const groups = ui.list.querySelectorAll(".group");
    for (let i = 0; i < groups.length; i++) groups[i].parentNode.removeChild(groups[i]);
    newGroup(false);
  }
  S.conversation = null;
  S.lastSeq = 0;
  S.readSent = 0;
  S.status = null;
  S.assignee = null;
  clearAllRemoteTyping();
  updateUI();
}
