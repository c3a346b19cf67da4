"""Contacts made and changed by programs (the REST API): validated here, for every caller."""

from typing import Any

import orjson
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from helpdesk.conversations.announcements import change_announce, contact_changed
from helpdesk.conversations.models import Contact
from helpdesk.core.errors import InvalidInput, NotFound
from helpdesk.core.validation import check_storable, clean_id
from helpdesk.tenants.audit import audit
from helpdesk.tenants.models import AuditEntry, Tenant

METADATA_MAX_BYTES = 8192
FIND_LIMIT = 50
_TEXT_FIELDS = {"name": 200, "external_id": 200}


class ContactConflict(InvalidInput):
    code = "conflict"
    http_status = 409


def contact_get(*, tenant: Tenant, contact_id: Any) -> Contact:
    contact = Contact.objects.filter(
        tenant=tenant, pk=clean_id(contact_id, not_found=gettext("Contact not found."))
    ).first()
    if contact is None:
        raise NotFound(gettext("Contact not found."))
    return contact


def contacts_find(*, tenant: Tenant, email: str | None = None, external_id: str | None = None):
    """The tenant's contacts with this e-mail (any case) or external id; at most FIND_LIMIT."""
    if not email and not external_id:
        raise InvalidInput(gettext("Give an email or an external_id to look for."), field="email")
    contacts = Contact.objects.filter(tenant=tenant)
    if email:
        contacts = contacts.filter(email__iexact=_text(email, "email", 254))
    if external_id:
        contacts = contacts.filter(external_id=_text(external_id, "external_id", 200))
    return list(contacts.order_by("pk")[:FIND_LIMIT])


def contact_create(*, tenant: Tenant, **fields: Any) -> Contact:
    return _save(Contact(tenant=tenant), fields)


def contact_update(*, tenant: Tenant, contact_id: Any, **fields: Any) -> Contact:
    return _save(contact_get(tenant=tenant, contact_id=contact_id), fields)


def contact_delete(*, tenant: Tenant, contact_id: Any, actor=None, actor_label: str = "") -> None:
    """The contact with their conversations and messages (an erasure request), audited."""
    contact = contact_get(tenant=tenant, contact_id=contact_id)
    with transaction.atomic():
        audit(
            tenant=tenant,
            action=AuditEntry.Action.CONTACT_DELETED,
            subject=str(contact),
            actor=actor,
            actor_label=actor_label,
            contact_id=contact.pk,
        )
        contact.delete()


def _save(contact: Contact, fields: dict[str, Any]) -> Contact:
    for name, limit in _TEXT_FIELDS.items():
        if fields.get(name) is not None:
            setattr(contact, name, _text(fields[name], name, limit).strip())
    if fields.get("email") is not None:
        contact.email = _email(fields["email"])
    if fields.get("metadata") is not None:
        contact.metadata = _metadata(fields["metadata"])
    try:
        with transaction.atomic():
            contact.save()
            change_announce(contact_changed(contact))  # to webhooks, once committed
    except IntegrityError:
        raise ContactConflict(
            gettext("Another contact already has this external_id."), field="external_id"
        ) from None
    return contact


def _text(value: Any, field: str, limit: int) -> str:
    if not isinstance(value, str):
        raise InvalidInput(gettext("%(field)s must be a string.") % {"field": field}, field=field)
    check_storable(value, field=field)
    if len(value) > limit:
        raise InvalidInput(
            gettext("%(field)s is longer than %(limit)d characters.")
            % {"field": field, "limit": limit},
            field=field,
        )
    return value


def _email(value: Any) -> str:
    email = _text(value, "email", 254).strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise InvalidInput(gettext("email is not an e-mail address."), field="email") from None
    return email


def _metadata(value: Any) -> dict:
    if not isinstance(value, dict):
        raise InvalidInput(gettext("metadata must be an object."), field="metadata")
    check_storable(value, field="metadata")
    if len(orjson.dumps(value)) > METADATA_MAX_BYTES:
        raise InvalidInput(
            gettext("metadata is larger than %(limit)d bytes.") % {"limit": METADATA_MAX_BYTES},
            field="metadata",
        )
    return value
