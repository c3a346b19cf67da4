"""Customer identity for the widget: visitor tokens and their checks.

A visitor token is a signed, timestamped ``{inbox id, visitor id}``. It is not a secret key to
anything but that visitor's own conversations in that one inbox, and the server keeps no copy:
the contact row it names is the only state.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.translation import gettext

from helpdesk.conversations.models import Contact
from helpdesk.conversations.services import contact_get_or_create
from helpdesk.core.errors import (
    AuthenticationFailed,
    OriginNotAllowed,
    TokenExpired,
    TokenInvalid,
)
from helpdesk.core.languages import first_spoken, spoken_language
from helpdesk.core.ratelimit import rate_limit_hit
from helpdesk.tenants.models import BuiltInText, Inbox, Tenant
from helpdesk.tenants.texts import built_in_text
from helpdesk.widget.identity import identity_contact, identity_verify

TOKEN_SALT = "helpdesk.widget.visitor"
# How stale a contact's "last seen" may get before an authentication refreshes it.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Visitor:
    """An authenticated widget visitor: who they are and where they may talk."""

    tenant: Tenant
    inbox: Inbox
    contact: Contact


@dataclass(frozen=True)
class IssuedToken:
    token: str
    visitor: Visitor
    language: str  # the widget's, one of LANGUAGES
    greeting: str  # in that language


def inbox_for_key(inbox_key: object, *, origin: str | None) -> Inbox:
    """The active inbox with this public key, if the page's origin may use it."""
    if not valid_inbox_key(inbox_key):
        raise AuthenticationFailed(gettext("Unknown inbox."))
    inbox = (
        Inbox.objects.select_related("tenant")
        .filter(public_key=inbox_key, is_active=True, tenant__is_active=True)
        .first()
    )
    return inbox_check(inbox, origin=origin)


def valid_inbox_key(inbox_key: object) -> bool:
    return isinstance(inbox_key, str) and 1 <= len(inbox_key) <= 64


def inbox_check(inbox: Inbox | None, *, origin: str | None) -> Inbox:
    """``inbox`` (found by its key, active, of an active tenant) if the page may use it."""
    if inbox is None:
        raise AuthenticationFailed(gettext("Unknown inbox."))
    if not inbox.origin_allowed(origin):
        raise OriginNotAllowed()
    return inbox


def visitor_token_issue(
    *,
    inbox_key: object,
    origin: str | None,
    previous_token: object = None,
    client_ip: str,
    locale: object = None,
    browser_languages: object = (),
    identity: object = None,
) -> IssuedToken:
    """A token for a new visitor, or a renewed one for the visitor a valid previous token names,
    with the language the widget speaks to them (``widget_language``), which is also the one
    the helpdesk writes to them in from then on.

    With a signed ``identity`` (HelpdeskWidget.identify, helpdesk/widget/identity.py) the token
    names the tenant's contact of that user instead; a bad one is IdentityInvalid and issues
    nothing."""
    rate_limit_hit("visitor-token", f"ip:{client_ip}", settings.RATE_IP_VISITOR_TOKENS)
    inbox = inbox_for_key(inbox_key, origin=origin)
    language = widget_language(inbox, locale=locale, browser_languages=browser_languages)
    visitor = None
    if previous_token:
        try:
            visitor = _visitor_from_token(inbox, previous_token)
        except AuthenticationFailed:
            visitor = None
    if identity is not None:
        verified = identity_verify(inbox, identity)
        contact = identity_contact(
            inbox, verified, current=visitor.contact if visitor else None, language=language
        )
        visitor = Visitor(tenant=inbox.tenant, inbox=inbox, contact=contact)
    if visitor is None:
        contact = contact_get_or_create(tenant=inbox.tenant, language=language)
        visitor = Visitor(tenant=inbox.tenant, inbox=inbox, contact=contact)
    if visitor.contact.language != language:
        visitor.contact.language = language
        Contact.objects.filter(tenant=inbox.tenant, pk=visitor.contact.pk).update(language=language)
    greeting = inbox.greeting or built_in_text(
        tenant_id=inbox.tenant_id, key=BuiltInText.Key.GREETING, language=language
    )
    return IssuedToken(token=_sign(visitor), visitor=visitor, language=language, greeting=greeting)


def widget_language(inbox: Inbox, *, locale: object, browser_languages: object) -> str:
    """The first we speak of: the page's ``data-locale``, the inbox's language, the browser's
    languages (most wanted first), the site's LANGUAGE_CODE."""
    browser = browser_languages if isinstance(browser_languages, list | tuple) else ()
    return (
        spoken_language(locale)
        or spoken_language(inbox.language)
        or first_spoken(browser)
        or settings.LANGUAGE_CODE
    )


def visitor_authenticate(*, inbox_key: object, token: object, origin: str | None) -> Visitor:
    """The visitor a connection speaks for. Raises an AuthenticationFailed subclass otherwise."""
    inbox = inbox_for_key(inbox_key, origin=origin)
    visitor = _visitor_from_token(inbox, token)
    now = timezone.now()
    # Long-poll authenticates every request: a write each time would be a write per poll.
    if last_seen_stale(visitor.contact, now):
        Contact.objects.filter(tenant=visitor.tenant, pk=visitor.contact.pk).update(
            last_seen_at=now
        )
    return visitor


def last_seen_stale(contact: Contact, now) -> bool:
    return contact.last_seen_at is None or now - contact.last_seen_at >= LAST_SEEN_RESOLUTION


def visitor_token_renew(visitor: Visitor) -> str:
    return _sign(visitor)


def _sign(visitor: Visitor) -> str:
    return signing.dumps(
        {"i": visitor.inbox.pk, "v": str(visitor.contact.visitor_id)}, salt=TOKEN_SALT
    )


def _visitor_from_token(inbox: Inbox, token: object) -> Visitor:
    visitor_id = token_visitor_id(inbox, token_payload(token))
    contact = Contact.objects.filter(tenant=inbox.tenant, visitor_id=visitor_id).first()
    return visitor_check(inbox, contact)


def token_payload(token: object) -> dict:
    """What a visitor token says, if it is genuine and unexpired (no database needed)."""
    if not isinstance(token, str) or not 1 <= len(token) <= 512:
        raise TokenInvalid()
    try:
        payload = signing.loads(token, salt=TOKEN_SALT, max_age=settings.VISITOR_TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        raise TokenExpired() from None
    except signing.BadSignature:
        raise TokenInvalid() from None
    if not isinstance(payload, dict):
        raise TokenInvalid()
    return payload


def token_visitor_id(inbox: Inbox, payload: dict) -> uuid.UUID:
    """The visitor a token's payload names, if the token was issued for ``inbox``."""
    # A genuine token for another inbox (of this tenant or any other) is refused: the
    # visitor's conversations belong to the inbox that issued it.
    if payload.get("i") != inbox.pk:
        raise TokenInvalid()
    try:
        return uuid.UUID(str(payload.get("v")))
    except ValueError:
        raise TokenInvalid() from None


def visitor_check(inbox: Inbox, contact: Contact | None) -> Visitor:
    if contact is None:
        # The contact was deleted (e.g. on request): the token dies with it.
        raise TokenInvalid()
    return Visitor(tenant=inbox.tenant, inbox=inbox, contact=contact)
