"""Full transcripts (selectors, plain text) and their exports in the tenant-scoped admin.

The hand-built conversation has every kind of message at known times: the customer, the bot
(with a product card and token usage), a handoff, Alice taking over, a private note, an agent
reply over two lines, a transfer to Bob and a resolve.
"""

import json
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from helpdesk.ai.models import TokenUsage
from helpdesk.conversations.lifecycle import conversation_handoff
from helpdesk.conversations.models import Conversation, Message
from helpdesk.conversations.services import Sender, message_post
from helpdesk.conversations.transcripts import (
    TRANSCRIPTS_EXPORT_MAX,
    conversation_transcript,
    conversations_transcripts,
    event_description,
    transcript_as_text,
)
from helpdesk.core.errors import InvalidInput, NotFound
from tests.factories import ContactFactory, ConversationFactory, InboxFactory, MembershipFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 24, 9, 30, 0, tzinfo=UTC)
_ids = count(1)


def add(conv, sender, text, *, after, kind="text", user=None, state="complete", **metadata):
    seq = Message.objects.filter(conversation=conv).count() + 1
    Conversation.objects.filter(pk=conv.pk).update(last_seq=seq)
    return Message.objects.create(
        tenant=conv.tenant,
        conversation=conv,
        seq=seq,
        client_id=f"t{next(_ids)}",
        sender_type=sender,
        sender_user=user,
        kind=kind,
        text=text,
        metadata=metadata,
        state=state,
        created_at=T0 + timedelta(seconds=after),
    )


@pytest.fixture
def alice(tenant):
    return MembershipFactory(
        tenant=tenant, user__username="alice", user__first_name="Alice", user__last_name="Doe"
    ).user


@pytest.fixture
def bob(tenant):
    return MembershipFactory(tenant=tenant, user__username="bob").user


@pytest.fixture
def story(tenant, alice, bob):
    inbox = InboxFactory(tenant=tenant, name="Acme Website")
    contact = ContactFactory(tenant=tenant, name="Jane Customer", email="jane@example.com")
    conv = ConversationFactory(
        tenant=tenant, inbox=inbox, contact=contact, status="resolved", assignee=bob
    )
    Conversation.objects.filter(pk=conv.pk).update(
        created_at=T0,
        queued_at=T0 + timedelta(seconds=20),
        first_response_at=T0 + timedelta(seconds=2),
        resolved_at=T0 + timedelta(minutes=10),
        handoff_reason="asked for a human",
    )
    conv.refresh_from_db()
    add(conv, "contact", "Do you have these shoes? https://shop.example.com/p/1", after=0)
    reply = add(
        conv,
        "bot",
        "Yes, in stock.",
        after=2,
        cards=[{"title": "Runner", "price": "59.00", "currency": "EUR", "url": "https://s/p/1"}],
        context=["internal plugin context"],
    )
    TokenUsage.objects.create(
        tenant=tenant,
        conversation=conv,
        message=reply,
        model="gpt-4o-mini",
        prompt_tokens=120,
        completion_tokens=8,
        source="api",
    )
    add(conv, "contact", "I want a human", after=15)
    add(
        conv,
        "system",
        "You're being connected to a member of our team.",
        after=20,
        kind="event",
        event="handoff",
        reason="asked for a human",
    )
    # "by" with a name stored, as the console stores it; the transfer's "to" only by id.
    add(
        conv,
        "system",
        "Alice Doe joined the conversation",
        after=40,
        kind="event",
        event="takeover",
        by=alice.pk,
        by_name="Alice Doe",
    )
    add(conv, "agent", "VIP, be nice", after=45, kind="note", user=alice)
    add(conv, "agent", "Hi Jane!\nLet me check.", after=50, user=alice)
    add(
        conv,
        "system",
        "Bob joined the conversation",
        after=70,
        kind="event",
        event="transfer",
        by=alice.pk,
        to=bob.pk,
    )
    add(conv, "system", "Resolved", after=600, kind="event", event="resolve", by=bob.pk)
    conv.refresh_from_db()
    return conv


