"""Writes for contacts, conversations and messages. Every transport calls these.

Each function takes the tenant explicitly and treats another tenant's objects as nonexistent.
"""

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from helpdesk.conversations.announcements import (
    change_announce,
    contact_changed,
    conversation_created,
    message_created,
)
from helpdesk.conversations.attachments import (
    attachment_descriptor,
    attachments_attach,
    attachments_claim,
    clean_attachment_ids,
)
from helpdesk.conversations.followers import agent_text_filter
from helpdesk.conversations.handoff_reasons import NO_BOT
from helpdesk.conversations.models import Contact, Conversation, Message
from helpdesk.conversations.prechat import (
    Answers,
    contact_fill,
    prechat_clean,
    prechat_questions,
)
from helpdesk.conversations.serializers import conversation_payload, message_payload
from helpdesk.conversations.tasks import customer_message_received
from helpdesk.core import jobs, prometheus
from helpdesk.core.errors import (
    ConversationClosed,
    InvalidInput,
    NotFound,
    Revoked,
    TextEmpty,
    TextTooLong,
)
from helpdesk.core.ratelimit import rate_limit_hit
from helpdesk.core.validation import clean_id
from helpdesk.realtime.events import (
    agents_group,
    conversation_group,
    conversation_staff_group,
    envelope,
    publish_on_commit,
)
from helpdesk.tenants.access import active_membership
from helpdesk.tenants.models import Inbox, Membership, Tenant

CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
METADATA_MAX_BYTES = 16_384


@dataclass(frozen=True)
class Sender:
    type: Message.SenderType
    user: AbstractBaseUser | None = None
    # The customer writing (needed to send the files they uploaded).
    customer: Contact | None = None

    @classmethod
    def contact(cls, contact: Contact | None = None) -> "Sender":
        return cls(Message.SenderType.CONTACT, customer=contact)

    @classmethod
    def bot(cls) -> "Sender":
        return cls(Message.SenderType.BOT)

    @classmethod
    def system(cls) -> "Sender":
        return cls(Message.SenderType.SYSTEM)

    @classmethod
    def agent(cls, user: AbstractBaseUser) -> "Sender":
        return cls(Message.SenderType.AGENT, user)


@dataclass(frozen=True)
class PostResult:
    message: Message
    # False when the client_id had been stored before: the post was a resend.
    created: bool


def contact_get_or_create(
    *, tenant: Tenant, visitor_id: uuid.UUID | None = None, language: str = ""
) -> Contact:
    """The contact for a widget visitor, created on first sight (speaking ``language``)."""
    if visitor_id is None:
        return Contact.objects.create(tenant=tenant, language=language)
    contact, _ = Contact.objects.get_or_create(
        tenant=tenant, visitor_id=visitor_id, defaults={"language": language}
    )
    return contact


def conversation_start(
    *, tenant: Tenant, inbox: Inbox, contact: Contact, details: dict[str, str] | None = None
) -> Conversation:
    """Open a new conversation for ``contact`` in ``inbox``: with the inbox's bot if it has
    one, otherwise straight in the human queue. ``details``: the pre-chat form's answers
    (checked by prechat.py)."""
    details = details or {}
    if inbox.tenant_id != tenant.pk or not inbox.is_active:
        raise NotFound(gettext("Inbox not found."))
    if contact.tenant_id != tenant.pk:
        raise NotFound(gettext("Contact not found."))
    with transaction.atomic():
        if inbox.bot_id is not None:
            conversation = Conversation.objects.create(
                tenant=tenant,
                inbox=inbox,
                contact=contact,
                status=Conversation.Status.BOT,
                details=details,
            )
        else:
            conversation = Conversation.objects.create(
                tenant=tenant,
                inbox=inbox,
                contact=contact,
                status=Conversation.Status.QUEUED,
                queued_at=timezone.now(),
                handoff_reason=NO_BOT,
                details=details,
            )
        change_announce(conversation_created(conversation))
        publish_on_commit(
            agents_group(tenant.pk),
            envelope(
                "conversation.updated",
                conversation_id=conversation.pk,
                data=conversation_payload(conversation),
            ),
        )
    return conversation


