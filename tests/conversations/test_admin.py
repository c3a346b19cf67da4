"""Contacts and conversations in the tenant-scoped admin.

The client is logged in as the admin of ``tenant`` (A) while ``other_tenant`` (B) has its own
inbox, agent, contacts and conversations.
"""

import json

import pytest

from helpdesk.conversations.models import Contact, Conversation, Message
from helpdesk.conversations.services import Sender
from tests.factories import (
    ContactFactory,
    ConversationFactory,
    InboxFactory,
    MembershipFactory,
    post_message,
)
from tests.support.admin_urls import admin_url

pytestmark = pytest.mark.django_db

MISSING_ID = 999_999
AUTOCOMPLETE = "/admin/autocomplete/"


@pytest.fixture
def own(tenant, inbox, agent):
    """A's rows: two inboxes (a filter with one choice is not shown), a bot conversation with
    Alice and one with Anna assigned to A's agent."""
    inbox.name = "Acme Website"
    inbox.save()
    support = InboxFactory(tenant=tenant, name="Acme Support")
    alice = ContactFactory(tenant=tenant, name="Alice Acme")
    anna = ContactFactory(tenant=tenant, name="Anna Acme")
    return {
        "inbox": inbox,
        "support": support,
        "agent": agent,
        "alice": alice,
        "anna": anna,
        "bot": ConversationFactory(tenant=tenant, inbox=inbox, contact=alice),
        "assigned": ConversationFactory(
            tenant=tenant, inbox=support, contact=anna, status="assigned", assignee=agent
        ),
    }


@pytest.fixture
def foreign(other_tenant):
    """B's rows: its own inbox, agent and contact, in an assigned conversation."""
    inbox = InboxFactory(tenant=other_tenant, name="Globex Storefront")
    agent = MembershipFactory(tenant=other_tenant, user__username="globex-agent").user
    contact = ContactFactory(tenant=other_tenant, name="Bob Globex", email="bob@globex.example")
    conversation = ConversationFactory(
        tenant=other_tenant, inbox=inbox, contact=contact, status="assigned", assignee=agent
    )
    return {"inbox": inbox, "agent": agent, "contact": contact, "conversation": conversation}


def autocomplete(client, model_name, field_name, term=""):
    return client.get(
        AUTOCOMPLETE,
        {
            "app_label": "conversations",
            "model_name": model_name,
            "field_name": field_name,
            "term": term,
        },
    )


# --- Listing -------------------------------------------------------------------------------------


def test_contact_changelist_lists_only_the_own_tenants_contacts(tenant_admin_client, own, foreign):
    response = tenant_admin_client.get(admin_url(Contact))

    assert response.status_code == 200
    changelist = response.context["cl"]
    assert changelist.result_count == 2
    assert changelist.full_result_count == 2
    assert set(changelist.result_list) == {own["alice"], own["anna"]}
    html = response.content.decode()
    assert "Alice Acme" in html
    assert "Bob Globex" not in html
    assert "bob@globex.example" not in html
    assert "column-tenant" not in html


def test_contact_search_does_not_find_another_tenants_contacts(tenant_admin_client, own, foreign):
    response = tenant_admin_client.get(admin_url(Contact), {"q": "Bob"})

    assert response.context["cl"].result_count == 0
    assert "Bob Globex" not in response.content.decode()


def test_conversation_changelist_lists_only_the_own_tenants_conversations(
    tenant_admin_client, own, foreign
):
    response = tenant_admin_client.get(admin_url(Conversation))

    assert response.status_code == 200
    changelist = response.context["cl"]
    assert changelist.result_count == 2
    assert changelist.full_result_count == 2
    assert set(changelist.result_list) == {own["bot"], own["assigned"]}
    html = response.content.decode()
    assert "Alice Acme" in html
    assert own["agent"].username in html
    assert "Bob Globex" not in html
    assert "Globex Storefront" not in html
    assert "globex-agent" not in html
    assert admin_url(Conversation, "change", foreign["conversation"].pk) not in html
    assert "column-tenant" not in html


def test_conversation_filters_offer_only_the_own_tenants_inboxes_and_agents(
    tenant_admin_client, own, foreign
):
    response = tenant_admin_client.get(admin_url(Conversation))

    specs = {spec.title: spec for spec in response.context["cl"].filter_specs}
    assert list(specs) == ["status", "inbox", "assignee"]
    assert sorted(specs["inbox"].lookup_choices) == [
        (own["inbox"].pk, "Acme Website"),
        (own["support"].pk, "Acme Support"),
    ]
    assert specs["assignee"].lookup_choices == [(own["agent"].pk, own["agent"].username)]


