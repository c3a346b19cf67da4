// Translations for the widget and the console: one catalog format, one lookup.
//
// The catalog is Django's JSON catalog (django.views.i18n.JSONCatalog, domain "djangojs"):
// {"catalog": {msgid: text or [plural forms]}, "plural": "C expression of n", "formats": {...}}.
// The server renders it into the page (console); the widget fetches it from
// /widget/api/i18n for the visitor's language (widget/catalog.js). Strings are marked in the code with gettext() / ngettext() so that
// `manage.py makemessages -d djangojs` finds them; until a catalog is loaded, and for a msgid
// it lacks, the English text is shown.

let catalog = {};
let locale = "en";

// Plural rules keyed by Django's "plural" expression (spaces and outer parentheses dropped):
// evaluating a catalog's expression would need eval(), which our Content-Security-Policy forbids.
const ONE_FORM = () => 0;
const ONE_OTHER = (n) => (n === 1 ? 0 : 1);
const PLURAL_RULES = {
  "n!=1": ONE_OTHER, // English, German, Spanish, ...
  "0": ONE_FORM, // Chinese, Japanese, Korean, ...
  "n>1": (n) => (n > 1 ? 1 : 0), // French, Brazilian Portuguese
};
let pluralIndex = ONE_OTHER;

function pluralKey(expression) {
  let key = String(expression).replace(/\s+/g, "");
  while (/^\(.*\)$/.test(key) && balanced(key.slice(1, -1))) key = key.slice(1, -1);
  return key;
}

function balanced(text) {
  let depth = 0;
  for (const ch of text) {
    if (ch === "(") depth++;
    else if (ch === ")" && --depth < 0) return false;
  }
  return depth === 0;
}

/** The rule for a catalog: its expression when we know it; otherwise, one form for a catalog
 * whose plural entries all have one (a language without plural forms), else "n != 1". */
function pluralRule(data) {
  const expression = data && data.plural;
  if (expression !== null && expression !== undefined && expression !== "") {
    const known = PLURAL_RULES[pluralKey(expression)];
    if (known) return known;
  }
  const entries = Object.values((data && data.catalog) || {}).filter(Array.isArray);
  return entries.length && entries.every((forms) => forms.length === 1) ? ONE_FORM : ONE_OTHER;
}

export function loadCatalog(data, language) {
  catalog = (data && data.catalog) || {};
  pluralIndex = pluralRule(data);
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