def message_post(
    *,
    tenant: Tenant,
    conversation_id: int,
    sender: Sender,
    text: str,
    client_id: str | None = None,
    kind: Message.Kind = Message.Kind.TEXT,
    metadata: dict[str, Any] | None = None,
    state: Message.State = Message.State.COMPLETE,
    attachments: Sequence[int] = (),
) -> PostResult:
    """Store a message with the conversation's next ``seq`` and announce it after commit.

    Idempotent on ``client_id``: posting the same id again returns the stored message with
    ``created=False`` and announces nothing, so a client may resend freely after a reconnect.
    A bot reply is posted ``streaming`` with empty text and completed by message_stream_finish.
    ``attachments``: ids of files the sender uploaded (helpdesk/conversations/attachments.py),
    sent with this message; the text may then be empty.
    """
    streaming = state == Message.State.STREAMING
    if streaming and sender.type != Message.SenderType.BOT:
        raise InvalidInput(gettext("Only the bot streams its messages."), field="state")
    attachment_ids = clean_attachment_ids(list(attachments) if attachments else [])
    text = "" if streaming and text == "" else clean_text(text, allow_empty=bool(attachment_ids))
    client_id = clean_client_id(client_id)
    _check_kind(sender, kind)
    metadata = _clean_metadata(metadata)

    with transaction.atomic():
        # The row lock serialises posts to one conversation: seq is read and bumped by one
        # writer at a time, so seqs are gap-free and a concurrent resend of the same
        # client_id sees the first copy instead of racing it into the unique constraint.
        # of=("self",): lock the conversation only, not the inbox or contact joined in for
        # the announcement (other conversations of the inbox must not wait on this one).
        conversation = (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("inbox", "contact", "assignee", "rating")
            .filter(
                tenant=tenant,
                pk=clean_id(conversation_id, not_found=gettext_lazy("Conversation not found.")),
            )
            .first()
        )
        if conversation is None:
            raise NotFound(gettext("Conversation not found."))
        existing = Message.objects.filter(conversation=conversation, client_id=client_id).first()
        if existing is not None:
            return PostResult(existing, created=False)
        # A resolved conversation takes no new messages, only the record of what happened.
        if not conversation.is_open and kind != Message.Kind.EVENT:
            raise ConversationClosed()
        claimed = []
        if attachment_ids:
            claimed = attachments_claim(
                tenant=tenant,
                inbox=conversation.inbox,
                ids=attachment_ids,
                contact=sender.customer
                if sender.type == Message.SenderType.CONTACT
                and sender.customer is not None
                and sender.customer.pk == conversation.contact_id
                else None,
                user=sender.user if sender.type == Message.SenderType.AGENT else None,
            )
            metadata = {**metadata, "attachments": [attachment_descriptor(a) for a in claimed]}

        now = timezone.now()
        conversation.last_seq += 1
        conversation.last_message_at = now
        update_fields = ["last_seq", "last_message_at", "updated_at"]
        if not streaming and _is_first_response(conversation, sender, kind):
            conversation.first_response_at = now
            update_fields.append("first_response_at")
        conversation.save(update_fields=update_fields)

        message = Message.objects.create(
            tenant=tenant,
            conversation=conversation,
            seq=conversation.last_seq,
            client_id=client_id,
            sender_type=sender.type,
            sender_user=sender.user,
            kind=kind,
            text=text,
            metadata=metadata,
            state=state,
            created_at=now,
        )
        if claimed:
            attachments_attach(message, claimed)
        _announce_message(conversation, message)
        if not streaming:
            change_announce(message_created(message))
    return PostResult(message, created=True)


def _announce_message(conversation: Conversation, message: Message) -> None:
    for group, event in message_announcements(conversation, message):
        publish_on_commit(group, event)
    transaction.on_commit(
        lambda: prometheus.message_announced(message.sender_type, message.created_at), robust=True
    )


