"""The sweep for customer messages whose job was lost with the broker (helpdesk/ai/unanswered.py).

Which messages it picks is checked in both modes; enqueueing needs a broker and a real worker,
which answers the swept message through the fake model server.
"""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from helpdesk.ai.pipeline import reply_client_id
from helpdesk.ai.unanswered import messages_unanswered, unanswered_sweep
from helpdesk.conversations.models import Conversation, Message
from helpdesk.conversations.services import Sender
from tests.conftest import wait_until
from tests.factories import ConversationFactory, ModelBotFactory, post_message

pytestmark = pytest.mark.django_db(transaction=True)


def unanswered(tenant, *, grace=0, max_age=3600):
    now = timezone.now()
    return messages_unanswered(
        tenant=tenant,
        since=now - timedelta(seconds=max_age),
        until=now - timedelta(seconds=grace),
    )


def test_the_newest_customer_message_with_no_bot_message_after_it_is_owed_a_reply(conversation):
    post_message(conversation, "first", Sender.contact(), client_id="c-1")
    newest = post_message(conversation, "second", Sender.contact(), client_id="c-2")

    assert [m.pk for m in unanswered(conversation.tenant)] == [newest.pk]


def test_a_bot_message_after_it_settles_it_even_while_it_streams(conversation):
    # A reply whose worker died mid-stream is reply_leases.py's to close, not the sweep's.
    trigger = post_message(conversation, "hello?", Sender.contact(), client_id="c-1")
    post_message(
        conversation,
        "",
        Sender.bot(),
        client_id=reply_client_id(trigger.pk),
        state=Message.State.STREAMING,
    )

    assert unanswered(conversation.tenant) == []


def test_agent_notes_and_events_after_it_do_not_settle_it(conversation, agent):
    trigger = post_message(conversation, "hello?", Sender.contact(), client_id="c-1")
    post_message(
        conversation, "looking", Sender.agent(agent), client_id="n-1", kind=Message.Kind.NOTE
    )

    assert [m.pk for m in unanswered(conversation.tenant)] == [trigger.pk]


@pytest.mark.parametrize("status", ["queued", "resolved"])
def test_conversations_away_from_the_bot_are_not_its_to_answer(tenant, inbox, status):
    conversation = ConversationFactory(tenant=tenant, inbox=inbox)
    post_message(conversation, "hello?", Sender.contact(), client_id="c-1")
    Conversation.objects.filter(pk=conversation.pk).update(status=status)

    assert unanswered(tenant) == []


def test_only_messages_between_the_grace_and_the_max_age_are_swept(conversation):
    post_message(conversation, "hello?", Sender.contact(), client_id="c-1")

    assert unanswered(conversation.tenant, grace=60) == []
    Message.objects.update(created_at=timezone.now() - timedelta(hours=2))
    Conversation.objects.update(last_message_at=timezone.now() - timedelta(hours=2))
    assert unanswered(conversation.tenant, max_age=3600) == []


def test_another_tenants_messages_are_not_listed(conversation, other_tenant):
    post_message(conversation, "hello?", Sender.contact(), client_id="c-1")

    assert unanswered(other_tenant) == []


@pytest.mark.services
def test_a_message_whose_job_was_lost_gets_its_reply_from_a_worker(
    tenant, inbox, fake_llm, celery_worker
):
    fake_llm.script(reply="Here to help.")
    inbox.bot = ModelBotFactory(
        tenant=tenant,
        base_url=fake_llm.base_url,
    )
    inbox.save()
    conversation = ConversationFactory(tenant=tenant, inbox=inbox)
    # Stored as the web process stores it, but with no job: the enqueue that would follow
    # is the one lost to the broker.
    trigger = post_message(conversation, "hello?", Sender.contact(), client_id="c-1")

    with override_settings(UNANSWERED_GRACE_SECONDS=0):
        assert unanswered_sweep() == 1
        assert unanswered_sweep() == 0  # enqueued once, not at every sweep

    reply = wait_until(
        lambda: Message.objects.filter(
            conversation=conversation,
            client_id=reply_client_id(trigger.pk),
            state=Message.State.COMPLETE,
        ).first(),
        timeout=20,
    )
    assert reply.text == "Here to help."
