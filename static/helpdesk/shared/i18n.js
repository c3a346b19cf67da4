// Translations for the widget and the console: one catalog format, one lookup.
//
// The catalog is Django's JSON catalog (django.views.i18n.JSONCatalog, domain "djangojs"):
// {"catalog": {msgid: text or [plural forms]}, "plural": "C expression of n", "formats": {...}}.
// The server renders it into the page (console); the widget fetches it from
// /widget/api/i18n for the visitor's language (widget/catalog.js). Strings are marked in the code with gettext() / ngettext() so that
// `manage.py makemessages -d djangojs` finds them; until a catalog is loaded, and for a msgid
// it lacks, the English text is shown.

let catalog = {};
let pluralIndex = (n) => (n === 1 ? 0 : 1);
let locale = "en";

// Plural rules of the languages we ship, keyed by Django's "plural" expression: evaluating a
// catalog's expression would need eval(), which our Content-Security-Policy forbids.
const PLURAL_RULES = {
  "(n != 1)": (n) => (n === 1 ? 0 : 1),
  "0": () => 0,
};

export function loadCatalog(data, language) {
  catalog = (data && data.catalog) || {};
  const rule = data && data.plural ? PLURAL_RULES[data.plural.replace(/\s+/g, " ").trim()] : null;
  // No plural expression: a language without plural forms (Chinese).
  pluralIndex = rule || (data && data.plural ? PLURAL_RULES["(n != 1)"] : PLURAL_RULES["0"]);
  locale = language || "en";
}

export function currentLocale() {
  return locale;
}

export function gettext(msgid) {
  const value = catalog[msgid];
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value[0];
  return msgid;
}

export function ngettext(singular, plural, count) {
  const value = catalog[singular];
  if (Array.isArray(value)) {
    const form = value[pluralIndex(count)];
    if (typeof form === "string") return form;
  }
  return count === 1 ? singular : plural;
}

// interpolate("%(count)s new", {count: 3}) or interpolate("%s of %s", [1, 2]).
export function interpolate(text, values) {
  if (Array.isArray(values)) {
    let i = 0;
    return text.replace(/%s/g, () => String(values[i++]));
  }
  return text.replace(/%\((\w+)\)s/g, (match, name) =>
    Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : match,
  );
}
