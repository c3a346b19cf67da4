"""Checks on a bot's endpoint URL: its form (the model field's validator) and the addresses it may
reach (the admin form's early check, and the policy the provider enforces at connect time)."""

import functools
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from helpdesk.core.netguard import AddressPolicy, AddressRefused, check_addresses, resolve_sync

CHAT_COMPLETIONS_SUFFIX = "/chat/completions"


def normalise_endpoint(url: str) -> str:
    """The base URL the SDK wants: people often paste the full chat-completions URL (as the
    seed's TOML does), and the SDK appends /chat/completions itself."""
    url = url.strip().rstrip("/")
    if url.lower().endswith(CHAT_COMPLETIONS_SUFFIX):
        url = url[: -len(CHAT_COMPLETIONS_SUFFIX)].rstrip("/")
    return url


def validate_endpoint(url: str) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise ValidationError(
            _("Not a valid URL (%(error)s)."), code="invalid", params={"error": exc}
        ) from None
    if parts.scheme not in {"http", "https"}:
        raise ValidationError(
            _("The endpoint must start with http:// or https://, e.g. https://api.openai.com/v1."),
            code="scheme",
        )
    if not parts.hostname:
        raise ValidationError(_("The endpoint has no host name."), code="invalid")
    if parts.username or parts.password:
        # A secret in the URL would be shown on the page and in logs; the key field is not.
        raise ValidationError(
            _("Put credentials in the API key field, not in the URL."), code="credentials"
        )
    if parts.query or parts.fragment:
        raise ValidationError(_("The endpoint takes no ?query or #fragment."), code="invalid")


@functools.cache
def _policy(entries: tuple[str, ...]) -> AddressPolicy:
    return AddressPolicy.from_entries(entries)


def endpoint_policy(url: str) -> AddressPolicy | None:
    """The addresses a bot whose endpoint is ``url`` may connect to, or ``None`` when ``url`` is
    the operator's own endpoint (empty: OPENAI_BASE_URL, else OpenAI), which is trusted.

    A tenant's URL gets public addresses plus what the operator allowed in
    AI_ALLOWED_INTERNAL_HOSTS. Typing the operator's exact OPENAI_BASE_URL reaches nothing that
    leaving the field empty would not, so it is trusted too (``make demo`` stores it).
    """
    if not url or normalise_endpoint(url) == normalise_endpoint(settings.OPENAI_BASE_URL):
        return None
    return _policy(tuple(settings.AI_ALLOWED_INTERNAL_HOSTS))


def validate_endpoint_address(url: str) -> None:
    """Refuse, early and clearly, an endpoint whose host is internal now.

    Only a first line: the provider checks every connection as it opens, so a name that changes
    its address later is refused then. A name that does not resolve here passes; the connection
    will tell.
    """
    policy = endpoint_policy(url)
    if policy is None:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        addresses = resolve_sync(host, parts.port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError):
        return
    try:
        check_addresses(host, addresses, policy)
    except AddressRefused as refused:
        raise ValidationError(
            _(
                "This address is on an internal network (%(detail)s). A bot may only reach "
                "public addresses, unless the server's operator allows this host."
            ),
            code="internal_address",
            params={"detail": refused.detail},
        ) from None