def message_announcements(
    conversation: Conversation, message: Message
) -> list[tuple[str, dict[str, Any]]]:
    """What a stored message is announced with: (group, event) pairs, in sending order."""
    event = envelope(
        "message.created",
        conversation_id=conversation.pk,
        seq=message.seq,
        data=message_payload(message),
    )
    if message.is_private:
        group = conversation_staff_group(conversation.tenant_id, conversation.pk)
    else:
        group = conversation_group(conversation.tenant_id, conversation.pk)
    return [
        (group, event),
        (agents_group(conversation.tenant_id), conversation_updated(conversation, message)),
    ]


def conversation_updated(conversation: Conversation, last_message: Message) -> dict[str, Any]:
    """The ``conversation.updated`` event: the conversation as it stands, with its last message."""
    return envelope(
        "conversation.updated",
        conversation_id=conversation.pk,
        seq=conversation.last_seq,
        data=conversation_payload(conversation, last_message=last_message),
    )


def _is_first_response(conversation: Conversation, sender: Sender, kind: Message.Kind) -> bool:
    return (
        conversation.first_response_at is None
        and kind == Message.Kind.TEXT
        and sender.type in (Message.SenderType.AGENT, Message.SenderType.BOT)
    )


def clean_text(text: Any, *, allow_empty: bool = False) -> str:
    """``allow_empty``: the message carries files, so it needs no text."""
    if not isinstance(text, str):
        raise InvalidInput(gettext("The message text must be a string."), field="text")
    text = text.strip()
    if not text and not allow_empty:
        raise TextEmpty(field="text")
    if len(text) > settings.MESSAGE_MAX_CHARS:
        raise TextTooLong(
            gettext("The message text is longer than %(limit)d characters.")
            % {"limit": settings.MESSAGE_MAX_CHARS},
            field="text",
            limit=settings.MESSAGE_MAX_CHARS,
        )
    # NUL cannot be stored by PostgreSQL; other control characters are kept as typed.
    return text.replace("\x00", "")


def clean_client_id(client_id: Any) -> str:
    if client_id is None:
        return uuid.uuid4().hex
    if not isinstance(client_id, str) or not CLIENT_ID_RE.fullmatch(client_id):
        raise InvalidInput(
            gettext("client_id must be 1-64 characters of letters, digits and . _ : -"),
            field="client_id",
        )
    return client_id


def _check_kind(sender: Sender, kind: Message.Kind) -> None:
    if kind not in Message.Kind.values:
        raise InvalidInput(gettext("Unknown message kind."), field="kind")
    if kind == Message.Kind.NOTE and sender.type != Message.SenderType.AGENT:
        raise InvalidInput(gettext("Only agents write private notes."), field="kind")
    if kind == Message.Kind.EVENT and sender.type != Message.SenderType.SYSTEM:
        raise InvalidInput(gettext("Only the system records events."), field="kind")
    if sender.type == Message.SenderType.AGENT and sender.user is None:
        raise InvalidInput(gettext("An agent message needs its agent."), field="sender")


def _clean_metadata(metadata: Any) -> dict[str, Any]:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise InvalidInput(gettext("metadata must be an object."), field="metadata")
    if len(json.dumps(metadata, default=str)) > METADATA_MAX_BYTES:
        raise InvalidInput(gettext("metadata is too large."), field="metadata")
    return metadata


def customer_message_send(
    *,
    tenant: Tenant,
    inbox: Inbox,
    contact: Contact,
    conversation_id: int | None,
    text: str,
    client_id: str | None,
    client_ip: str,
    attachments: Sequence[int] = (),
    prechat: dict[str, str] | None = None,
) -> PostResult:
    """A customer writes in their conversation, starting one when ``conversation_id`` is None
    (with the pre-chat form's answers, ``prechat``); ``attachments`` are ids of files the
    contact uploaded (helpdesk/conversations/attachments.py).

    Rate-limited per visitor and per address. A conversation that is not this contact's in
    this inbox is NotFound, exactly like one that does not exist. The event loop's version is
    acustomer_message_send (helpdesk/conversations/fast_path.py).
    """
    for scope, key, rate in customer_rate_limits(
        tenant=tenant, contact=contact, client_ip=client_ip
    ):
        rate_limit_hit(scope, key, rate)
    return customer_message_store(
        tenant=tenant,
        inbox=inbox,
        contact=contact,
        conversation_id=conversation_id,
        text=text,
        client_id=client_id,
        attachments=attachments,
        prechat=prechat,
    )


