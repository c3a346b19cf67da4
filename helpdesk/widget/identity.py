"""Verified identity: a tenant's site tells the widget who its customer is
(``HelpdeskWidget.identify({id, name, email}, signature)``, docs/widget.md).

The signature is the hex HMAC-SHA256 of the user id with the inbox's ``identity_secret``,
computed by the tenant's server; only it and the helpdesk know the secret. A valid one makes
the visitor the tenant's contact with that ``external_id`` (the same on every device), so
their history follows them. Anything else is refused with ``identity_invalid`` and changes
no contact: an identity is never merged into a contact it was not signed for.
"""

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from helpdesk.conversations.announcements import change_announce, contact_changed
from helpdesk.conversations.models import Contact, Conversation
from helpdesk.conversations.serializers import conversation_payload
from helpdesk.core.errors import IdentityInvalid
from helpdesk.core.validation import storable_problem
from helpdesk.realtime.events import agents_group, envelope, publish_on_commit
from helpdesk.tenants.models import Inbox

ID_MAX = 200  # Contact.external_id
NAME_MAX = 200
EMAIL_MAX = 254
SIGNATURE_MAX = 128


@dataclass(frozen=True)
class Identity:
    id: str
    name: str
    email: str


def identity_signature(secret: str, user_id: str) -> str:
    """What the tenant's server computes: hex HMAC-SHA256(secret, user id)."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def identity_verify(inbox: Inbox, identity: Any) -> Identity:
    """``identity`` ({id, name, email, signature}) if its signature is ``inbox``'s; else
    IdentityInvalid. Nothing is looked up before the signature has been checked."""
    if not isinstance(identity, dict):
        raise IdentityInvalid(gettext("The identity must be an object."), field="identity")
    user_id = identity.get("id")
    if isinstance(user_id, int) and not isinstance(user_id, bool):
        user_id = str(user_id)
    if not isinstance(user_id, str) or not user_id.strip() or user_id != user_id.strip():
        raise IdentityInvalid(gettext("The identity has no user id."), field="id")
    if len(user_id) > ID_MAX or storable_problem(user_id):
        raise IdentityInvalid(
            gettext("The user id is longer than %(limit)d characters or not text.")
            % {"limit": ID_MAX},
            field="id",
        )
    signature = identity.get("signature")
    if not isinstance(signature, str) or not signature or len(signature) > SIGNATURE_MAX:
        raise IdentityInvalid(gettext("The identity is not signed."), field="signature")
    expected = identity_signature(inbox.identity_secret, user_id)
    if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
        raise IdentityInvalid(
            gettext("The identity's signature is wrong for this inbox."), field="signature"
        )
    return Identity(
        id=user_id,
        name=_text(identity.get("name"), "name", NAME_MAX),
        email=_email(identity.get("email")),
    )


def _text(value: Any, field: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or storable_problem(value):
        raise IdentityInvalid(gettext("The identity's %(field)s must be text.") % {"field": field},
                              field=field)  # fmt: skip
    value = " ".join(value.split())
    if len(value) > limit:
        raise IdentityInvalid(
            gettext("The identity's %(field)s is longer than %(limit)d characters.")
            % {"field": field, "limit": limit},
            field=field,
        )
    return value


def _email(value: Any) -> str:
    email = _text(value, "email", EMAIL_MAX)
    if email:
        try:
            EmailValidator()(email)
        except ValidationError:
            raise IdentityInvalid(
                gettext("The identity's e-mail is not an e-mail address."), field="email"
            ) from None
    return email


def identity_contact(
    inbox: Inbox, identity: Identity, *, current: Contact | None, language: str
) -> Contact:
    """The tenant's contact for a verified ``identity``: the one with its external id; else the
    visitor's ``current`` contact if it is anonymous (so the conversation under way goes on);
    else a new one. Its name and e-mail become the identity's (never blanked)."""
    tenant = inbox.tenant
    try:
        with transaction.atomic():
            contact = _identified(tenant, identity, current, language)
            changed = _apply(contact, identity)
            if changed:
                contact.save(update_fields=changed)
                _announce(contact)
    except IntegrityError:
        # Another request created (or upgraded) this user's contact at the same moment.
        contact = Contact.objects.get(tenant=tenant, external_id=identity.id)
    return contact


def _identified(tenant, identity: Identity, current: Contact | None, language: str) -> Contact:
    contact = (
        Contact.objects.select_for_update().filter(tenant=tenant, external_id=identity.id).first()
    )
    if contact is not None:
        return contact
    if current is not None:
        # Locked and read again: only a contact still anonymous is upgraded in place.
        anonymous = (
            Contact.objects.select_for_update()
            .filter(tenant=tenant, pk=current.pk, external_id="")
            .first()
        )
        if anonymous is not None:
            anonymous.external_id = identity.id
            anonymous.save(update_fields=["external_id"])
            return anonymous
    return Contact.objects.create(tenant=tenant, external_id=identity.id, language=language)


def _apply(contact: Contact, identity: Identity) -> list[str]:
    changed = []
    for field in ("name", "email"):
        value = getattr(identity, field)
        if value and getattr(contact, field) != value:
            setattr(contact, field, value)
            changed.append(field)
    return changed


def _announce(contact: Contact) -> None:
    """Webhooks hear of the change; agents' lists show the new name on the contact's open
    conversations."""
    change_announce(contact_changed(contact))
    open_conversations = Conversation.objects.filter(
        tenant_id=contact.tenant_id, contact=contact, status__in=Conversation.OPEN_STATUSES
    ).select_related("inbox", "assignee")
    for conversation in open_conversations[:20]:
        conversation.contact = contact
        publish_on_commit(
            agents_group(contact.tenant_id),
            envelope(
                "conversation.updated",
                conversation_id=conversation.pk,
                seq=conversation.last_seq,
                data=conversation_payload(conversation),
            ),
        )
