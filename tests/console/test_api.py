from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpdesk.conversations.models import Message
from helpdesk.conversations.services import Sender
from tests.factories import ContactFactory, ConversationFactory, MembershipFactory, post_message

pytestmark = pytest.mark.django_db

LIST = "/console/api/conversations"
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
CONVERSATION_KEYS = {
    "id",
    "status",
    "inbox",
    "contact",
    "assignee",
    "assignee_name",
    "has_bot",
    "last_seq",
    "handoff_reason",
    "follow_up",
    "last_message_at",
    "created_at",
    "rating",
}
MESSAGE_KEYS = {
    "id",
    "seq",
    "client_id",
    "sender",
    "sender_name",
    "kind",
    "text",
    "metadata",
    "attachments",
    "state",
    "created_at",
}


def detail_url(conversation_id) -> str:
    return f"{LIST}/{conversation_id}"


def messages_url(conversation_id) -> str:
    return f"{LIST}/{conversation_id}/messages"


@pytest.fixture
def transcript(conversation, agent):
    """seq 1 customer, 2 bot (with a product card), 3 private note, 4 agent."""
    return [
        post_message(conversation, "hi", Sender.contact()),
        post_message(
            conversation,
            "here it is",
            Sender.bot(),
            metadata={"cards": [{"title": "Shoe", "price": 10, "currency": "EUR"}]},
        ),
        post_message(conversation, "VIP customer", Sender.agent(agent), Message.Kind.NOTE),
        post_message(conversation, "hello from an agent", Sender.agent(agent)),
    ]


@pytest.fixture
def foreign_conversation(other_tenant):
    conversation = ConversationFactory(tenant=other_tenant, status="queued")
    post_message(conversation, "another tenant's secret", Sender.contact())
    return conversation