EXPECTED_TEXT = """\
Conversation #{id}
Contact:   Jane Customer <jane@example.com>
Inbox:     Acme Website
Status:    Resolved
Assignee:  bob
Created:   2026-11-24 09:30:00
Resolved:  2026-11-24 09:40:00
Handoff:   asked for a human
Times are UTC.

[2026-11-24 09:30:00] Customer: Do you have these shoes? https://shop.example.com/p/1
[2026-11-24 09:30:02] Bot: Yes, in stock.
                      [card] Runner · 59.00 EUR · https://s/p/1
[2026-11-24 09:30:15] Customer: I want a human
[2026-11-24 09:30:20] — Handed to the team (reason: asked for a human) —
[2026-11-24 09:30:40] — Alice Doe took over —
[2026-11-24 09:30:45] Alice Doe (private note): VIP, be nice
[2026-11-24 09:30:50] Alice Doe: Hi Jane!
                      Let me check.
[2026-11-24 09:31:10] — Alice Doe transferred the conversation to bob —
[2026-11-24 09:40:00] — bob resolved the conversation —
"""


# --- The selector --------------------------------------------------------------------------------


def test_the_transcript_has_the_conversations_facts(tenant, story, bob):
    transcript = conversation_transcript(tenant=tenant, conversation_id=story.pk)

    assert transcript["format"] == "helpdesk.transcript/1"
    assert transcript["conversation"] == {
        "id": story.pk,
        "tenant": tenant.slug,
        "status": "resolved",
        "inbox": {"id": story.inbox_id, "name": "Acme Website"},
        "contact": {"id": story.contact_id, "name": "Jane Customer", "email": "jane@example.com"},
        "assignee": {"id": bob.pk, "name": "bob"},
        "handoff_reason": "asked for a human",
        "created_at": "2026-11-24T09:30:00+00:00",
        "queued_at": "2026-11-24T09:30:20+00:00",
        "first_response_at": "2026-11-24T09:30:02+00:00",
        "resolved_at": "2026-11-24T09:40:00+00:00",
        "last_seq": 9,
    }


def test_every_message_note_and_event_in_seq_order_with_who_did_it(tenant, story, alice, bob):
    messages = conversation_transcript(tenant=tenant, conversation_id=story.pk)["messages"]

    assert [(m["seq"], m["sender"], m["sender_name"], m["kind"]) for m in messages] == [
        (1, "contact", "Customer", "text"),
        (2, "bot", "Bot", "text"),
        (3, "contact", "Customer", "text"),
        (4, "system", "System", "event"),
        (5, "system", "System", "event"),
        (6, "agent", "Alice Doe", "note"),
        (7, "agent", "Alice Doe", "text"),
        (8, "system", "System", "event"),
        (9, "system", "System", "event"),
    ]
    assert messages[1] == {
        "seq": 2,
        "sender": "bot",
        "sender_name": "Bot",
        "kind": "text",
        "text": "Yes, in stock.",
        "state": "complete",
        "created_at": "2026-11-24T09:30:02+00:00",
        # Plugin context is working data, not part of the record.
        "metadata": {
            "cards": [
                {"title": "Runner", "price": "59.00", "currency": "EUR", "url": "https://s/p/1"}
            ]
        },
        "tokens": {"model": "gpt-4o-mini", "prompt": 120, "completion": 8},
    }
    assert messages[3]["metadata"] == {"event": "handoff", "reason": "asked for a human"}
    assert messages[4]["metadata"] == {"event": "takeover", "by": alice.pk, "by_name": "Alice Doe"}
    # Ids without a stored name are named from the users table.
    assert messages[7]["metadata"] == {
        "event": "transfer",
        "by": alice.pk,
        "by_name": "Alice Doe",
        "to": bob.pk,
        "to_name": "bob",
    }
    assert messages[8]["metadata"] == {"event": "resolve", "by": bob.pk, "by_name": "bob"}


