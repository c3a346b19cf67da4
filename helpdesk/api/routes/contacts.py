"""/api/v1/contacts: create, find by e-mail or external id, read, update, delete."""

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from helpdesk.api.auth import key_label, need
from helpdesk.conversations.contacts import (
    contact_create,
    contact_delete,
    contact_get,
    contact_update,
    contacts_find,
)
from helpdesk.conversations.models import Contact
from helpdesk.conversations.retention import contact_export

router = Router(tags=["contacts"])


class ContactOut(Schema):
    id: int
    name: str
    email: str
    external_id: str
    visitor_id: str
    language: str
    metadata: dict
    created_at: datetime
    last_seen_at: datetime | None


class ContactIn(Schema):
    name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=254)
    external_id: str | None = Field(None, max_length=200)
    metadata: dict | None = None


class ContactFind(Schema):
    email: str | None = Field(None, max_length=254)
    external_id: str | None = Field(None, max_length=200)


class ContactList(Schema):
    contacts: list[ContactOut]


def _out(contact: Contact) -> dict:
    return {
        "id": contact.pk,
        "name": contact.name,
        "email": contact.email,
        "external_id": contact.external_id,
        "visitor_id": str(contact.visitor_id),
        "language": contact.language,
        "metadata": contact.metadata if isinstance(contact.metadata, dict) else {},
        "created_at": contact.created_at,
        "last_seen_at": contact.last_seen_at,
    }


@router.post("", response={201: ContactOut}, summary="Create a contact")
def create(request: HttpRequest, body: ContactIn):
    key = need(request, "write")
    return Status(201, _out(contact_create(tenant=key.tenant, **body.dict())))


@router.get("", response=ContactList, summary="Find contacts by e-mail or external id")
def find(request: HttpRequest, query: Query[ContactFind]):
    key = need(request, "read")
    found = contacts_find(tenant=key.tenant, email=query.email, external_id=query.external_id)
    return {"contacts": [_out(c) for c in found]}


@router.get("/{contact_id}", response=ContactOut, summary="Read a contact")
def read(request: HttpRequest, contact_id: str):
    key = need(request, "read")
    return _out(contact_get(tenant=key.tenant, contact_id=contact_id))


@router.patch("/{contact_id}", response=ContactOut, summary="Update a contact")
def update(request: HttpRequest, contact_id: str, body: ContactIn):
    key = need(request, "write")
    fields = body.dict(exclude_unset=True)
    return _out(contact_update(tenant=key.tenant, contact_id=contact_id, **fields))


@router.delete(
    "/{contact_id}", response={204: None}, summary="Delete a contact and everything of theirs"
)
def delete(request: HttpRequest, contact_id: str):
    key = need(request, "admin")
    contact_delete(
        tenant=key.tenant, contact_id=contact_id, actor=key.user, actor_label=key_label(key)
    )
    return Status(204, None)


@router.get("/{contact_id}/export", response=dict, summary="Everything about a contact")
def export(request: HttpRequest, contact_id: str):
    """The contact's details, conversations and messages (private notes included), for an
    access request. Audited (admin → Audit log)."""
    key = need(request, "admin")
    return contact_export(
        tenant=key.tenant, contact_id=contact_id, actor=key.user, actor_label=key_label(key)
    )