def test_filtering_conversations_by_another_tenants_inbox_finds_nothing(
    tenant_admin_client, own, foreign
):
    response = tenant_admin_client.get(
        admin_url(Conversation), {"inbox__id__exact": foreign["inbox"].pk}
    )

    assert response.status_code == 200
    assert response.context["cl"].result_count == 0
    assert "Bob Globex" not in response.content.decode()


def test_conversation_search_does_not_reach_another_tenants_messages(
    tenant_admin_client, own, foreign
):
    post_message(foreign["conversation"], "my globex order is late", Sender.contact())

    response = tenant_admin_client.get(admin_url(Conversation), {"q": "order"})

    assert response.context["cl"].result_count == 0


# --- Direct URLs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_another_tenants_contact_answers_404_like_a_missing_one(tenant_admin_client, foreign, view):
    found = tenant_admin_client.get(admin_url(Contact, view, foreign["contact"].pk))
    missing = tenant_admin_client.get(admin_url(Contact, view, MISSING_ID))

    assert found.status_code == 404
    assert missing.status_code == 404
    assert found.content == missing.content


@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_another_tenants_conversation_answers_404_like_a_missing_one(
    tenant_admin_client, foreign, view
):
    found = tenant_admin_client.get(admin_url(Conversation, view, foreign["conversation"].pk))
    missing = tenant_admin_client.get(admin_url(Conversation, view, MISSING_ID))

    assert found.status_code == 404
    assert missing.status_code == 404
    assert found.content == missing.content


def test_changing_another_tenants_contact_by_post_answers_404(tenant_admin_client, foreign):
    response = tenant_admin_client.post(
        admin_url(Contact, "change", foreign["contact"].pk),
        {"name": "Hijacked", "email": "", "metadata": "{}"},
    )

    assert response.status_code == 404
    foreign["contact"].refresh_from_db()
    assert foreign["contact"].name == "Bob Globex"


def test_deleting_another_tenants_conversation_by_post_answers_404(tenant_admin_client, foreign):
    response = tenant_admin_client.post(
        admin_url(Conversation, "delete", foreign["conversation"].pk), {"post": "yes"}
    )

    assert response.status_code == 404
    assert Conversation.objects.filter(pk=foreign["conversation"].pk).exists()


def test_deleting_another_tenants_contact_by_post_answers_404(tenant_admin_client, foreign):
    response = tenant_admin_client.post(
        admin_url(Contact, "delete", foreign["contact"].pk), {"post": "yes"}
    )

    assert response.status_code == 404
    assert Contact.objects.filter(pk=foreign["contact"].pk).exists()
    assert Conversation.objects.filter(pk=foreign["conversation"].pk).exists()


# --- Contacts: forms -----------------------------------------------------------------------------


def test_the_contact_form_hides_the_tenant_from_a_tenant_admin(tenant_admin_client, own):
    add_page = tenant_admin_client.get(admin_url(Contact, "add"))
    change_page = tenant_admin_client.get(admin_url(Contact, "change", own["alice"].pk))

    for page in (add_page, change_page):
        assert page.status_code == 200
        assert list(page.context["adminform"].form.fields) == [
            "name",
            "email",
            "external_id",
            "metadata",
        ]
        html = page.content.decode()
        assert 'name="tenant"' not in html
        assert "field-tenant" not in html


def test_a_crafted_tenant_in_the_add_contact_post_is_ignored(
    tenant_admin_client, tenant, other_tenant
):
    response = tenant_admin_client.post(
        admin_url(Contact, "add"),
        {"name": "Carol Acme", "email": "carol@acme.example", "metadata": "{}",
         "tenant": other_tenant.pk},
    )  # fmt: skip

    assert response.status_code == 302
    assert Contact.objects.get(name="Carol Acme").tenant == tenant
    assert not Contact.objects.filter(tenant=other_tenant).exists()


# --- Characters PostgreSQL cannot store ----------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["status__exact=%00", "q=%00", "q=alice%00", "inbox__id__exact=%00", "o=%00"]
)
def test_a_changelist_query_with_a_nul_is_a_400_page(tenant_admin_client, own, query):
    response = tenant_admin_client.get(f"{admin_url(Conversation)}?{query}")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert b"invalid_characters" in response.content