def customer_rate_limits(
    *, tenant: Tenant, contact: Contact, client_ip: str
) -> list[tuple[str, str, tuple[int, int]]]:
    """The (scope, key, rate) limits one customer message counts against."""
    return [
        ("customer", f"t{tenant.pk}:c{contact.pk}", settings.RATE_CUSTOMER_MESSAGES),
        ("ip", client_ip, settings.RATE_IP_MESSAGES),
    ]


def customer_message_store(
    *,
    tenant: Tenant,
    inbox: Inbox,
    contact: Contact,
    conversation_id: int | None,
    text: str,
    client_id: str | None,
    attachments: Sequence[int] = (),
    prechat: dict[str, str] | None = None,
) -> PostResult:
    """customer_message_send once the message has passed the rate limits."""
    if conversation_id is None:
        conversation = _customer_open_conversation(
            tenant=tenant, inbox=inbox, contact=contact, prechat=prechat
        )
        conversation_id = conversation.pk
    with transaction.atomic():
        conversation = customer_conversation_lock(
            tenant=tenant, inbox=inbox, contact=contact, conversation_id=conversation_id
        )
        resend = Message.objects.filter(conversation=conversation, client_id=client_id).exists()
        if conversation.status == Conversation.Status.RESOLVED and not resend:
            # Writing again reopens it (a resend of an old message does not).
            from helpdesk.conversations.lifecycle import reopen_for_customer

            reopen_for_customer(conversation)
        result = message_post(
            tenant=tenant,
            conversation_id=conversation_id,
            sender=Sender.contact(contact),
            text=text,
            client_id=client_id,
            attachments=attachments,
        )
        if result.created:
            # Its followers (followers.py) act after the commit, wherever jobs run.
            jobs.enqueue(customer_message_received, result.message.pk)
    return result


def customer_conversation_lock(
    *, tenant: Tenant, inbox: Inbox, contact: Contact, conversation_id: Any
) -> Conversation:
    """The customer's own conversation in this inbox, row-locked (inside a transaction); one
    that is not theirs is NotFound, exactly like one that does not exist."""
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("inbox", "assignee", "contact", "tenant")
        .filter(
            tenant=tenant,
            inbox=inbox,
            contact=contact,
            pk=clean_id(conversation_id, not_found=gettext_lazy("Conversation not found.")),
        )
        .first()
    )
    if conversation is None:
        raise NotFound(gettext("Conversation not found."))
    return conversation


def _customer_open_conversation(
    *, tenant: Tenant, inbox: Inbox, contact: Contact, prechat: dict[str, str] | None = None
) -> Conversation:
    with transaction.atomic():
        # Locking the contact makes two tabs that both start a conversation share one.
        Contact.objects.select_for_update().filter(pk=contact.pk).first()
        conversation = (
            Conversation.objects.filter(
                tenant=tenant, inbox=inbox, contact=contact, status__in=Conversation.OPEN_STATUSES
            )
            .order_by("-created_at")
            .first()
        )
        if conversation is None:
            # Only a conversation really opened asks for the pre-chat answers; refused ones
            # store nothing (neither the conversation nor the message).
            answers = prechat_clean(prechat_questions(inbox), prechat)
            prechat_contact_update(contact, answers)
            conversation = conversation_start(
                tenant=tenant, inbox=inbox, contact=contact, details=answers.details
            )
        return conversation


def prechat_contact_update(contact: Contact, answers: Answers) -> None:
    """The answers' name, e-mail and phone on the contact, saved and announced. The instance
    given is changed in place: a session holding it names the customer anew at once (presence,
    typing)."""
    changed = contact_fill(contact, answers)
    if changed:
        Contact.objects.filter(tenant_id=contact.tenant_id, pk=contact.pk).update(
            **{field: getattr(contact, field) for field in changed}
        )
        change_announce(contact_changed(contact))


