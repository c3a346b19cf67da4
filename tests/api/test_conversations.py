"""/api/v1/conversations and their messages."""

import pytest

from helpdesk.conversations.models import Conversation, Message
from helpdesk.conversations.services import Sender
from tests.factories import ConversationFactory, MembershipFactory, post_message

pytestmark = pytest.mark.django_db


def test_the_list_pages_with_a_cursor_and_never_repeats_a_row(api, tenant):
    made = [ConversationFactory(tenant=tenant) for _ in range(5)]
    for conversation in made:
        post_message(conversation, "hello", Sender.contact())

    seen, cursor = [], None
    while True:
        body = api.get("/conversations", limit=2, **({"cursor": cursor} if cursor else {})).json()
        seen += [c["id"] for c in body["conversations"]]
        cursor = body["next"]
        if cursor is None:
            break

    assert sorted(seen) == sorted(c.pk for c in made)
    assert len(seen) == len(set(seen))


def test_the_list_filters_by_status_and_assignee(api, tenant, agent):
    queued = ConversationFactory(tenant=tenant, status="queued")
    mine = ConversationFactory(tenant=tenant, status="assigned", assignee=agent)
    ConversationFactory(tenant=tenant, status="bot")

    assert [
        c["id"] for c in api.get("/conversations", status="queued").json()["conversations"]
    ] == [queued.pk]
    assert [
        c["id"] for c in api.get("/conversations", assignee=agent.pk).json()["conversations"]
    ] == [mine.pk]


@pytest.mark.parametrize(
    "params",
    [{"status": "nope"}, {"limit": 0}, {"limit": 5000}, {"cursor": "garbage"}, {"inbox": "x"}],
)
def test_bad_filters_are_400_with_a_field(api, params):
    response = api.get("/conversations", **params)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["field"]


def test_another_tenants_conversation_answers_like_a_missing_one(api, other_tenant):
    theirs = ConversationFactory(tenant=other_tenant)

    foreign = api.get(f"/conversations/{theirs.pk}")
    missing = api.get("/conversations/999999999")
    malformed = api.get("/conversations/abc")

    assert foreign.status_code == missing.status_code == malformed.status_code == 404
    assert foreign.json() == missing.json()
    assert api.post(f"/conversations/{theirs.pk}/messages", {"text": "hi"}).status_code == 404
    assert Message.objects.filter(conversation=theirs).count() == 0


def test_posting_with_a_client_id_is_idempotent(api, conversation):
    body = {"text": "We'll refund you today.", "client_id": "crm-42"}

    first = api.post(f"/conversations/{conversation.pk}/messages", body)
    again = api.post(f"/conversations/{conversation.pk}/messages", body)

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["sender"] == "agent"
    assert Message.objects.filter(conversation=conversation, kind="text").count() == 1


def test_an_integration_bot_posts_as_the_bot(api, conversation):
    response = api.post(
        f"/conversations/{conversation.pk}/messages", {"text": "Order shipped.", "sender": "bot"}
    )

    assert response.status_code == 201
    assert response.json()["sender"] == "bot"
    assert response.json()["metadata"] == {"integration": "admin key"}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"text": ""},
        {"text": 5},
        {"text": "x" * 20001},
        {"text": "a\u0000b"},
        {"kind": "event", "text": "x"},
    ],
)
def test_bad_messages_are_refused_and_nothing_is_stored(api, conversation, body):
    response = api.post(f"/conversations/{conversation.pk}/messages", body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"invalid", "text_empty", "invalid_characters"}
    assert Message.objects.filter(conversation=conversation).count() == 0


def test_an_oversized_body_is_refused(api, conversation, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = api.post(f"/conversations/{conversation.pk}/messages", {"text": "x" * 2000})

    assert response.status_code in (400, 413)
    assert "error" in response.json()


def test_messages_are_listed_after_a_seq(api, conversation):
    for n in range(3):
        post_message(conversation, f"m{n}", Sender.contact())

    body = api.get(f"/conversations/{conversation.pk}/messages", after=1).json()

    assert [m["text"] for m in body["messages"]] == ["m1", "m2"]
    assert body["has_more"] is False


def test_assign_takes_a_queued_conversation_to_the_agent(api, tenant, agent):
    conversation = ConversationFactory(tenant=tenant, status="queued")

    response = api.post(f"/conversations/{conversation.pk}/assign", {"agent_id": agent.pk})

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["assignee"]) == ("assigned", agent.pk)


def test_assign_moves_an_assigned_conversation_to_another_agent(api, tenant, agent):
    other = MembershipFactory(tenant=tenant).user
    conversation = ConversationFactory(tenant=tenant, status="assigned", assignee=agent)

    response = api.post(f"/conversations/{conversation.pk}/assign", {"agent_id": other.pk})

    assert response.json()["assignee"] == other.pk


def test_assigning_to_another_tenants_agent_is_not_found(api, tenant, other_tenant):
    stranger = MembershipFactory(tenant=other_tenant).user
    conversation = ConversationFactory(tenant=tenant, status="queued")

    response = api.post(f"/conversations/{conversation.pk}/assign", {"agent_id": stranger.pk})

    assert response.status_code == 404
    conversation.refresh_from_db()
    assert conversation.status == "queued"


def test_status_resolve_and_reopen(api, tenant, agent):
    conversation = ConversationFactory(tenant=tenant, status="assigned", assignee=agent)

    resolved = api.post(f"/conversations/{conversation.pk}/status", {"status": "resolved"})
    again = api.post(f"/conversations/{conversation.pk}/status", {"status": "resolved"})
    reopened = api.post(f"/conversations/{conversation.pk}/status", {"status": "open"})

    assert resolved.json()["status"] == "resolved"
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid_transition"
    assert reopened.json()["status"] == "assigned"


def test_transfer_with_a_note(api, tenant, agent):
    other = MembershipFactory(tenant=tenant).user
    conversation = ConversationFactory(tenant=tenant, status="assigned", assignee=agent)

    response = api.post(
        f"/conversations/{conversation.pk}/transfer", {"agent_id": other.pk, "note": "VIP"}
    )

    assert response.json()["assignee"] == other.pk
    assert Message.objects.filter(conversation=conversation, kind="note", text="VIP").exists()
    assert Conversation.objects.get(pk=conversation.pk).assignee == other
