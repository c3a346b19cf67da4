"""Follow-up by e-mail when nobody can answer now (issue 17, part 4).

A customer outside business hours, or waiting in a queue no agent is there to serve, leaves an
e-mail address (and their question). The contact keeps the address; the conversation is marked
``follow_up`` so that agents see, in the console, that the answer is owed by e-mail.
"""

import hashlib

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from helpdesk.conversations.announcements import (
    change_announce,
    contact_changed,
    conversation_created,
)
from helpdesk.conversations.handoff_reasons import OFFLINE
from helpdesk.conversations.models import Contact, Conversation, Message
from helpdesk.conversations.serializers import conversation_payload
from helpdesk.conversations.services import (
    Sender,
    clean_text,
    customer_conversation_lock,
    customer_rate_limits,
    message_post,
)
from helpdesk.conversations.tasks import customer_message_received
from helpdesk.core import jobs
from helpdesk.core.errors import (
    ConversationClosed,
    EmailInvalid,
    EmailRequired,
    InvalidInput,
    NotFound,
)
from helpdesk.core.ratelimit import rate_limit_hit
from helpdesk.realtime.events import agents_group, conversation_group, envelope, publish_on_commit
from helpdesk.tenants.models import Inbox, Tenant

EMAIL_MAX_LENGTH = 254
NAME_MAX_LENGTH = 200
_validate_email = EmailValidator()


def clean_email(email: object) -> str:
    """The address trimmed, its domain lowercased; EmailRequired / EmailInvalid otherwise."""
    if not isinstance(email, str) or not email.strip():
        raise EmailRequired(field="email")
    email = email.strip()
    if len(email) > EMAIL_MAX_LENGTH:
        raise EmailInvalid(field="email")
    try:
        _validate_email(email)
    except ValidationError:
        raise EmailInvalid(field="email") from None
    local, _at, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def clean_name(name: object) -> str:
    if name is None:
        return ""
    if not isinstance(name, str):
        raise InvalidInput(gettext("The name must be a string."), field="name")
    name = " ".join(name.split()).replace("\x00", "")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(
            gettext("The name is longer than %(limit)d characters.") % {"limit": NAME_MAX_LENGTH},
            field="name",
        )
    return name


def follow_up_client_id(email: str, text: str) -> str:
    """The same request submitted twice (a double click, a resend after a reconnect) stores
    its message once: the message's client_id is derived from what was asked."""
    digest = hashlib.sha256(f"{email}\n{text}".encode()).hexdigest()[:40]
    return f"follow-up:{digest}"


def follow_up_request(
    *,
    tenant: Tenant,
    inbox: Inbox,
    contact: Contact,
    conversation_id: int | None,
    email: str,
    text: str,
    name: str,
    client_ip: str,
) -> Conversation:
    """Mark ``conversation_id`` (an open conversation of ``contact`` in ``inbox``) for follow-up
    by e-mail, or, with None, leave a new one: queued for a human (no bot), with ``text`` as the
    customer's first message. Either way the contact's e-mail (and name, when given) is kept.

    Rate-limited like a customer message. Idempotent: the same request again returns the same
    conversation and stores nothing new."""
    email = clean_email(email)
    name = clean_name(name)
    text = text.strip() if isinstance(text, str) else text
    if conversation_id is None or text:
        text = clean_text(text)  # required for a new conversation, checked when given
    if inbox.tenant_id != tenant.pk or not inbox.is_active or contact.tenant_id != tenant.pk:
        raise NotFound(gettext("Inbox not found."))
    for scope, key, rate in customer_rate_limits(
        tenant=tenant, contact=contact, client_ip=client_ip
    ):
        rate_limit_hit(scope, key, rate)

    client_id = follow_up_client_id(email, text) if text else None
    with transaction.atomic():
        _contact_update(contact, email=email, name=name)
        if conversation_id is None:
            conversation = _resent(tenant, inbox, contact, client_id) or _offline_start(
                tenant, inbox, contact
            )
        else:
            conversation = _mark(tenant, inbox, contact, conversation_id)
        if text:
            result = message_post(
                tenant=tenant,
                conversation_id=conversation.pk,
                sender=Sender.contact(),
                text=text,
                client_id=client_id,
            )
            if result.created:
                jobs.enqueue(customer_message_received, result.message.pk)
        if conversation.status == Conversation.Status.QUEUED:
            # An agent who is there after all (hours say closed, someone is online) gets it.
            _serve_queue(tenant)
    # As it now stands, with what its payload reads (the session builds that on the loop).
    return Conversation.objects.select_related("inbox", "contact", "assignee").get(
        tenant=tenant, pk=conversation.pk
    )


def _contact_update(contact: Contact, *, email: str, name: str) -> None:
    locked = Contact.objects.select_for_update().get(pk=contact.pk, tenant_id=contact.tenant_id)
    fields = []
    if locked.email != email:
        locked.email = email
        fields.append("email")
    if name and locked.name != name:
        locked.name = name
        fields.append("name")
    if fields:
        locked.save(update_fields=fields)
        change_announce(contact_changed(locked))
    contact.email, contact.name = locked.email, locked.name


def _resent(tenant: Tenant, inbox: Inbox, contact: Contact, client_id: str) -> Conversation | None:
    """The open conversation an identical earlier request left, if any."""
    message = (
        Message.objects.filter(
            tenant=tenant,
            client_id=client_id,
            conversation__inbox=inbox,
            conversation__contact=contact,
            conversation__status__in=Conversation.OPEN_STATUSES,
        )
        .select_related("conversation")
        .first()
    )
    return message.conversation if message else None


def _offline_start(tenant: Tenant, inbox: Inbox, contact: Contact) -> Conversation:
    """A new conversation straight in the human queue: nobody (no bot either) answers now."""
    conversation = Conversation.objects.create(
        tenant=tenant,
        inbox=inbox,
        contact=contact,
        status=Conversation.Status.QUEUED,
        queued_at=timezone.now(),
        handoff_reason=OFFLINE,
        follow_up=True,
    )
    conversation = (
        Conversation.objects.select_related("inbox", "contact", "assignee")
        .filter(pk=conversation.pk)
        .get()
    )
    change_announce(conversation_created(conversation))
    _announce(conversation, kind="queued")
    return conversation


def _serve_queue(tenant: Tenant) -> None:
    from helpdesk.conversations.assignment import assign_waiting

    assign_waiting(tenant=tenant)


def _mark(tenant: Tenant, inbox: Inbox, contact: Contact, conversation_id: int) -> Conversation:
    conversation = customer_conversation_lock(
        tenant=tenant, inbox=inbox, contact=contact, conversation_id=conversation_id
    )
    if not conversation.is_open:
        raise ConversationClosed()
    if not conversation.follow_up:
        conversation.follow_up = True
        conversation.save(update_fields=["follow_up", "updated_at"])
        _announce(conversation, kind="follow_up")
    return conversation


def _announce(conversation: Conversation, *, kind: str) -> None:
    """The console's list and the open conversation learn of it live, and the agents get a
    notification as for any conversation waiting for them."""
    from helpdesk.conversations.lifecycle import notify_agents

    payload = conversation_payload(conversation)
    event = envelope("conversation.updated", conversation_id=conversation.pk, data=payload)
    publish_on_commit(agents_group(conversation.tenant_id), event)
    publish_on_commit(conversation_group(conversation.tenant_id, conversation.pk), event)
    notify_agents(
        conversation.tenant_id,
        kind,
        conversation,
        (
            gettext("%(contact)s asks for an answer by e-mail (%(email)s).")
            % {"contact": conversation.contact, "email": conversation.contact.email}
        )[:200],
    )
