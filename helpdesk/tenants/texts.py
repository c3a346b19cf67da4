"""What the helpdesk says by itself to a customer (the greeting, the bot's last word, the
handoff notice), in the customer's language: the tenant's own wording for that language
(BuiltInText, in the admin) or ours from the catalogs."""

from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from helpdesk.core.languages import supported_language
from helpdesk.tenants.models import BuiltInText

Key = BuiltInText.Key

DEFAULTS = {
    Key.GREETING: gettext_noop("Hi! How can we help?"),
    Key.FALLBACK: gettext_noop(
        "Sorry, I can't answer that right now. I'm passing you to a member of our team, "
        "who will reply here shortly."
    ),
    Key.NO_KNOWLEDGE: gettext_noop(
        "I couldn't find that in our help articles, so I'm passing you to a member of our "
        "team, who will reply here shortly."
    ),
    Key.HANDOFF: gettext_noop(
        "You're being connected to a member of our team. They'll reply here shortly."
    ),
}


def built_in_text(*, tenant_id: int, key: str, language: str) -> str:
    """``key``'s text in ``language`` (any code; one we do not speak gets the site's)."""
    language = supported_language(language)
    own = (
        BuiltInText.objects.filter(tenant_id=tenant_id, key=key, language=language)
        .values_list("text", flat=True)
        .first()
    )
    if own:
        return own
    return default_text(key, language)


def default_text(key: str, language: str) -> str:
    with translation.override(supported_language(language)):
        return gettext(DEFAULTS[Key(key)])


def is_a_default(key: str, text: str) -> bool:
    """``text`` is our wording of ``key`` in one of the languages (so not the tenant's own)."""
    from django.conf import settings

    return any(text.strip() == default_text(key, code) for code, _ in settings.LANGUAGES)
