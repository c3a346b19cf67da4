"""The pre-chat form through the realtime protocol and the widget's options: the first
message.send carries ``data.prechat``; refused answers come back as error frames naming the
field; the customer is named by their answers from then on (typing, presence, lists)."""

import pytest
from channels.db import database_sync_to_async

from helpdesk.conversations.models import Contact, Conversation, Message
from helpdesk.widget.models import PrechatField
from tests.realtime.clients import message_send

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


@pytest.fixture
def form_inbox(inbox):
    inbox.prechat_enabled = True
    inbox.save()
    PrechatField.objects.create(
        tenant=inbox.tenant, inbox=inbox, position=0, key="name", kind="name",
        label="Your name", required=True,
    )  # fmt: skip
    PrechatField.objects.create(
        tenant=inbox.tenant, inbox=inbox, position=1, key="email", kind="email", label="E-mail"
    )
    PrechatField.objects.create(
        tenant=inbox.tenant, inbox=inbox, position=2, key="topic", kind="choice",
        label="Topic", required=True, choices="Billing\n Shipping \n\n",
    )  # fmt: skip
    return inbox


async def test_missing_answers_are_an_error_frame_naming_the_field_and_store_nothing(
    form_inbox, issue_token, connect_customer
):
    issued = await db(issue_token)()
    client = await connect_customer(form_inbox, issued.token)
    await client.recv_type("welcome")

    await client.send(message_send("Hello", "c-1", prechat={"topic": "Billing"}))
    error = await client.recv_type("error")

    assert error["data"]["code"] == "prechat_required"
    assert error["data"]["field"] == "name"
    assert error["data"]["ref"] == "c-1"
    assert await db(Message.objects.count)() == 0
    assert await db(Conversation.objects.count)() == 0


async def test_an_invalid_answer_is_prechat_invalid(form_inbox, issue_token, connect_customer):
    issued = await db(issue_token)()
    client = await connect_customer(form_inbox, issued.token)
    await client.recv_type("welcome")

    await client.send(
        message_send("Hello", "c-1", prechat={"name": "Ada", "topic": "Billing", "email": "nope"})
    )
    error = await client.recv_type("error")

    assert (error["data"]["code"], error["data"]["field"]) == ("prechat_invalid", "email")


async def test_answers_name_the_customer_in_typing_and_in_the_agents_list(
    form_inbox, issue_token, connect_customer, connect_agent, agent
):
    console = await connect_agent(agent)
    await console.recv_type("welcome")
    issued = await db(issue_token)()
    customer = await connect_customer(form_inbox, issued.token)
    await customer.recv_type("welcome")

    await customer.send(
        message_send(
            "Hello", "c-1", prechat={"name": "Ada Lovelace", "topic": "Billing", "email": ""}
        )
    )
    ack = await customer.recv_type("ack")
    conversation_id = ack["conversation"]
    await customer.recv_type("message.created")  # the new conversation's replay
    await customer.recv_type("resumed")

    updated = await console.recv_type("conversation.updated")
    assert updated["data"]["contact"]["name"] == "Ada Lovelace"
    await console.send({"type": "subscribe", "conversation": conversation_id})
    await console.recv_type("subscribed")
    await customer.send(
        {"type": "typing", "conversation": conversation_id, "data": {"typing": True}}
    )
    typing = await console.recv_type("typing")
    assert typing["data"]["name"] == "Ada Lovelace"

    contact = await db(Contact.objects.get)()
    assert contact.name == "Ada Lovelace"
    conversation = await db(Conversation.objects.get)()
    assert conversation.details == {"name": "Ada Lovelace", "topic": "Billing"}

    # The next message goes to the open conversation without answers.
    await customer.send(message_send("Still there?", "c-2", conversation=conversation_id))
    assert (await customer.recv_type("ack"))["seq"] == 2