def assert_error(response, status, code, field=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    if field is not None:
        assert body["error"]["field"] == field
    return body


# --- who may ask ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [LIST, detail_url(1), messages_url(1)])
def test_anonymous_requests_get_a_json_403(client, url):
    assert_error(client.get(url), 403, "unauthenticated")


@pytest.mark.parametrize("url", [LIST, detail_url(1), messages_url(1)])
def test_users_without_membership_get_a_json_403(client, outsider, url):
    client.force_login(outsider)

    assert_error(client.get(url), 403, "forbidden")


def test_a_disabled_membership_loses_the_api(client, agent, conversation):
    client.force_login(agent)
    agent.membership.is_active = False
    agent.membership.save()

    assert_error(client.get(detail_url(conversation.pk)), 403, "forbidden")


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_only_get_is_allowed(agent_client, method):
    response = getattr(agent_client, method)(LIST)

    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET, HEAD"


def test_answers_are_never_cached(agent_client):
    assert "no-store" in agent_client.get(LIST)["Cache-Control"]


# --- the list ------------------------------------------------------------------------------------


def test_the_list_answers_conversation_payloads_with_their_last_message(
    agent_client, conversation, transcript
):
    body = agent_client.get(LIST, {"view": "all"}).json()

    assert set(body) == {"conversations", "next"}
    assert body["next"] is None
    [row] = body["conversations"]
    assert set(row) == CONVERSATION_KEYS | {"last_message"}
    assert row["id"] == conversation.pk
    assert row["status"] == "bot"
    assert row["last_seq"] == 4
    contact = conversation.contact
    assert (
        row["contact"]
        == {
            "id": contact.pk,
            "name": contact.name or contact.email,  # "" while anonymous: the console says "Visitor"
            "visitor": str(contact.visitor_id)[:8],
        }
    )
    assert row["last_message"] == {
        "seq": 4,
        "sender": "agent",
        "kind": "text",
        "preview": "hello from an agent",
    }


def test_a_conversation_without_messages_has_no_last_message(agent_client, conversation):
    [row] = agent_client.get(LIST).json()["conversations"]

    assert row["id"] == conversation.pk
    assert "last_message" not in row


def test_the_view_defaults_to_all(agent_client, tenant, agent):
    bot = ConversationFactory(tenant=tenant, status="bot", last_message_at=T0)
    resolved = ConversationFactory(
        tenant=tenant, status="resolved", last_message_at=T0 + timedelta(minutes=1)
    )

    rows = agent_client.get(LIST).json()["conversations"]

    assert [r["id"] for r in rows] == [resolved.pk, bot.pk]


@pytest.mark.parametrize(
    ("view", "expected"), [("bot", "bot"), ("queued", "queued"), ("mine", "mine"), ("all", None)]
)
def test_each_view_filters(agent_client, tenant, agent, view, expected):
    made = {
        "bot": ConversationFactory(tenant=tenant, status="bot"),
        "queued": ConversationFactory(tenant=tenant, status="queued"),
        "mine": ConversationFactory(tenant=tenant, status="assigned", assignee=agent),
        "theirs": ConversationFactory(
            tenant=tenant, status="assigned", assignee=MembershipFactory(tenant=tenant).user
        ),
    }

    rows = agent_client.get(LIST, {"view": view}).json()["conversations"]

    wanted = {c.pk for c in made.values()} if expected is None else {made[expected].pk}
    assert {r["id"] for r in rows} == wanted


@pytest.mark.parametrize("view", ["bot", "queued", "mine", "all"])
def test_the_list_never_shows_another_tenants_conversations(
    agent_client, agent, conversation, foreign_conversation, view
):
    # Even one assigned to this agent's user id in the other tenant stays out of "mine".
    ConversationFactory(tenant=foreign_conversation.tenant, status="assigned", assignee=agent)

    rows = agent_client.get(LIST, {"view": view}).json()["conversations"]

    assert foreign_conversation.pk not in {r["id"] for r in rows}
    assert all(r["id"] != foreign_conversation.pk for r in rows)
    assert "secret" not in str(rows)


@pytest.mark.parametrize("view", ["", "BOT", "resolved", "x" * 5000])
def test_an_unknown_view_is_a_400(agent_client, view):
    assert_error(agent_client.get(LIST, {"view": view}), 400, "invalid", field="view")


@pytest.mark.parametrize("query", [{"view": "all\x00"}, {"before": "\x00"}, {"limit\x00": "1"}])
def test_a_parameter_with_a_nul_is_a_400(agent_client, conversation, query):
    assert_error(agent_client.get(LIST, query), 400, "invalid_characters")


@pytest.mark.parametrize("limit", ["0", "201", "-1", "abc", "1.5", "１０", "9" * 40])
def test_a_bad_limit_is_a_400(agent_client, limit):
    assert_error(agent_client.get(LIST, {"limit": limit}), 400, "invalid", field="limit")


def test_the_next_cursor_pages_through_everything_once(agent_client, tenant):
    stamps = [T0, T0, None, T0 + timedelta(minutes=5), None, T0 - timedelta(days=1)]
    made = [ConversationFactory(tenant=tenant, last_message_at=s) for s in stamps]
    everything = [r["id"] for r in agent_client.get(LIST, {"limit": 50}).json()["conversations"]]

    walked, before = [], None
    while True:
        params = {"limit": 4} | ({"before": before} if before else {})
        body = agent_client.get(LIST, params).json()
        walked += [r["id"] for r in body["conversations"]]
        before = body["next"]
        if before is None:
            break

    assert walked == everything
    assert sorted(walked) == sorted(c.pk for c in made)


@pytest.mark.parametrize(
    "before",
    [
        "garbage",
        "_",
        "n_",
        "_5",
        "n_abc",
        "n_-5",
        "-5_5",
        "1.5_5",
        "n_" + "9" * 30,
        "9" * 40 + "_1",
        "99999999999999999999_1",
        "n_9223372036854775808",
        "1_000_5",
    ],
)
def test_a_bad_cursor_is_a_400(agent_client, conversation, before):
    assert_error(agent_client.get(LIST, {"before": before}), 400, "invalid", field="before")


def test_the_list_costs_the_same_queries_for_3_or_30_rows(agent_client, tenant):
    def count():
        with CaptureQueriesContext(connection) as queries:
            response = agent_client.get(LIST, {"view": "all"})
        assert response.status_code == 200
        return len(queries), len(response.json()["conversations"])

    def add(n):
        for _ in range(n):
            c = ConversationFactory(tenant=tenant, contact=ContactFactory(tenant=tenant))
            post_message(c, "hello", Sender.contact())

    add(3)
    few, rows = count()
    assert rows == 3
    add(27)
    many, rows = count()

    assert rows == 30
    assert many == few
    assert few <= 6


# --- one conversation ----------------------------------------------------------------------------


def test_the_detail_has_the_conversation_and_its_contact(agent_client, tenant, inbox, agent):
    contact = ContactFactory(
        tenant=tenant, name="Ada", email="ada@example.com", metadata={"plan": "Pro"}
    )
    conversation = ConversationFactory(
        tenant=tenant, inbox=inbox, contact=contact, status="assigned", assignee=agent
    )
    post_message(conversation, "hi", Sender.contact())

    response = agent_client.get(detail_url(conversation.pk))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"conversation", "contact", "details", "inbox", "assignee", "read"}
    assert body["details"] == []
    assert set(body["conversation"]) == CONVERSATION_KEYS | {"last_message"}
    assert body["conversation"]["id"] == conversation.pk
    assert body["conversation"]["status"] == "assigned"
    assert body["contact"] == {
        "id": contact.pk,
        "name": "Ada",
        "given_name": "Ada",
        "email": "ada@example.com",
        "phone": "",
        "external_id": "",
        "visitor_id": str(contact.visitor_id),
        "metadata": {"plan": "Pro"},
        "created_at": contact.created_at.isoformat(),
        "last_seen_at": None,
        "language": "",
        "language_name": "",
    }
    assert body["inbox"] == {"id": inbox.pk, "name": inbox.name}
    assert body["assignee"] == {"id": agent.pk, "name": agent.username}
    assert body["read"] == {"contact": 0, "agent": 0}


def test_an_unassigned_conversation_has_no_assignee(agent_client, conversation):
    assert agent_client.get(detail_url(conversation.pk)).json()["assignee"] is None