def test_the_plain_text_transcript(tenant, story):
    transcript = conversation_transcript(tenant=tenant, conversation_id=story.pk)

    assert transcript_as_text(transcript) == EXPECTED_TEXT.format(id=story.pk)


def test_a_deleted_agent_keeps_their_messages_without_a_name(tenant, story, alice):
    alice.delete()

    transcript = conversation_transcript(tenant=tenant, conversation_id=story.pk)

    assert transcript["messages"][6]["sender_name"] == "Agent"
    assert transcript["messages"][6]["text"] == "Hi Jane!\nLet me check."
    # The name stored with the event outlives the account.
    assert event_description(transcript["messages"][4]) == "Alice Doe took over"


@pytest.mark.parametrize(
    ("metadata", "text", "expected"),
    [
        ({"event": "accept", "by_name": "Alice"}, "", "Alice accepted the conversation"),
        (
            {"event": "handback", "by_name": "Alice"},
            "",
            "Alice handed the conversation back to the bot",
        ),
        ({"event": "reopen", "by_name": "Alice"}, "", "Alice reopened the conversation"),
        ({"event": "reopen"}, "", "Conversation reopened"),
        (
            {"event": "reopen", "to": 5, "to_name": "Bob"},
            "",
            "Conversation reopened, back with Bob",
        ),
        (
            {"event": "reopen", "reason": "the customer wrote again"},
            "",
            "Conversation reopened and queued (reason: the customer wrote again)",
        ),
        ({"event": "assign", "by": 5, "by_name": "Ann"}, "", "Assigned to Ann"),
        (
            {"event": "resolve", "by": None, "by_name": "The assistant"},
            "",
            "The assistant resolved the conversation",
        ),
        (
            {"event": "transfer", "by_name": "Ann", "to": 9},
            "",
            "Ann transferred the conversation to user #9",
        ),
        ({"event": "resolve"}, "", "Conversation resolved"),
        ({"event": "assign", "to": 7, "to_name": "Bob"}, "", "Assigned to Bob"),
        (
            {"event": "assign", "by_name": "Ann", "to_name": "Bob"},
            "",
            "Ann assigned the conversation to Bob",
        ),
        ({"event": "handoff"}, "", "Handed to the team"),
        ({"event": "something_new"}, "Something new happened", "Something new happened"),
        ({"event": "something_new"}, "", "Something new"),
    ],
)
def test_event_descriptions(metadata, text, expected):
    assert event_description({"metadata": metadata, "text": text}) == expected


def test_streaming_and_interrupted_replies_are_marked(tenant, conversation):
    Conversation.objects.filter(pk=conversation.pk).update(created_at=T0)
    add(conversation, "bot", "Let me expl", after=1, state="interrupted")
    add(conversation, "bot", "", after=2, state="streaming")

    text = transcript_as_text(
        conversation_transcript(tenant=tenant, conversation_id=conversation.pk)
    )

    assert "[2026-11-24 09:30:01] Bot (interrupted): Let me expl\n" in text
    assert "[2026-11-24 09:30:02] Bot (still writing): \n" in text


def test_a_conversation_without_messages(tenant, conversation):
    transcript = conversation_transcript(tenant=tenant, conversation_id=conversation.pk)

    assert transcript["messages"] == []
    text = transcript_as_text(transcript)
    assert "Assignee:  -\n" in text
    assert "Resolved:  -\n" in text
    assert text.endswith("Times are UTC.\n\n")


def test_events_written_by_the_services_read_well(tenant, conversation):
    message_post(
        tenant=tenant, conversation_id=conversation.pk, sender=Sender.contact(), text="human pls"
    )
    conversation_handoff(tenant=tenant, conversation_id=conversation.pk, reason="asked for a human")

    transcript = conversation_transcript(tenant=tenant, conversation_id=conversation.pk)

    event = transcript["messages"][1]
    assert (event["kind"], event["metadata"]) == (
        "event",
        {"event": "handoff", "reason": "asked for a human"},
    )
    assert "— Handed to the team (reason: asked for a human) —" in transcript_as_text(transcript)