def test_a_contact_change_post_with_a_nul_is_a_400_and_changes_nothing(tenant_admin_client, own):
    alice = own["alice"]

    response = tenant_admin_client.post(
        admin_url(Contact, "change", alice.pk),
        {"name": "Alice\x00Acme", "email": "alice@acme.example", "metadata": "{}"},
    )

    assert response.status_code == 400
    assert b"invalid_characters" in response.content
    alice.refresh_from_db()
    assert (alice.name, alice.email) == ("Alice Acme", "")


@pytest.mark.parametrize(
    "metadata", ['{"plan": "\\u0000"}', '{"\\u0000": 1}', '{"plan": ["\\ud800"]}']
)
def test_contact_metadata_that_decodes_to_unstorable_text_is_a_form_error(
    tenant_admin_client, own, metadata
):
    """The form field holds JSON text: a NUL appears only once the JSON field decodes it, so the
    field's own validation catches it, as an error on the form."""
    alice = own["alice"]

    response = tenant_admin_client.post(
        admin_url(Contact, "change", alice.pk),
        {"name": "Alice Acme", "email": "", "metadata": metadata},
    )

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert [error.code for error in form.errors.as_data()["metadata"]] == ["invalid_characters"]
    alice.refresh_from_db()
    assert alice.metadata == {}


def test_contact_metadata_with_an_escaped_emoji_is_saved(tenant_admin_client, own):
    alice = own["alice"]

    response = tenant_admin_client.post(
        admin_url(Contact, "change", alice.pk),
        {"name": "Alice Acme", "email": "", "metadata": '{"mood": "\\ud83d\\ude00"}'},
    )

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.metadata == {"mood": "\U0001f600"}


# --- Autocomplete --------------------------------------------------------------------------------


def test_contact_autocomplete_returns_only_the_own_tenants_contacts(
    tenant_admin_client, own, foreign
):
    response = autocomplete(tenant_admin_client, "conversation", "contact")

    assert response.status_code == 200
    results = sorted(json.loads(response.content)["results"], key=lambda r: r["text"])
    assert results == [
        {"id": str(own["alice"].pk), "text": "Alice Acme"},
        {"id": str(own["anna"].pk), "text": "Anna Acme"},
    ]


def test_contact_autocomplete_does_not_find_another_tenants_contact_by_term(
    tenant_admin_client, own, foreign
):
    response = autocomplete(tenant_admin_client, "conversation", "contact", term="Bob")

    assert response.status_code == 200
    assert json.loads(response.content) == {"results": [], "pagination": {"more": False}}


def test_inbox_autocomplete_returns_only_the_own_tenants_inboxes(tenant_admin_client, own, foreign):
    response = autocomplete(tenant_admin_client, "conversation", "inbox")

    results = sorted(json.loads(response.content)["results"], key=lambda r: r["text"])
    assert results == [
        {"id": str(own["support"].pk), "text": "Acme Support"},
        {"id": str(own["inbox"].pk), "text": "Acme Website"},
    ]


@pytest.mark.parametrize(
    ("app_label", "model_name", "field_name"),
    [
        ("conversations", "conversation", "assignee"),
        ("conversations", "conversation", "tenant"),
        ("tenants", "membership", "user"),
        ("tenants", "inbox", "tenant"),
    ],
)
def test_autocomplete_of_users_and_tenants_is_refused_to_a_tenant_admin(
    tenant_admin_client, own, foreign, app_label, model_name, field_name
):
    response = tenant_admin_client.get(
        AUTOCOMPLETE,
        {"app_label": app_label, "model_name": model_name, "field_name": field_name, "term": ""},
    )

    assert response.status_code == 403
    assert b"globex" not in response.content


def test_autocomplete_is_closed_to_an_agent(client, agent, own):
    client.force_login(agent)

    response = autocomplete(client, "conversation", "contact")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_contact_autocomplete_returns_every_tenants_contacts_to_a_superuser(
    admin_client, own, foreign
):
    response = autocomplete(admin_client, "conversation", "contact")

    texts = sorted(r["text"] for r in json.loads(response.content)["results"])
    assert texts == ["Alice Acme", "Anna Acme", "Bob Globex"]


# --- Conversations: a read-only transcript -------------------------------------------------------