@pytest.mark.parametrize("suffix", ["", "/messages"])
def test_another_tenants_conversation_is_a_404_exactly_like_a_missing_one(
    agent_client, foreign_conversation, suffix
):
    missing_id = foreign_conversation.pk + 1000

    foreign = agent_client.get(detail_url(foreign_conversation.pk) + suffix)
    missing = agent_client.get(detail_url(missing_id) + suffix)

    assert_error(foreign, 404, "not_found")
    assert foreign.json() == missing.json()
    assert foreign.headers["Content-Type"] == missing.headers["Content-Type"]
    assert b"secret" not in foreign.content


@pytest.mark.parametrize(
    "bad_id",
    [
        "abc",
        "0",
        "-1",
        "1.5",
        "1e3",
        "%20",
        "99999999999999999999999999",
        "9223372036854775808",
        "true",
    ],
)
@pytest.mark.parametrize("suffix", ["", "/messages"])
def test_malformed_and_huge_ids_are_a_json_404(agent_client, bad_id, suffix):
    assert_error(agent_client.get(detail_url(bad_id) + suffix), 404, "not_found")


@pytest.mark.parametrize("suffix", ["", "/messages", "/contact"])
def test_an_id_with_a_nul_is_a_json_400(agent_client, conversation, suffix):
    url = detail_url(f"{conversation.pk}%00") + suffix

    assert_error(agent_client.get(url), 400, "invalid_characters")


# --- messages ------------------------------------------------------------------------------------


def test_messages_include_private_notes_for_agents(agent_client, conversation, transcript, agent):
    response = agent_client.get(messages_url(conversation.pk))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"messages", "has_more"}
    assert body["has_more"] is False
    assert [m["seq"] for m in body["messages"]] == [1, 2, 3, 4]
    assert all(set(m) == MESSAGE_KEYS for m in body["messages"])
    note = body["messages"][2]
    assert note["kind"] == "note"
    assert note["sender"] == "agent"
    assert note["sender_name"] == agent.username
    assert note["text"] == "VIP customer"
    assert body["messages"][1]["metadata"] == {
        "cards": [{"title": "Shoe", "price": 10, "currency": "EUR"}]
    }


def test_messages_after_a_seq(agent_client, conversation, transcript):
    body = agent_client.get(messages_url(conversation.pk), {"after": 2}).json()

    assert [m["seq"] for m in body["messages"]] == [3, 4]


def test_messages_after_the_last_seq_are_none(agent_client, conversation, transcript):
    for after in ["4", "9223372036854775807"]:
        body = agent_client.get(messages_url(conversation.pk), {"after": after}).json()
        assert body == {"messages": [], "has_more": False}


def test_a_full_page_says_there_may_be_more(agent_client, conversation, transcript):
    body = agent_client.get(messages_url(conversation.pk), {"limit": 2}).json()

    assert [m["seq"] for m in body["messages"]] == [1, 2]
    assert body["has_more"] is True


@pytest.mark.parametrize(
    "after", ["abc", "-1", "1.5", "1e2", "0x10", "9223372036854775808", "9" * 60, "٣"]
)
def test_a_bad_after_is_a_400(agent_client, conversation, after):
    assert_error(
        agent_client.get(messages_url(conversation.pk), {"after": after}),
        400,
        "invalid",
        field="after",
    )


@pytest.mark.parametrize("limit", ["0", "201", "x"])
def test_a_bad_messages_limit_is_a_400(agent_client, conversation, limit):
    assert_error(
        agent_client.get(messages_url(conversation.pk), {"limit": limit}),
        400,
        "invalid",
        field="limit",
    )


def test_message_text_comes_back_as_data_not_markup(agent_client, conversation):
    post_message(conversation, "<script>alert(1)</script>", Sender.contact())

    response = agent_client.get(messages_url(conversation.pk))

    assert response["Content-Type"] == "application/json"
    assert response.json()["messages"][0]["text"] == "<script>alert(1)</script>"


def test_the_detail_has_the_pre_chat_answers_with_their_labels(agent_client, tenant, inbox):
    from helpdesk.widget.models import PrechatField

    for position, (key, kind, label) in enumerate(
        [("topic", "choice", "Topic"), ("name", "name", "Your name")]
    ):
        PrechatField.objects.create(
            tenant=tenant, inbox=inbox, position=position, key=key, kind=kind, label=label,
            choices="Billing",
        )  # fmt: skip
    contact = ContactFactory(tenant=tenant, name="Ada", phone="+1 555 0100", external_id="u-1")
    conversation = ConversationFactory(
        tenant=tenant,
        inbox=inbox,
        contact=contact,
        details={"name": "Ada", "topic": "Billing", "removed": "kept"},
    )

    body = agent_client.get(detail_url(conversation.pk)).json()

    assert body["details"] == [
        {"key": "topic", "label": "Topic", "value": "Billing"},
        {"key": "name", "label": "Your name", "value": "Ada"},
        {"key": "removed", "label": "removed", "value": "kept"},
    ]
    assert (body["contact"]["phone"], body["contact"]["external_id"]) == ("+1 555 0100", "u-1")