def test_the_lifecycle_services_events_read_well(tenant, conversation, alice, bob):
    """The events the console's actions write, as they write them."""
    from helpdesk.conversations.lifecycle import (
        conversation_resolve,
        conversation_takeover,
        conversation_transfer,
    )

    message_post(
        tenant=tenant, conversation_id=conversation.pk, sender=Sender.contact(), text="hello"
    )
    conversation_takeover(tenant=tenant, conversation_id=conversation.pk, agent=alice)
    conversation_transfer(
        tenant=tenant, conversation_id=conversation.pk, agent=alice, to_user_id=bob.pk
    )
    conversation_resolve(tenant=tenant, conversation_id=conversation.pk, agent=bob)

    transcript = conversation_transcript(tenant=tenant, conversation_id=conversation.pk)
    events = [event_description(m) for m in transcript["messages"] if m["kind"] == "event"]

    assert events == [
        "Alice Doe took over",
        "Alice Doe transferred the conversation to bob",
        "bob resolved the conversation",
    ]


@pytest.mark.parametrize("conversation_id", ["other", 999_999, "abc", 0, -1, True, None, "1.5"])
def test_another_tenants_or_a_missing_conversation_is_not_found(
    tenant, other_tenant, conversation_id
):
    foreign = ConversationFactory(tenant=other_tenant)
    if conversation_id == "other":
        conversation_id = foreign.pk

    with pytest.raises(NotFound):
        conversation_transcript(tenant=tenant, conversation_id=conversation_id)


def test_many_transcripts_cost_a_fixed_number_of_queries(tenant, other_tenant, story):
    foreign = ConversationFactory(tenant=other_tenant)
    others = [ConversationFactory(tenant=tenant) for _ in range(3)]
    for conv in others:
        add(conv, "contact", "hi", after=0)
        add(conv, "system", "x", after=1, kind="event", event="takeover", by=999)

    with CaptureQueriesContext(connection) as captured:
        transcripts = conversations_transcripts(
            tenant=tenant, conversation_ids=[story.pk, foreign.pk, *(c.pk for c in others)]
        )

    assert len(captured) == 3  # conversations, messages (with usage), named users
    # Oldest first (the story is dated T0, the others now); the foreign id is left out.
    by_age = sorted([story, *others], key=lambda c: (c.created_at, c.pk))
    assert [t["conversation"]["id"] for t in transcripts] == [c.pk for c in by_age]


def test_too_many_transcripts_at_once_are_refused(tenant):
    with pytest.raises(InvalidInput):
        conversations_transcripts(
            tenant=tenant, conversation_ids=list(range(1, TRANSCRIPTS_EXPORT_MAX + 2))
        )


# --- The admin -----------------------------------------------------------------------------------


def change_url(conv):
    return reverse("admin:conversations_conversation_change", args=[conv.pk])


def export_url(conv, kind):
    return reverse(f"admin:conversations_conversation_transcript_{kind}", args=[conv.pk])


CHANGELIST = "/admin/conversations/conversation/"


def test_the_admin_page_has_export_buttons_and_shows_who_did_what(tenant_admin_client, story):
    response = tenant_admin_client.get(change_url(story))

    html = response.content.decode()
    assert f'href="{export_url(story, "json")}"' in html
    assert f'href="{export_url(story, "text")}"' in html
    event_rows = [row for row in html.split("<tr ") if row.startswith('class="kind-event"')]
    assert len(event_rows) == 4
    assert "<td>Alice Doe</td>" in event_rows[1]
    assert "Alice Doe took over" in event_rows[1]
    assert "Alice Doe transferred the conversation to bob" in event_rows[2]
    assert "Handed to the team (reason: asked for a human)" in event_rows[0]
    assert "<td>2026-11-24 09:30:40</td>" in event_rows[1]