def agent_message_send(
    *,
    tenant: Tenant,
    user: AbstractBaseUser,
    conversation_id: int,
    text: str,
    client_id: str | None,
    kind: Message.Kind = Message.Kind.TEXT,
    attachments: Sequence[int] = (),
) -> PostResult:
    """An agent writes a reply or a private note in one of their tenant's conversations, with
    files they uploaded first (``attachments``)."""
    agent_membership_check(tenant=tenant, user=user)
    if kind not in (Message.Kind.TEXT, Message.Kind.NOTE):
        raise InvalidInput(gettext("kind must be text or note."), field="kind")
    rate_limit_hit("agent", f"t{tenant.pk}:u{user.pk}", settings.RATE_AGENT_MESSAGES)
    if isinstance(text, str) and kind == Message.Kind.TEXT:
        text = agent_text_filter(tenant=tenant, text=text)
    return message_post(
        tenant=tenant,
        conversation_id=conversation_id,
        sender=Sender.agent(user),
        text=text,
        client_id=client_id,
        kind=kind,
        attachments=attachments,
    )


def agent_membership_check(*, tenant: Tenant, user: AbstractBaseUser) -> Membership:
    """The user's active membership of ``tenant``; Revoked when it is gone or disabled."""
    membership = active_membership(user)
    if membership is None or membership.tenant_id != tenant.pk:
        raise Revoked()
    return membership


def conversation_mark_read(
    *, tenant: Tenant, conversation_id: int, reader: Message.SenderType, seq: int
) -> int:
    """Record that ``reader`` (contact or agent) has seen up to ``seq``; announce it.

    Read marks only move forward and never past the newest message. Returns the stored mark.
    """
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise InvalidInput(gettext("seq must be a non-negative integer."), field="seq")
    field = {
        Message.SenderType.CONTACT: "contact_last_read_seq",
        Message.SenderType.AGENT: "agent_last_read_seq",
    }[reader]
    with transaction.atomic():
        locked = (
            Conversation.objects.select_for_update()
            .filter(
                tenant=tenant,
                pk=clean_id(conversation_id, not_found=gettext_lazy("Conversation not found.")),
            )
            .first()
        )
        if locked is None:
            raise NotFound(gettext("Conversation not found."))
        mark = min(seq, locked.last_seq)
        if mark <= getattr(locked, field):
            return getattr(locked, field)
        Conversation.objects.filter(pk=locked.pk).update(**{field: mark})
        publish_on_commit(
            conversation_group(tenant.pk, locked.pk),
            envelope("read", conversation_id=locked.pk, seq=mark, data={"reader": reader}),
        )
    return mark


def message_stream_finish(
    *,
    tenant: Tenant,
    message_id: int,
    text: str,
    state: Message.State,
    metadata: dict[str, Any] | None = None,
) -> Message | None:
    """Complete (or mark interrupted) a streamed bot message and announce its final form.

    Only a message still ``streaming`` changes; None means it had already been finished.
    """
    if state not in (Message.State.COMPLETE, Message.State.INTERRUPTED):
        raise InvalidInput(gettext("A stream ends complete or interrupted."), field="state")
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("conversation__inbox", "conversation__contact")
            .filter(tenant=tenant, pk=message_id, state=Message.State.STREAMING)
            .first()
        )
        if message is None:
            return None
        message.text = text[: settings.MESSAGE_MAX_CHARS * 4]
        message.state = state
        if metadata:
            message.metadata = {**message.metadata, **metadata}
        message.save(update_fields=["text", "state", "metadata", "updated_at"])
        change_announce(message_created(message))
        conversation = message.conversation
        if text and conversation.first_response_at is None:
            conversation.first_response_at = timezone.now()
            conversation.save(update_fields=["first_response_at"])
        publish_on_commit(
            conversation_group(tenant.pk, conversation.pk),
            envelope(
                "message.updated",
                conversation_id=conversation.pk,
                seq=message.seq,
                data=message_payload(message),
            ),
        )
        publish_on_commit(agents_group(tenant.pk), conversation_updated(conversation, message))
    return message
