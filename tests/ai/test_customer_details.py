"""The bot is told who the customer is: the name, e-mail and phone on their contact and the
pre-chat answers with their labels ("Customer details:" in the system prompt)."""

import pytest
from channels.db import database_sync_to_async

from helpdesk.ai.context import build_messages, customer_details
from helpdesk.ai.pipeline import bot_reply
from helpdesk.conversations.services import Sender, message_post
from helpdesk.widget.models import PrechatField
from tests.factories import ContactFactory, ConversationFactory, InboxFactory, ModelBotFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def answered(tenant, fake_llm):
    bot = ModelBotFactory(tenant=tenant, base_url=fake_llm.base_url, system_prompt="Be kind.")
    inbox = InboxFactory(tenant=tenant, bot=bot, prechat_enabled=True)
    PrechatField.objects.create(
        tenant=tenant, inbox=inbox, key="topic", kind="choice", label="Topic", choices="Billing"
    )
    PrechatField.objects.create(tenant=tenant, inbox=inbox, key="name", kind="name", label="Name")
    contact = ContactFactory(tenant=tenant, name="Ada", email="ada@example.com", phone="12345")
    return ConversationFactory(
        tenant=tenant, inbox=inbox, contact=contact, details={"name": "Ada", "topic": "Billing"}
    )


def test_the_details_name_the_customer_and_their_answers_once(answered):
    assert customer_details(answered) == [
        "Name: Ada",
        "E-mail: ada@example.com",
        "Phone: 12345",
        "Topic: Billing",
    ]


def test_an_anonymous_customer_who_said_nothing_adds_no_section(tenant):
    conversation = ConversationFactory(tenant=tenant)

    assert customer_details(conversation) == []
    [system] = build_messages(
        bot=ModelBotFactory(tenant=tenant, system_prompt="Be kind."),
        turns=[],
        extra_context=[],
        customer=customer_details(conversation),
    )
    assert system.content == "Be kind."


async def test_the_bots_system_prompt_carries_the_customer_details(answered, fake_llm):
    fake_llm.script(reply="Hello Ada!")
    trigger = (
        await database_sync_to_async(message_post)(
            tenant=answered.tenant,
            conversation_id=answered.pk,
            sender=Sender.contact(),
            text="Hi, I was double charged",
        )
    ).message

    outcome = await bot_reply(trigger)

    assert outcome.status == "answered"
    system = fake_llm.chat_requests[-1].messages[0]
    assert system["role"] == "system"
    assert system["content"].startswith("Be kind.")
    assert (
        "Customer details:\n- Name: Ada\n- E-mail: ada@example.com\n- Phone: 12345\n"
        "- Topic: Billing"
    ) in system["content"]
