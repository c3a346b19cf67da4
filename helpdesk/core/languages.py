"""Which of the languages we speak (settings.LANGUAGES) serves a person: the widget's visitor,
an agent, the customer of a conversation a worker writes to."""

from collections.abc import Iterable

from django.conf import settings
from django.utils import translation

# A browser sends a handful of languages; more is noise or an attack on our loop.
MAX_CANDIDATES = 10


def spoken_language(code: object) -> str | None:
    """The language of LANGUAGES that serves ``code`` (zh-CN → zh-hans, en-GB → en), or None."""
    if not isinstance(code, str) or not code.strip() or len(code) > 35:
        return None
    try:
        return translation.get_supported_language_variant(code.strip().lower())
    except LookupError:
        return None


def supported_language(code: object) -> str:
    """``code``'s language, or the site's LANGUAGE_CODE for anything else (a missing or
    malformed code included)."""
    return spoken_language(code) or settings.LANGUAGE_CODE


def first_spoken(candidates: Iterable[object]) -> str | None:
    """The first candidate we speak, in the order given (most wanted first)."""
    for position, code in enumerate(candidates):
        if position >= MAX_CANDIDATES:
            break
        language = spoken_language(code)
        if language:
            return language
    return None


def language_choices() -> list[tuple[str, str]]:
    """For a model or form field whose empty value means "the browser's"."""
    return list(settings.LANGUAGES)
