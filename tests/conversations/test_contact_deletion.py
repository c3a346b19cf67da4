"""Deleting a contact deletes their conversations, messages and token usages — and nothing else.

Tenant A has two contacts (Xavier, to be deleted, and Yvonne); tenant B has Zoe. Each has two
conversations with customer and bot messages, a private note, an event and token usages. After
Xavier goes, everything of Yvonne, of Zoe and of both tenants' set-up is still there, counted
row by row.
"""

from itertools import count

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from helpdesk.ai.models import BotConfig, TokenUsage
from helpdesk.conversations.models import Contact, Conversation, Message
from helpdesk.tenants.models import Inbox, Membership, Tenant
from tests.factories import (
    BotConfigFactory,
    ContactFactory,
    ConversationFactory,
    InboxFactory,
    MembershipFactory,
)

pytestmark = pytest.mark.django_db

_ids = count(1)


def add(conv, sender, text, *, kind="text", user=None, **metadata):
    seq = Message.objects.filter(conversation=conv).count() + 1
    return Message.objects.create(
        tenant=conv.tenant,
        conversation=conv,
        seq=seq,
        client_id=f"d{next(_ids)}",
        sender_type=sender,
        sender_user=user,
        kind=kind,
        text=text,
        metadata=metadata,
    )


def populate(tenant, name: str) -> Contact:
    """A contact of ``tenant`` with two conversations of 5 messages and 2 token usages each."""
    agent = MembershipFactory(tenant=tenant).user
    inbox = Inbox.objects.filter(tenant=tenant).first() or InboxFactory(tenant=tenant)
    contact = ContactFactory(tenant=tenant, name=name, email=f"{name.lower()}@example.com")
    for _ in range(2):
        conv = ConversationFactory(
            tenant=tenant, inbox=inbox, contact=contact, status="assigned", assignee=agent
        )
        add(conv, "contact", f"hello from {name}")
        first = add(conv, "bot", "hi!")
        add(conv, "system", "Handed over", kind="event", event="handoff", reason="asked")
        add(conv, "agent", f"{name} is a VIP", kind="note", user=agent)
        second = add(conv, "bot", "still here")
        for reply in (first, second):
            TokenUsage.objects.create(
                tenant=tenant,
                conversation=conv,
                message=reply,
                model="m",
                prompt_tokens=10,
                completion_tokens=2,
                source="api",
            )
    return contact


@pytest.fixture
def people(tenant, other_tenant):
    BotConfigFactory(tenant=tenant)
    BotConfigFactory(tenant=other_tenant)
    return {
        "xavier": populate(tenant, "Xavier"),
        "yvonne": populate(tenant, "Yvonne"),
        "zoe": populate(other_tenant, "Zoe"),
    }


def snapshot(contact: Contact) -> dict[str, set[int]]:
    """The ids of everything that belongs to ``contact``."""
    conversations = Conversation.objects.filter(contact=contact)
    return {
        "conversations": set(conversations.values_list("pk", flat=True)),
        "messages": set(
            Message.objects.filter(conversation__in=conversations).values_list("pk", flat=True)
        ),
        "usages": set(
            TokenUsage.objects.filter(conversation__in=conversations).values_list("pk", flat=True)
        ),
    }


def everything_else() -> dict[str, int]:
    return {
        "tenants": Tenant.objects.count(),
        "inboxes": Inbox.objects.count(),
        "memberships": Membership.objects.count(),
        "users": get_user_model().objects.count(),
        "bots": BotConfig.objects.count(),
    }


def assert_only_xavier_is_gone(people, kept_before, setup_before, xavier_rows):
    assert not Contact.objects.filter(pk=people["xavier"].pk).exists()
    assert not Conversation.objects.filter(pk__in=xavier_rows["conversations"]).exists()
    assert not Message.objects.filter(pk__in=xavier_rows["messages"]).exists()
    assert not TokenUsage.objects.filter(pk__in=xavier_rows["usages"]).exists()
    for name in ("yvonne", "zoe"):
        assert Contact.objects.filter(pk=people[name].pk).exists()
        assert snapshot(people[name]) == kept_before[name], name
    assert Conversation.objects.count() == 4
    assert Message.objects.count() == 20
    assert TokenUsage.objects.count() == 8
    assert everything_else() == setup_before


