"""avisitor_arrive: visitor_authenticate and the conversation a visitor picks up, from the event
loop. It must let in exactly whom visitor_authenticate lets in, and refuse everyone else with
the same error."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from helpdesk.conversations.models import Contact
from helpdesk.core.errors import (
    AuthenticationFailed,
    OriginNotAllowed,
    ServiceError,
    TokenExpired,
    TokenInvalid,
)
from helpdesk.tenants.models import Inbox
from helpdesk.widget.fast_path import avisitor_arrive
from helpdesk.widget.services import (
    LAST_SEEN_RESOLUTION,
    visitor_authenticate,
    visitor_token_issue,
)
from tests.factories import ConversationFactory, InboxFactory
from tests.realtime.conftest import ORIGIN

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


def issue(inbox):
    return visitor_token_issue(inbox_key=inbox.public_key, origin=ORIGIN, client_ip="192.0.2.1")


async def arrive(key, token, origin=ORIGIN):
    return await avisitor_arrive(inbox_key=key, token=token, origin=origin)


async def refusal(key, token, origin=ORIGIN):
    """The error both ways of authenticating give (they must give the same one)."""
    with pytest.raises(ServiceError) as sync_error:
        await db(visitor_authenticate)(inbox_key=key, token=token, origin=origin)
    with pytest.raises(ServiceError) as async_error:
        await arrive(key, token, origin)
    assert type(async_error.value) is type(sync_error.value)
    assert async_error.value.message == sync_error.value.message
    return type(async_error.value)


async def test_a_returning_visitor_gets_their_newest_conversation(inbox):
    issued = await db(issue)(inbox)
    contact = issued.visitor.contact
    await db(ConversationFactory)(tenant=inbox.tenant, inbox=inbox, contact=contact)
    newest = await db(ConversationFactory)(tenant=inbox.tenant, inbox=inbox, contact=contact)

    visitor, conversation = await arrive(inbox.public_key, issued.token)

    assert (visitor.tenant.pk, visitor.inbox.pk, visitor.contact.pk) == (
        inbox.tenant_id, inbox.pk, contact.pk,
    )  # fmt: skip
    assert visitor.contact.visitor_id == contact.visitor_id
    assert conversation.pk == newest.pk
    assert conversation.contact.pk == contact.pk
    assert conversation.inbox.greeting == inbox.greeting


async def test_a_new_visitor_has_no_conversation_yet(inbox):
    issued = await db(issue)(inbox)
    _, conversation = await arrive(inbox.public_key, issued.token)
    assert conversation is None


async def test_the_same_requests_are_refused_with_the_same_errors(inbox):
    issued = await db(issue)(inbox)
    other_inbox = await db(InboxFactory)(tenant=inbox.tenant)
    elsewhere = await db(issue)(other_inbox)

    assert await refusal("no-such-inbox", issued.token) is AuthenticationFailed
    assert await refusal(None, issued.token) is AuthenticationFailed
    assert await refusal(inbox.public_key, issued.token, "https://evil.example") is OriginNotAllowed
    assert await refusal(inbox.public_key, None) is TokenInvalid
    assert await refusal(inbox.public_key, "forged.token") is TokenInvalid
    assert await refusal(inbox.public_key, elsewhere.token) is TokenInvalid
    # Unknown inbox first, as the sync path checks: a bad token does not hide it.
    assert await refusal("no-such-inbox", "forged.token") is AuthenticationFailed

    await db(Inbox.objects.filter(pk=other_inbox.pk).update)(is_active=False)
    assert await refusal(other_inbox.public_key, elsewhere.token) is AuthenticationFailed

    await db(Contact.objects.filter(pk=issued.visitor.contact.pk).delete)()
    assert await refusal(inbox.public_key, issued.token) is TokenInvalid


async def test_an_expired_token_is_refused(inbox, settings):
    issued = await db(issue)(inbox)
    settings.VISITOR_TOKEN_MAX_AGE = -1
    assert await refusal(inbox.public_key, issued.token) is TokenExpired


async def test_last_seen_is_stamped_when_stale_and_left_alone_when_fresh(inbox):
    issued = await db(issue)(inbox)
    contact_id = issued.visitor.contact.pk

    await arrive(inbox.public_key, issued.token)
    first = (await db(Contact.objects.get)(pk=contact_id)).last_seen_at
    assert first is not None
    await arrive(inbox.public_key, issued.token)
    assert (await db(Contact.objects.get)(pk=contact_id)).last_seen_at == first

    stale = timezone.now() - LAST_SEEN_RESOLUTION - timedelta(seconds=1)
    await db(Contact.objects.filter(pk=contact_id).update)(last_seen_at=stale)
    await arrive(inbox.public_key, issued.token)
    assert (await db(Contact.objects.get)(pk=contact_id)).last_seen_at > stale


async def test_a_token_for_another_inbox_stamps_nobody(inbox):
    other_inbox = await db(InboxFactory)(tenant=inbox.tenant)
    elsewhere = await db(issue)(other_inbox)
    contact_id = elsewhere.visitor.contact.pk
    await db(Contact.objects.filter(pk=contact_id).update)(last_seen_at=None)

    with pytest.raises(TokenInvalid):
        await arrive(inbox.public_key, elsewhere.token)

    assert (await db(Contact.objects.get)(pk=contact_id)).last_seen_at is None
