"""Who acts on a customer's message, and on an agent's text, without the domain knowing who."""

import pytest

from helpdesk.conversations import followers
from helpdesk.conversations.followers import (
    Stage,
    filter_agent_text_with,
    follow_customer_messages,
)
from helpdesk.conversations.models import Message
from helpdesk.conversations.services import Sender, agent_message_send
from helpdesk.conversations.tasks import customer_message_received
from tests.factories import post_message


@pytest.fixture
def only_test_followers(monkeypatch):
    """The registries empty for the test, the apps' registrations back afterwards."""
    monkeypatch.setattr(followers, "_followers", {})
    monkeypatch.setattr(followers, "_agent_text_filters", {})


def recording(calls: list, name: str, report: str | None):
    async def handler(message: Message) -> str | None:
        calls.append((name, message.pk, message.tenant.pk, message.text))
        return report

    return handler


def test_the_apps_follow_customer_messages_plugins_first_then_the_bot():
    assert [follower.name for follower in followers.customer_message_followers()] == [
        "plugins",
        "bot",
    ]
    assert list(followers._agent_text_filters) == ["plugins"]


@pytest.mark.usefixtures("only_test_followers")
def test_followers_act_by_stage_then_by_registration():
    calls = []
    follow_customer_messages(
        "answer", condition="TRUE", handler=recording(calls, "answer", None), stage=Stage.ANSWER
    )
    follow_customer_messages(
        "enrich", condition="TRUE", handler=recording(calls, "enrich", None), stage=Stage.ENRICH
    )
    follow_customer_messages(
        "enrich 2", condition="TRUE", handler=recording(calls, "e2", None), stage=Stage.ENRICH
    )

    assert [f.name for f in followers.customer_message_followers()] == [
        "enrich",
        "enrich 2",
        "answer",
    ]


@pytest.mark.usefixtures("only_test_followers")
@pytest.mark.django_db(transaction=True)
def test_the_job_hands_the_stored_message_to_each_follower_in_order(conversation):
    calls = []
    follow_customer_messages(
        "bot", condition="TRUE", handler=recording(calls, "bot", "answered"), stage=Stage.ANSWER
    )
    follow_customer_messages(
        "plugins", condition="TRUE", handler=recording(calls, "plugins", None), stage=Stage.ENRICH
    )
    message = post_message(conversation, "Where is my parcel?", Sender.contact())

    report = customer_message_received(message.pk)

    assert calls == [
        ("plugins", message.pk, conversation.tenant.pk, "Where is my parcel?"),
        ("bot", message.pk, conversation.tenant.pk, "Where is my parcel?"),
    ]
    assert report == "answered"


@pytest.mark.usefixtures("only_test_followers")
@pytest.mark.django_db(transaction=True)
def test_the_job_passes_over_what_is_not_a_customer_message(conversation, agent):
    calls = []
    follow_customer_messages(
        "bot", condition="TRUE", handler=recording(calls, "bot", "answered"), stage=Stage.ANSWER
    )
    reply = post_message(conversation, "On its way.", Sender.agent(agent))

    assert customer_message_received(reply.pk) == "gone"
    assert customer_message_received(reply.pk + 1000) == "gone"
    assert calls == []


@pytest.mark.usefixtures("only_test_followers")
def test_the_fast_path_asks_whether_any_condition_holds():
    assert followers.followed_sql() == "FALSE"
    handler = recording([], "x", None)
    follow_customer_messages("a", condition="1 = 2", handler=handler, stage=Stage.ENRICH)
    follow_customer_messages("b", condition="3 = 3", handler=handler, stage=Stage.ANSWER)

    assert followers.followed_sql() == "(1 = 2) OR (3 = 3)"


@pytest.mark.usefixtures("only_test_followers")
@pytest.mark.django_db
def test_an_agents_text_passes_every_registered_filter_in_order(conversation, agent):
    seen = []

    def exclaim(*, tenant, text):
        seen.append(tenant.pk)
        return f"{text}!"

    filter_agent_text_with("exclaim", exclaim)
    filter_agent_text_with("shout", lambda *, tenant, text: text.upper())

    result = agent_message_send(
        tenant=conversation.tenant,
        user=agent,
        conversation_id=conversation.pk,
        text="on its way",
        client_id=None,
    )
    note = agent_message_send(
        tenant=conversation.tenant,
        user=agent,
        conversation_id=conversation.pk,
        text="private",
        client_id=None,
        kind=Message.Kind.NOTE,
    )

    assert result.message.text == "ON ITS WAY!"
    # Private notes never reach the customer, so nothing filters them.
    assert note.message.text == "private"
    assert seen == [conversation.tenant.pk]
