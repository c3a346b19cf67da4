"""Small input checks shared by services and selectors."""

from typing import Any

from helpdesk.core.errors import NotFound

# Ids beyond a 64-bit key cannot exist; rejecting them early keeps the database from erroring.
MAX_ID = 2**63 - 1


def clean_id(value: Any, *, what: str = "Object") -> int:
    """An id from untrusted input. Anything that cannot be an id is simply not found."""
    # bool is an int subclass; True must not address row 1.
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise NotFound(f"{what} not found.")
    try:
        number = int(value)
    except ValueError:
        raise NotFound(f"{what} not found.") from None
    if not 1 <= number <= MAX_ID:
        raise NotFound(f"{what} not found.")
    return number
