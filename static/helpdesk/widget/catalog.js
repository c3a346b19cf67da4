// The widget's translations, fetched once at start for the visitor's language from
// /widget/api/i18n (public and cached: the same for every inbox and page). English needs none:
// the widget's own texts are English.
import { TIMINGS } from "./config.js";
import { request } from "./http.js";
import { useCatalog } from "./panel.js";

function visitorLanguage() {
  const languages = navigator.languages && navigator.languages.length ? navigator.languages : [];
  return languages[0] || navigator.language || "en";
}

export function fetchCatalog() {
  const language = visitorLanguage();
  if (/^en\b/i.test(language)) return;
  request(
    "GET",
    "/widget/api/i18n?locale=" + encodeURIComponent(language),
    null,
    false,
    TIMINGS.sendTimeoutMs,
    null,
  )
    .then((r) => {
      if (r.ok) useCatalog(r.json);
    })
    .catch(() => {}); // untranslated, not broken: English shows
}