def test_a_conversation_cannot_be_added(tenant_admin_client, admin_client, own):
    listing = tenant_admin_client.get(admin_url(Conversation))

    assert tenant_admin_client.get(admin_url(Conversation, "add")).status_code == 403
    assert admin_client.get(admin_url(Conversation, "add")).status_code == 403
    assert admin_url(Conversation, "add") not in listing.content.decode()


def test_a_conversation_change_post_is_refused(tenant_admin_client, own, foreign):
    conversation = own["bot"]

    response = tenant_admin_client.post(
        admin_url(Conversation, "change", conversation.pk),
        {
            "inbox": own["inbox"].pk,
            "contact": foreign["contact"].pk,
            "status": "resolved",
            "handoff_reason": "tampered",
        },
    )

    assert response.status_code == 403
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.BOT
    assert conversation.contact == own["alice"]
    assert conversation.handoff_reason == ""


def test_a_superusers_conversation_change_post_is_refused_too(admin_client, own):
    response = admin_client.post(
        admin_url(Conversation, "change", own["bot"].pk), {"status": "resolved"}
    )

    assert response.status_code == 403
    own["bot"].refresh_from_db()
    assert own["bot"].status == Conversation.Status.BOT


def test_the_conversation_page_is_a_read_only_view_without_the_tenant(tenant_admin_client, own):
    response = tenant_admin_client.get(admin_url(Conversation, "change", own["assigned"].pk))

    assert response.status_code == 200
    assert list(response.context["adminform"].form.fields) == []
    html = response.content.decode()
    assert 'name="_save"' not in html
    assert "field-tenant" not in html
    assert "field-transcript" in html
    assert "Anna Acme" in html


def test_the_transcript_shows_messages_in_seq_order_escaped_with_private_notes_marked(
    tenant_admin_client, own
):
    conversation = own["assigned"]
    agent = own["agent"]
    for sender, text, kind in [
        (Sender.contact(), "<script>alert(1)</script>", Message.Kind.TEXT),
        (Sender.agent(agent), "Looking into it", Message.Kind.TEXT),
        (Sender.agent(agent), "customer seems upset", Message.Kind.NOTE),
        (Sender.contact(), "thanks & bye", Message.Kind.TEXT),
    ]:
        post_message(conversation, text, sender, kind)

    response = tenant_admin_client.get(admin_url(Conversation, "change", conversation.pk))

    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    positions = [
        html.index(escaped),
        html.index("Looking into it"),
        html.index("customer seems upset"),
        html.index("thanks &amp; bye"),
    ]
    assert positions == sorted(positions)
    assert html.count('<tr class="kind-note">') == 1
    assert html.count('<tr class="kind-text">') == 3
    note_row = html[html.index('<tr class="kind-note">') :]
    note_row = note_row[: note_row.index("</tr>")]
    assert "<td>3</td>" in note_row
    assert "Private note" in note_row
    assert f"Agent ({agent.username})" in note_row
    assert "customer seems upset" in note_row


def test_the_transcript_of_a_conversation_without_messages_is_an_empty_table(
    tenant_admin_client, own
):
    response = tenant_admin_client.get(admin_url(Conversation, "change", own["bot"].pk))

    assert "<tbody></tbody>" in response.content.decode()


# --- Superusers ----------------------------------------------------------------------------------


def test_a_superuser_sees_every_tenants_conversations_with_the_tenant_column_and_filter(
    admin_client, tenant, other_tenant, own, foreign
):
    response = admin_client.get(admin_url(Conversation))

    changelist = response.context["cl"]
    assert changelist.result_count == 3
    assert set(changelist.result_list) == {own["bot"], own["assigned"], foreign["conversation"]}
    assert [spec.title for spec in changelist.filter_specs] == [
        "status",
        "inbox",
        "assignee",
        "tenant",
    ]
    html = response.content.decode()
    assert "column-tenant" in html
    assert "Globex Storefront" in html


def test_a_superuser_sees_the_tenant_on_the_conversation_page(admin_client, own):
    response = admin_client.get(admin_url(Conversation, "change", own["bot"].pk))

    assert response.status_code == 200
    assert "field-tenant" in response.content.decode()


def test_a_superuser_sees_every_tenants_contacts(admin_client, own, foreign):
    response = admin_client.get(admin_url(Contact))

    assert set(response.context["cl"].result_list) == {
        own["alice"],
        own["anna"],
        foreign["contact"],
    }
