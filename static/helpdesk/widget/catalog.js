// The widget's translations. The server says which language the visitor gets, with their token
// (the page's data-locale, the inbox's language, the browser's languages, English: see
// widget_language in helpdesk/widget/services.py); the catalog for it is then fetched from
// /widget/api/i18n (public and cached: the same for every inbox and page). English needs none:
// the widget's own texts are English.
import { TIMINGS } from "./config.js";
import { request } from "./http.js";
import { useCatalog } from "./panel.js";

const ENGLISH = { catalog: {}, locale: "en" };
let current = "en";

/** What the browser prefers, most wanted first, for the token request. */
export function browserLanguages() {
  const languages = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
  return Array.prototype.slice.call(languages, 0, 5).filter((code) => typeof code === "string");
}

/** Speak ``language`` (a code of the server's LANGUAGES) from now on. */
export function useLocale(language) {
  if (typeof language !== "string" || !language || language === current) return;
  current = language;
  if (/^en\b/i.test(language)) {
    useCatalog(ENGLISH);
    return;
  }
  request(
    "GET",
    "/widget/api/i18n?locale=" + encodeURIComponent(language),
    null,
    false,
    TIMINGS.sendTimeoutMs,
    null,
  )
    .then((r) => {
      if (r.ok && language === current) useCatalog(r.json);
    })
    .catch(() => {}); // untranslated, not broken: English shows
}