def test_the_admin_downloads_one_transcript(tenant_admin_client, story):
    as_json = tenant_admin_client.get(export_url(story, "json"))
    as_text = tenant_admin_client.get(export_url(story, "text"))

    assert as_json.status_code == 200
    assert as_json["Content-Type"] == "application/json; charset=utf-8"
    day = story.created_at.date().isoformat()  # named like the console's downloads
    assert as_json["Content-Disposition"] == (
        f'attachment; filename="conversation-{story.pk}-{day}.json"'
    )
    assert json.loads(as_json.content)["conversation"]["id"] == story.pk
    assert as_text["Content-Type"] == "text/plain; charset=utf-8"
    assert as_text.content.decode() == EXPECTED_TEXT.format(id=story.pk)


@pytest.mark.parametrize("kind", ["json", "text"])
def test_a_tenant_admin_cannot_download_another_tenants_transcript(
    tenant_admin_client, other_tenant, kind
):
    foreign = ConversationFactory(tenant=other_tenant)
    missing = Conversation(pk=999_999)

    assert tenant_admin_client.get(export_url(foreign, kind)).status_code == 404
    assert tenant_admin_client.get(export_url(missing, kind)).status_code == 404


def test_agents_and_anonymous_users_get_no_admin_download(client, agent, story):
    anonymous = client.get(export_url(story, "json"))
    client.force_login(agent)
    as_agent = client.get(export_url(story, "json"))

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/admin/login/")
    assert as_agent.status_code == 302


def test_the_export_action_answers_a_json_array_of_the_own_tenants_selection(
    tenant_admin_client, tenant, other_tenant, story
):
    second = ConversationFactory(tenant=tenant)
    Conversation.objects.filter(pk=second.pk).update(created_at=T0 - timedelta(days=1))
    foreign = ConversationFactory(tenant=other_tenant)

    response = tenant_admin_client.post(
        CHANGELIST,
        {
            "action": "export_transcripts_json",
            # A crafted foreign id is simply not part of the admin's change list.
            "_selected_action": [story.pk, second.pk, foreign.pk],
        },
    )

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="transcripts.json"'
    body = json.loads(response.content)
    assert [t["conversation"]["id"] for t in body] == [second.pk, story.pk]  # oldest first
    assert len(body[1]["messages"]) == 9


def test_the_text_export_action_concatenates_transcripts(tenant_admin_client, tenant, story):
    second = ConversationFactory(tenant=tenant)
    Conversation.objects.filter(pk=second.pk).update(created_at=T0 + timedelta(days=1))

    response = tenant_admin_client.post(
        CHANGELIST,
        {"action": "export_transcripts_text", "_selected_action": [story.pk, second.pk]},
    )

    text = response.content.decode()
    assert response["Content-Disposition"] == 'attachment; filename="transcripts.txt"'
    assert text.startswith(EXPECTED_TEXT.format(id=story.pk) + "\n" + "=" * 72 + "\n\n")
    assert f"Conversation #{second.pk}\n" in text


def test_a_superuser_exports_across_tenants(admin_client, tenant, other_tenant, story):
    foreign = ConversationFactory(tenant=other_tenant)

    response = admin_client.post(
        CHANGELIST,
        {"action": "export_transcripts_json", "_selected_action": [story.pk, foreign.pk]},
    )

    body = json.loads(response.content)
    assert sorted((t["conversation"]["id"], t["conversation"]["tenant"]) for t in body) == sorted(
        [(story.pk, tenant.slug), (foreign.pk, other_tenant.slug)]
    )


def test_the_export_action_refuses_too_many_at_once(tenant_admin_client, tenant, monkeypatch):
    monkeypatch.setattr("helpdesk.conversations.admin.TRANSCRIPTS_EXPORT_MAX", 2)
    selected = [ConversationFactory(tenant=tenant).pk for _ in range(3)]

    response = tenant_admin_client.post(
        CHANGELIST,
        {"action": "export_transcripts_json", "_selected_action": selected},
        follow=True,
    )

    assert response.status_code == 200
    assert "Select at most 2 conversations" in response.content.decode()
