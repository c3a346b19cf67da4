"""The console's side panel (contact, product cards, past conversations) and the agent
directory behind the transfer dialog: endpoints and selectors."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpdesk.console.selectors import agent_directory
from helpdesk.conversations.assignment import agent_presence_key
from helpdesk.conversations.models import Conversation, Message
from helpdesk.conversations.selectors import contact_conversations, contact_product_cards
from helpdesk.core.errors import InvalidInput, NotFound
from helpdesk.realtime.presence import presence_join, presence_leave
from tests.factories import ContactFactory, ConversationFactory, MembershipFactory

pytestmark = pytest.mark.django_db

AGENTS = "/console/api/agents"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
_seqs = itertools.count(1)


def contact_url(conversation_id) -> str:
    return f"/console/api/conversations/{conversation_id}/contact"


def card(n, **fields) -> dict:
    return {
        "product_id": str(n),
        "title": f"Product {n}",
        "price": "10.00",
        "currency": "EUR",
        "image": f"https://shop.example.com/{n}.jpg",
        "url": f"https://shop.example.com/p/{n}",
        "stock": 3,
        **fields,
    }


def message(conversation, *, at, sender="contact", kind="text", text="hi", metadata=None):
    """A stored message at a given time (message_post stamps "now")."""
    seq = conversation.last_seq + 1
    Conversation.objects.filter(pk=conversation.pk).update(last_seq=seq, last_message_at=at)
    conversation.last_seq = seq
    return Message.objects.create(
        tenant=conversation.tenant,
        conversation=conversation,
        seq=seq,
        client_id=f"m-{next(_seqs)}",
        sender_type=sender,
        sender_user=None,
        kind=kind,
        text=text,
        metadata=metadata or {},
        created_at=at,
    )


def past(tenant, contact, *, days_ago, status="resolved", **fields):
    conversation = ConversationFactory(tenant=tenant, contact=contact, status=status, **fields)
    Conversation.objects.filter(pk=conversation.pk).update(created_at=T0 - timedelta(days=days_ago))
    conversation.refresh_from_db()
    return conversation


# --- the contact panel endpoint ------------------------------------------------------------------


def test_anonymous_and_outsiders_get_json_403s(client, outsider, conversation):
    assert client.get(contact_url(conversation.pk)).json()["error"]["code"] == "unauthenticated"
    client.force_login(outsider)
    assert client.get(contact_url(conversation.pk)).json()["error"]["code"] == "forbidden"


def test_the_panel_has_the_contact_cards_and_past_conversations(agent_client, tenant, inbox):
    contact = ContactFactory(
        tenant=tenant, name="Ada", email="ada@example.com", metadata={"plan": "Pro"}
    )
    current = ConversationFactory(tenant=tenant, inbox=inbox, contact=contact, status="assigned",
                                  assignee=MembershipFactory(tenant=tenant).user)  # fmt: skip
    older = past(tenant, contact, days_ago=30)
    newer = past(tenant, contact, days_ago=2, status="bot")
    message(older, at=T0 - timedelta(days=30), text="Do you have boots?",
            metadata={"cards": [card(1)], "context": "internal plugin context"})  # fmt: skip
    message(current, at=T0, text="And this one?", metadata={"cards": [card(2)]})

    response = agent_client.get(contact_url(current.pk))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    assert set(body) == {"conversation", "contact", "cards", "conversations", "more_conversations"}
    assert body["conversation"] == current.pk
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
    assert body["cards"] == [
        {**card(2), "conversation": current.pk, "seen_at": T0.isoformat()},
        {**card(1), "conversation": older.pk, "seen_at": (T0 - timedelta(days=30)).isoformat()},
    ]
    assert "internal plugin context" not in response.content.decode()
    assert [c["id"] for c in body["conversations"]] == [newer.pk, older.pk]
    assert [c["status"] for c in body["conversations"]] == ["bot", "resolved"]
    assert body["conversations"][1]["last_message"] == {
        "seq": 1,
        "sender": "contact",
        "kind": "text",
        "preview": "Do you have boots?",
    }
    assert "last_message" not in body["conversations"][0]
    assert body["more_conversations"] is False


def test_an_anonymous_contact_has_no_given_name(agent_client, conversation):
    body = agent_client.get(contact_url(conversation.pk)).json()

    assert body["contact"]["given_name"] == ""
    assert body["contact"]["name"].startswith("Visitor ")
    assert body["cards"] == []
    assert body["conversations"] == []


def test_only_this_contacts_conversations_are_listed(agent_client, tenant, conversation):
    someone_else = ConversationFactory(tenant=tenant)
    message(someone_else, at=T0, metadata={"cards": [card(9)]})

    body = agent_client.get(contact_url(conversation.pk)).json()

    assert body["conversations"] == []
    assert body["cards"] == []


def test_another_tenants_conversation_is_a_404_exactly_like_a_missing_one(
    agent_client, other_tenant
):
    foreign = ConversationFactory(tenant=other_tenant, contact__name="Globex secret")
    message(foreign, at=T0, metadata={"cards": [card(1, title="Globex secret product")]})

    found = agent_client.get(contact_url(foreign.pk))
    missing = agent_client.get(contact_url(foreign.pk + 1000))

    assert found.status_code == 404
    assert found.json() == missing.json()
    assert found.json()["error"]["code"] == "not_found"
    assert b"Globex" not in found.content


def test_a_contact_id_shared_by_number_with_another_tenant_leaks_nothing(
    agent_client, tenant, other_tenant, conversation
):
    # The other tenant's conversations all belong to their own contacts; even a forged row
    # pointing at our contact stays out because every query also filters by tenant.
    foreign = ConversationFactory(tenant=other_tenant)
    Conversation.objects.filter(pk=foreign.pk).update(contact=conversation.contact)
    message(foreign, at=T0, metadata={"cards": [card(7, title="Globex thing")]})

    body = agent_client.get(contact_url(conversation.pk)).json()

    assert body["conversations"] == []
    assert body["cards"] == []


@pytest.mark.parametrize("bad_id", ["abc", "0", "-1", "1.5", "99999999999999999999999999"])
def test_malformed_ids_are_a_json_404(agent_client, bad_id):
    response = agent_client.get(contact_url(bad_id))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_only_get_is_allowed(agent_client, conversation):
    assert agent_client.post(contact_url(conversation.pk)).status_code == 405


def test_past_conversations_are_capped_at_20_and_say_there_are_more(agent_client, tenant, inbox):
    contact = ContactFactory(tenant=tenant)
    current = ConversationFactory(tenant=tenant, inbox=inbox, contact=contact)
    made = [past(tenant, contact, days_ago=n) for n in range(1, 23)]

    body = agent_client.get(contact_url(current.pk)).json()

    assert [c["id"] for c in body["conversations"]] == [c.pk for c in made[:20]]
    assert body["more_conversations"] is True


def test_the_panel_costs_the_same_queries_for_a_short_or_long_history(agent_client, tenant, inbox):
    contact = ContactFactory(tenant=tenant)
    current = ConversationFactory(tenant=tenant, inbox=inbox, contact=contact)

    def add(n, start):
        for i in range(start, start + n):
            c = past(tenant, contact, days_ago=i + 1)
            message(c, at=T0 - timedelta(days=i), text=f"look {i}",
                    metadata={"cards": [card(i), card(i + 1000)]})  # fmt: skip

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = agent_client.get(contact_url(current.pk))
        assert response.status_code == 200
        body = response.json()
        return len(queries), len(body["conversations"]), len(body["cards"])

    add(2, 0)
    few, conversations, cards = count()
    assert (conversations, cards) == (2, 4)
    add(30, 2)
    many, conversations, cards = count()

    assert (conversations, cards) == (20, 20)
    assert many == few
    assert few <= 8


# --- selectors: product cards --------------------------------------------------------------------


def test_cards_are_deduplicated_by_url_keeping_the_newest_mention(tenant, conversation):
    contact = conversation.contact
    message(conversation, at=T0, metadata={"cards": [card(1, price="12.00"), card(2)]})
    message(conversation, at=T0 + timedelta(minutes=5), metadata={"cards": [card(1, price="9.00")]})

    cards = contact_product_cards(tenant=tenant, contact_id=contact.pk)

    assert [(c["url"], c["price"]) for c in cards] == [
        ("https://shop.example.com/p/1", "9.00"),
        ("https://shop.example.com/p/2", "10.00"),
    ]
    assert cards[0]["seen_at"] == (T0 + timedelta(minutes=5)).isoformat()


def test_cards_keep_the_order_of_links_within_a_message(tenant, conversation):
    message(conversation, at=T0, metadata={"cards": [card(1), card(2), card(3)]})

    cards = contact_product_cards(tenant=tenant, contact_id=conversation.contact_id)

    assert [c["product_id"] for c in cards] == ["1", "2", "3"]


def test_cards_come_only_from_the_customers_messages(tenant, conversation, agent):
    message(conversation, at=T0, sender="bot", metadata={"cards": [card(1)]})
    message(conversation, at=T0, sender="agent", kind="note", metadata={"cards": [card(2)]})
    message(conversation, at=T0, metadata={"cards": [card(3)]})

    cards = contact_product_cards(tenant=tenant, contact_id=conversation.contact_id)

    assert [c["product_id"] for c in cards] == ["3"]


def test_malformed_card_metadata_is_skipped(tenant, conversation):
    message(conversation, at=T0, metadata={"cards": "not a list"})
    message(conversation, at=T0, metadata={"cards": [None, 5, {}, {"price": 1}]})
    message(conversation, at=T0, metadata={"cards": [{"title": "No link", "evil": "<x>"}]})

    cards = contact_product_cards(tenant=tenant, contact_id=conversation.contact_id)

    assert cards == [
        {
            "product_id": None,
            "title": "No link",
            "price": None,
            "currency": None,
            "image": None,
            "url": None,
            "stock": None,
            "conversation": conversation.pk,
            "seen_at": T0.isoformat(),
        }
    ]


def test_cards_stop_at_the_limit(tenant, conversation):
    message(conversation, at=T0, metadata={"cards": [card(n) for n in range(10)]})

    cards = contact_product_cards(tenant=tenant, contact_id=conversation.contact_id, limit=4)

    assert [c["product_id"] for c in cards] == ["0", "1", "2", "3"]


def test_card_selector_arguments_are_checked(tenant, conversation):
    with pytest.raises(InvalidInput):
        contact_product_cards(tenant=tenant, contact_id=conversation.contact_id, limit=0)
    with pytest.raises(NotFound):
        contact_product_cards(tenant=tenant, contact_id="abc")


def test_another_tenant_finds_no_cards_of_this_contact(tenant, other_tenant, conversation):
    message(conversation, at=T0, metadata={"cards": [card(1)]})

    assert contact_product_cards(tenant=other_tenant, contact_id=conversation.contact_id) == []


# --- selectors: past conversations ---------------------------------------------------------------


def test_contact_conversations_are_newest_first_without_the_excluded_one(tenant, conversation):
    contact = conversation.contact
    older = past(tenant, contact, days_ago=10)
    newer = past(tenant, contact, days_ago=1)
    Conversation.objects.filter(pk=conversation.pk).update(created_at=T0)

    everything = contact_conversations(tenant=tenant, contact_id=contact.pk)
    others = contact_conversations(tenant=tenant, contact_id=contact.pk, exclude_id=conversation.pk)

    assert everything == [conversation, newer, older]
    assert others == [newer, older]


def test_contact_conversations_of_another_tenant_are_empty(tenant, other_tenant, conversation):
    assert contact_conversations(tenant=other_tenant, contact_id=conversation.contact_id) == []


@pytest.mark.parametrize("limit", [0, 52, True, "5"])
def test_contact_conversations_check_the_limit(tenant, conversation, limit):
    with pytest.raises(InvalidInput):
        contact_conversations(tenant=tenant, contact_id=conversation.contact_id, limit=limit)


# --- the agent directory -------------------------------------------------------------------------


def test_anonymous_and_outsiders_get_json_403s_from_the_directory(client, outsider):
    assert client.get(AGENTS).json()["error"]["code"] == "unauthenticated"
    client.force_login(outsider)
    assert client.get(AGENTS).json()["error"]["code"] == "forbidden"


def test_the_directory_lists_this_tenants_active_members_with_load_and_presence(
    agent_client, agent, tenant, other_tenant, tenant_admin
):
    ada = MembershipFactory(tenant=tenant, user__first_name="Ada", user__last_name="Byron",
                            availability="online", max_concurrent_chats=3)  # fmt: skip
    MembershipFactory(tenant=tenant, is_active=False)
    MembershipFactory(tenant=tenant, user__is_active=False)
    MembershipFactory(tenant=other_tenant, user__first_name="Globex")
    ConversationFactory(tenant=tenant, status="assigned", assignee=ada.user)
    ConversationFactory(tenant=tenant, status="assigned", assignee=ada.user)
    ConversationFactory(tenant=tenant, status="resolved", assignee=ada.user)
    # Assigned in another tenant (a forged row): not part of this tenant's load.
    ConversationFactory(tenant=other_tenant, status="assigned", assignee=ada.user)
    presence_join(agent_presence_key(tenant.pk, ada.user_id))

    response = agent_client.get(AGENTS)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    by_id = {a["id"]: a for a in response.json()["agents"]}
    assert set(by_id) == {agent.pk, ada.user_id, tenant_admin.pk}
    assert by_id[ada.user_id] == {
        "id": ada.user_id,
        "name": "Ada Byron",
        "role": "agent",
        "availability": "online",
        "online": True,
        "open": 2,
        "capacity": 3,
    }
    assert by_id[agent.pk]["online"] is False
    assert by_id[agent.pk]["open"] == 0
    assert by_id[tenant_admin.pk]["role"] == "admin"
    assert "Globex" not in response.content.decode()


def test_presence_follows_connections_coming_and_going(tenant, agent):
    key = agent_presence_key(tenant.pk, agent.pk)

    presence_join(key)
    online = agent_directory(tenant=tenant)[0]["online"]
    presence_leave(key)
    offline = agent_directory(tenant=tenant)[0]["online"]

    assert (online, offline) == (True, False)


def test_presence_in_another_tenant_does_not_count(tenant, other_tenant, agent):
    presence_join(agent_presence_key(other_tenant.pk, agent.pk))

    assert agent_directory(tenant=tenant)[0]["online"] is False


def test_the_directory_costs_one_query_for_any_number_of_agents(tenant):
    def count():
        with CaptureQueriesContext(connection) as queries:
            agents = agent_directory(tenant=tenant)
        return len(queries), len(agents)

    MembershipFactory(tenant=tenant)
    few, n = count()
    assert n == 1
    for _ in range(15):
        membership = MembershipFactory(tenant=tenant)
        ConversationFactory(tenant=tenant, status="assigned", assignee=membership.user)
    many, n = count()

    assert n == 16
    assert few == many == 1
