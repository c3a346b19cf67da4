"""A customer's message from the event loop: rate limits, storage and announcement, no thread.

Every customer message used to take a worker thread for ORM work (a row lock, a query for a
resend, the seq bump, the insert, a broker call), most of its time Django compiling SQL, and at
300 messages a second two server processes acknowledged a third of them. Here the usual case,
a message in one of the customer's open conversations, is one SQL statement on the loop's own
connection pool (helpdesk/core/apg.py): it takes the conversation's next seq and inserts the
message in one round trip, the unique constraint on client_id catches a resend, and it says
whether anyone acts on the message (helpdesk/conversations/followers.py), so a job is only
enqueued when there is work for one.

Everything else (the first message of a conversation, a resolved one, a resend, somebody
else's conversation, the embedded mode) goes to customer_message_store, which holds every
rule. Both store the same row and announce the same events (tests/conversations/
test_fast_path.py compares them).
"""

import functools
import logging
from collections.abc import Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy

from helpdesk.conversations.announcements import achange_announce, message_created
from helpdesk.conversations.followers import followed_sql
from helpdesk.conversations.models import Contact, Conversation, Message
from helpdesk.conversations.services import (
    PostResult,
    clean_client_id,
    clean_text,
    customer_message_store,
    customer_rate_limits,
    message_announcements,
)
from helpdesk.conversations.tasks import customer_message_received
from helpdesk.core import apg, jobs, prometheus
from helpdesk.core.asyncdb import db_call
from helpdesk.core.ratelimit import arate_limit_hits
from helpdesk.core.validation import clean_id
from helpdesk.realtime.events import publish_committed
from helpdesk.tenants.models import Inbox, Tenant

logger = logging.getLogger(__name__)

CONTACT_FIELDS = ("name", "email", "visitor_id")


def _assignee_fields() -> list[str]:
    # Whatever the user model names its people by; never the password hash.
    return [
        field.attname
        for field in get_user_model()._meta.concrete_fields
        if field.attname not in ("password", "id")
    ]


@functools.cache
def _statement() -> str:
    conversation = Conversation._meta.db_table
    message = Message._meta.db_table
    assignee_columns = ", ".join(f"assignee.{name}" for name in _assignee_fields())
    contact_columns = ", ".join(f"contact.{name}" for name in CONTACT_FIELDS)
    return f"""
WITH conversation AS (
    UPDATE {conversation}
       SET last_seq = last_seq + 1, last_message_at = %(now)s, updated_at = %(now)s
     WHERE id = %(conversation)s AND tenant_id = %(tenant)s AND inbox_id = %(inbox)s
       AND contact_id = %(contact)s AND status = ANY(%(open)s::text[])
 RETURNING id, last_seq, status, assignee_id, handoff_reason, created_at, follow_up
), message AS (
    INSERT INTO {message} (tenant_id, conversation_id, seq, client_id, sender_type, kind,
                           text, metadata, state, created_at, updated_at)
    SELECT %(tenant)s, id, last_seq, %(client_id)s, %(sender)s, %(kind)s,
           %(text)s, '{{}}', %(state)s, %(now)s, %(now)s
      FROM conversation
 RETURNING id
)
SELECT message.id, conversation.last_seq, conversation.status, conversation.assignee_id,
       conversation.handoff_reason, conversation.created_at, inbox.bot_id,
       conversation.follow_up, {contact_columns}, {assignee_columns},
       {followed_sql()}
  FROM message
 CROSS JOIN conversation
  JOIN {Contact._meta.db_table} AS contact ON contact.id = %(contact)s
  JOIN {Inbox._meta.db_table} AS inbox ON inbox.id = %(inbox)s
  LEFT JOIN {get_user_model()._meta.db_table} AS assignee
         ON assignee.id = conversation.assignee_id
"""


async def acustomer_message_send(
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
    """customer_message_send for async callers: the same rules, the usual case (text only, in
    an open conversation) without a thread and in one statement."""
    await arate_limit_hits(
        *customer_rate_limits(tenant=tenant, contact=contact, client_ip=client_ip)
    )
    if conversation_id is not None and not attachments and not prechat and apg.available():
        result = await _store_fast(
            tenant=tenant,
            inbox=inbox,
            contact=contact,
            conversation_id=clean_id(
                conversation_id, not_found=gettext_lazy("Conversation not found.")
            ),
            text=clean_text(text),
            client_id=clean_client_id(client_id),
        )
        if result is not None:
            return result
    return await db_call(customer_message_store)(
        tenant=tenant,
        inbox=inbox,
        contact=contact,
        conversation_id=conversation_id,
        text=text,
        client_id=client_id,
        attachments=attachments,
        prechat=prechat,
    )


async def _store_fast(
    *, tenant: Tenant, inbox: Inbox, contact: Contact, conversation_id: int, text: str,
    client_id: str,
) -> PostResult | None:  # fmt: skip
    """Store the message if its conversation is open and it is not a resend; else None."""
    now = timezone.now()
    params = {
        "now": now,
        "conversation": conversation_id,
        "tenant": tenant.pk,
        "inbox": inbox.pk,
        "contact": contact.pk,
        "open": list(Conversation.OPEN_STATUSES),
        "client_id": client_id,
        "sender": Message.SenderType.CONTACT.value,
        "kind": Message.Kind.TEXT.value,
        "state": Message.State.COMPLETE.value,
        "text": text,
    }
    try:
        row = await apg.fetchone(_statement(), params)
    except apg.UniqueViolation:
        return None  # a resend: the general path answers with the stored message
    if row is None:
        return None
    message = _instances(row, params, tenant=tenant)
    for group, event in message_announcements(message.conversation, message):
        publish_committed(group, event)
    prometheus.message_announced(Message.SenderType.CONTACT, now)
    await achange_announce(message_created(message))
    if row[-1]:
        try:
            await jobs.aenqueue(customer_message_received, message.pk)
        except Exception:
            # As when an on-commit enqueue fails: the message stays stored and acknowledged.
            logger.exception("Could not enqueue the job for message %s", message.pk)
    return PostResult(message, created=True)


def _instances(row: tuple, params: dict[str, Any], *, tenant: Tenant) -> Message:
    """The message as the statement stored it, with its conversation, as model instances (the
    payload builders take those), from the statement's one row."""
    (message_id, last_seq, status, assignee_id, handoff_reason, created_at, bot_id) = row[:7]
    follow_up = row[7]
    contact_values = row[8 : 8 + len(CONTACT_FIELDS)]
    assignee_values = row[8 + len(CONTACT_FIELDS) : -1]
    conversation = Conversation(
        id=params["conversation"],
        tenant_id=tenant.pk,
        inbox=Inbox(id=params["inbox"], tenant_id=tenant.pk, bot_id=bot_id),
        contact=Contact(
            id=params["contact"],
            tenant_id=tenant.pk,
            **dict(zip(CONTACT_FIELDS, contact_values, strict=True)),
        ),
        status=status,
        last_seq=last_seq,
        handoff_reason=handoff_reason,
        follow_up=follow_up,
        created_at=created_at,
        last_message_at=params["now"],
    )
    if assignee_id is not None:
        conversation.assignee = get_user_model()(
            id=assignee_id, **dict(zip(_assignee_fields(), assignee_values, strict=True))
        )
    return Message(
        id=message_id,
        tenant_id=tenant.pk,
        conversation=conversation,
        seq=last_seq,
        client_id=params["client_id"],
        sender_type=params["sender"],
        kind=params["kind"],
        text=params["text"],
        metadata={},
        state=params["state"],
        created_at=params["now"],
        updated_at=params["now"],
    )
