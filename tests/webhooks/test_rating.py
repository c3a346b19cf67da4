"""The conversation.rated webhook: fired when a customer rates, with the rating in its data."""

import pytest

from helpdesk.conversations.lifecycle import conversation_resolve, conversation_takeover
from helpdesk.conversations.ratings import rating_submit
from helpdesk.core.errors import AlreadyRated
from helpdesk.webhooks.models import WebhookDelivery
from tests.webhooks.conftest import settle

pytestmark = pytest.mark.django_db(transaction=True)


def rate(conversation, score=4, comment="Helpful"):
    return rating_submit(
        tenant=conversation.tenant,
        contact=conversation.contact,
        conversation_id=conversation.pk,
        score=score,
        comment=comment,
    )


def test_a_rating_fires_conversation_rated(receiver, make_webhook, conversation, agent):
    make_webhook(receiver.url, events=("conversation.rated",))
    conversation_takeover(tenant=conversation.tenant, conversation_id=conversation.pk, agent=agent)
    conversation_resolve(tenant=conversation.tenant, conversation_id=conversation.pk, agent=agent)

    rating = rate(conversation)

    settle(lambda: receiver.received)
    body = receiver.received[0].json
    assert body["type"] == "conversation.rated"
    assert receiver.received[0].headers["X-Helpdesk-Event"] == "conversation.rated"
    assert body["data"]["conversation"]["id"] == conversation.pk
    assert body["data"]["conversation"]["status"] == "resolved"
    assert body["data"]["rating"] == {
        "score": 4,
        "scale": "five",
        "satisfied": True,
        "comment": "Helpful",
        "agent_id": agent.pk,
        "bot_id": None,
        "created_at": rating.created_at.isoformat(),
    }
    assert settle(lambda: WebhookDelivery.objects.filter(status="delivered").count()) == 1


def test_a_refused_second_rating_fires_nothing(receiver, make_webhook, conversation):
    make_webhook(receiver.url, events=("conversation.rated",))
    conversation_resolve(tenant=conversation.tenant, conversation_id=conversation.pk)
    rate(conversation)
    settle(lambda: receiver.received)

    with pytest.raises(AlreadyRated):
        rate(conversation, score=1)

    settle(lambda: WebhookDelivery.objects.filter(status="delivered").exists())
    assert receiver.types() == ["conversation.rated"]


def test_a_webhook_that_does_not_listen_hears_no_rating(receiver, make_webhook, conversation):
    make_webhook(receiver.url, events=("message.created",))
    conversation_resolve(tenant=conversation.tenant, conversation_id=conversation.pk)

    rate(conversation)

    settle(lambda: WebhookDelivery.objects.filter(status="delivered").exists())
    assert "conversation.rated" not in receiver.types()


def test_another_tenants_webhook_hears_nothing(receiver, make_webhook, conversation, other_tenant):
    make_webhook(receiver.url, events=("conversation.rated",), tenant=other_tenant)
    conversation_resolve(tenant=conversation.tenant, conversation_id=conversation.pk)

    rate(conversation)

    assert WebhookDelivery.objects.count() == 0
    assert receiver.received == []