@pytest.fixture
def before(people):
    xavier_rows = snapshot(people["xavier"])
    assert {k: len(v) for k, v in xavier_rows.items()} == {
        "conversations": 2,
        "messages": 10,
        "usages": 4,
    }
    kept = {name: snapshot(people[name]) for name in ("yvonne", "zoe")}
    return xavier_rows, kept, everything_else()


def test_deleting_a_contact_through_the_orm(people, before):
    xavier_rows, kept, setup = before

    people["xavier"].delete()

    assert_only_xavier_is_gone(people, kept, setup, xavier_rows)


def contact_delete_url(contact):
    return reverse("admin:conversations_contact_delete", args=[contact.pk])


def test_the_tenant_admins_delete_page_lists_what_goes(tenant_admin_client, people):
    response = tenant_admin_client.get(contact_delete_url(people["xavier"]))

    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["perms_lacking"] == set()
    assert "Are you sure" in html
    assert dict(response.context["model_count"]) == {
        "contacts": 1,
        "conversations": 2,
        "messages": 10,
        "token usages": 4,
    }


def test_deleting_a_contact_through_the_tenant_admin(tenant_admin_client, people, before):
    xavier_rows, kept, setup = before

    response = tenant_admin_client.post(contact_delete_url(people["xavier"]), {"post": "yes"})

    assert response.status_code == 302
    assert_only_xavier_is_gone(people, kept, setup, xavier_rows)


def test_deleting_contacts_with_the_admins_bulk_action(tenant_admin_client, people, before):
    xavier_rows, kept, setup = before

    response = tenant_admin_client.post(
        reverse("admin:conversations_contact_changelist"),
        # Zoe's id is crafted in: she is not in this admin's change list, so not deleted.
        {"action": "delete_selected", "_selected_action": [people["xavier"].pk, people["zoe"].pk],
         "post": "yes"},
    )  # fmt: skip

    assert response.status_code == 302
    assert_only_xavier_is_gone(people, kept, setup, xavier_rows)


def test_a_tenant_admin_cannot_delete_another_tenants_contact(tenant_admin_client, people):
    zoe = people["zoe"]
    rows = snapshot(zoe)

    page = tenant_admin_client.get(contact_delete_url(zoe))
    post = tenant_admin_client.post(contact_delete_url(zoe), {"post": "yes"})

    assert page.status_code == 404
    assert post.status_code == 404
    assert Contact.objects.filter(pk=zoe.pk).exists()
    assert snapshot(zoe) == rows


def test_an_agent_cannot_delete_contacts_in_the_admin(client, agent, people):
    client.force_login(agent)

    response = client.post(contact_delete_url(people["xavier"]), {"post": "yes"})

    assert response.status_code == 302  # to the admin login: agents are not staff
    assert Contact.objects.filter(pk=people["xavier"].pk).exists()


def test_deleting_one_conversation_in_the_admin_takes_its_messages_and_usages(
    tenant_admin_client, people
):
    """The same cascade one level down: the contact and their other conversation stay."""
    doomed, kept = Conversation.objects.filter(contact=people["xavier"]).order_by("pk")
    others = {name: snapshot(people[name]) for name in ("yvonne", "zoe")}

    response = tenant_admin_client.post(
        reverse("admin:conversations_conversation_delete", args=[doomed.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Conversation.objects.filter(pk=doomed.pk).exists()
    assert not Message.objects.filter(conversation_id=doomed.pk).exists()
    assert not TokenUsage.objects.filter(conversation_id=doomed.pk).exists()
    assert Message.objects.filter(conversation=kept).count() == 5
    assert TokenUsage.objects.filter(conversation=kept).count() == 2
    assert {name: snapshot(people[name]) for name in others} == others
