"""A widget connection's authentication from the event loop: one statement, no thread.

visitor_authenticate and the conversation a returning visitor picks up took four ORM queries
in two worker threads, about 8 ms of CPU per connection on our 2-core machine (most of it
Django building SQL), so 3,000 sockets took 25 s to connect and held up the messages of those
already connected. Here the inbox, its tenant, the contact, its latest conversation (with its
assignee) and the "last seen" stamp are one statement on the loop's own connection pool
(helpdesk/core/apg.py); the checks are visitor_authenticate's own (helpdesk/widget/services.py),
in the same order, so both refuse the same requests with the same errors.

Embedded (SQLite), the same functions run in a worker thread instead.
"""

import functools
import uuid

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext

from helpdesk.conversations.models import Contact, Conversation, Rating
from helpdesk.conversations.selectors import customer_latest_conversation
from helpdesk.core import apg
from helpdesk.core.asyncdb import db_call
from helpdesk.core.errors import AuthenticationFailed
from helpdesk.tenants.models import Inbox, Tenant
from helpdesk.widget.services import (
    LAST_SEEN_RESOLUTION,
    Visitor,
    inbox_check,
    token_payload,
    token_visitor_id,
    valid_inbox_key,
    visitor_authenticate,
    visitor_check,
)


@functools.cache
def _statement() -> str:
    inbox, tenant, contact = Inbox._meta.db_table, Tenant._meta.db_table, Contact._meta.db_table
    conversation = Conversation._meta.db_table
    rating = Rating._meta.db_table
    user_model = get_user_model()
    return f"""
WITH seen AS (
    UPDATE {contact} SET last_seen_at = %(now)s
     WHERE tenant_id = (SELECT tenant_id FROM {inbox}
                         WHERE id = %(token_inbox)s AND public_key = %(key)s)
       AND visitor_id = %(visitor)s
       AND (last_seen_at IS NULL OR last_seen_at <= %(stale)s)
)
SELECT {apg.columns(Inbox, "inbox")}, {apg.columns(Tenant, "tenant")},
       {apg.columns(Contact, "contact")}, {apg.columns(Conversation, "conversation")},
       {apg.columns(user_model, "assignee")}, {apg.columns(Rating, "rating")}
  FROM {inbox} AS inbox
  JOIN {tenant} AS tenant ON tenant.id = inbox.tenant_id
  LEFT JOIN {contact} AS contact
         ON contact.tenant_id = inbox.tenant_id AND contact.visitor_id = %(visitor)s
  LEFT JOIN LATERAL (
        SELECT * FROM {conversation} AS latest
         WHERE latest.tenant_id = inbox.tenant_id AND latest.inbox_id = inbox.id
           AND latest.contact_id = contact.id
         ORDER BY latest.created_at DESC
         LIMIT 1
       ) AS conversation ON TRUE
  LEFT JOIN {user_model._meta.db_table} AS assignee ON assignee.id = conversation.assignee_id
  LEFT JOIN {rating} AS rating ON rating.conversation_id = conversation.id
 WHERE inbox.public_key = %(key)s AND inbox.is_active AND tenant.is_active
"""


async def avisitor_arrive(
    *, inbox_key: object, token: object, origin: str | None
) -> tuple[Visitor, Conversation | None]:
    """visitor_authenticate, and the conversation the visitor picks up (their newest in this
    inbox, or None), from async code."""
    if not apg.available():
        return await db_call(_arrive)(inbox_key=inbox_key, token=token, origin=origin)
    if not valid_inbox_key(inbox_key):
        raise AuthenticationFailed(gettext("Unknown inbox."))
    try:
        payload, token_error = token_payload(token), None
    except AuthenticationFailed as error:
        payload, token_error = {}, error
    now = timezone.now()
    row = await apg.fetchone(
        _statement(),
        {
            "key": inbox_key,
            "token_inbox": payload.get("i") if isinstance(payload.get("i"), int) else None,
            "visitor": _uuid_or_none(payload.get("v")),
            "now": now,
            "stale": now - LAST_SEEN_RESOLUTION,
        },
    )
    inbox, tenant, contact, conversation = _instances(row)
    # The same checks, in the same order, as visitor_authenticate.
    inbox = inbox_check(inbox, origin=origin)
    if token_error is not None:
        raise token_error
    token_visitor_id(inbox, payload)
    visitor = visitor_check(inbox, contact)
    return visitor, conversation


def _arrive(*, inbox_key, token, origin) -> tuple[Visitor, Conversation | None]:
    visitor = visitor_authenticate(inbox_key=inbox_key, token=token, origin=origin)
    conversation = customer_latest_conversation(
        tenant=visitor.tenant, inbox=visitor.inbox, contact=visitor.contact
    )
    return visitor, conversation


def _uuid_or_none(value) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


def _instances(row: tuple | None):
    if row is None:
        return None, None, None, None
    inbox, at = apg.take(Inbox, row, 0, shared=True)
    tenant, at = apg.take(Tenant, row, at, shared=True)
    contact, at = apg.take(Contact, row, at)
    conversation, at = apg.take(Conversation, row, at)
    assignee, at = apg.take(get_user_model(), row, at)
    rating, _ = apg.take(Rating, row, at)
    inbox.tenant = tenant
    if contact is not None:
        contact.tenant = tenant
    if conversation is not None:
        conversation.tenant = tenant
        conversation.inbox = inbox
        conversation.contact = contact
        conversation.assignee = assignee
        # The payload reads the rating (or its absence) from here, not with a query from async
        # code (helpdesk/conversations/serializers.py).
        Conversation.rating.related.set_cached_value(conversation, rating)
    return inbox, tenant, contact, conversation
