"""Small input checks shared by services and selectors."""

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.functional import Promise

from helpdesk.core.errors import InvalidCharacters, NotFound

# Ids beyond a 64-bit key cannot exist; rejecting them early keeps the database from erroring.
MAX_ID = 2**63 - 1


def clean_id(value: Any, *, not_found: str | Promise | None = None) -> int:
    """An id from untrusted input. Anything that cannot be an id is simply not found.

    ``not_found`` is the whole message of the NotFound raised, marked for translation
    (``gettext_lazy("Conversation not found.")``), a whole sentence rather than a noun glued to
    " not found." (Chinese puts the noun elsewhere); it is translated only when raised.
    Without it, the message is the generic "Not found.".
    """
    # bool is an int subclass; True must not address row 1.
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise NotFound(not_found)
    try:
        number = int(value)
    except ValueError:
        raise NotFound(not_found) from None
    if not 1 <= number <= MAX_ID:
        raise NotFound(not_found)
    return number


def storable_problem(text: str) -> str | None:
    """Why ``text`` cannot go into PostgreSQL (a NUL or a lone surrogate), or None.

    Both fail inside the database (or its driver) on any query that carries them, as values to
    store and as values to compare, so every input is checked for them before it is used.
    """
    if "\x00" in text:
        return "NUL character"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "lone surrogate"
    return None


def storable_text(value: str, *, field: str | None = None) -> str:
    """``value`` itself when PostgreSQL can store it; ``InvalidCharacters`` (naming ``field``)
    when it holds a NUL or a lone surrogate."""
    if storable_problem(value):
        raise InvalidCharacters(**({"field": field} if field else {}))
    return value


def check_storable(value: Any, *, field: str | None = None) -> None:
    """Refuse a JSON-like ``value`` with unstorable text anywhere in it: strings, dict keys
    included, at any depth of dicts, lists and tuples. Other values are left alone.

    jsonb refuses ``\\u0000`` in keys and values alike, and metadata nests as deep as a client
    makes it, so the walk keeps its own stack rather than recursing.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            storable_text(item, field=field)
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)


def validate_storable(value: Any) -> None:
    """``check_storable`` as a Django validator, for form fields whose cleaned value is data
    (a JSON field's text has no NUL; its decoded value may)."""
    try:
        check_storable(value)
    except InvalidCharacters as error:
        raise ValidationError(error.message, code=error.code) from None
