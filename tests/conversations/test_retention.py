"""Data lifecycle: retention over conversations of several ages, contact export, the audit log."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from helpdesk.conversations.models import Contact, Conversation, Message, RetentionPolicy
from helpdesk.conversations.retention import contact_export, retention_apply, retention_sweep
from helpdesk.conversations.services import Sender
from helpdesk.tenants.models import AuditEntry
from tests.factories import ContactFactory, ConversationFactory, post_message
from tests.support.admin_urls import admin_url

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def resolved(tenant, days_ago, contact=None, text="My address is 1 Main St.", note=None):
    conversation = ConversationFactory(tenant=tenant, **({"contact": contact} if contact else {}))
    post_message(conversation, text, Sender.contact())
    if note is not None:
        post_message(conversation, note[1], Sender.agent(note[0]), kind="note")
    Conversation.objects.filter(pk=conversation.pk).update(
        status="resolved", resolved_at=NOW - timedelta(days=days_ago)
    )
    return conversation


@pytest.fixture
def ages(tenant):
    """Resolved 100, 40 and 10 days ago, and one open conversation started long ago."""
    old, middle, recent = resolved(tenant, 100), resolved(tenant, 40), resolved(tenant, 10)
    still_open = ConversationFactory(tenant=tenant, status="queued")
    Conversation.objects.filter(pk=still_open.pk).update(created_at=NOW - timedelta(days=400))
    return old, middle, recent, still_open


def test_without_a_policy_nothing_is_touched(tenant, ages):
    assert retention_apply(tenant=tenant, now=NOW) == 0
    assert Conversation.objects.count() == 4


def test_deletion_takes_only_resolved_conversations_past_the_period(tenant, other_tenant, ages):
    old, middle, recent, still_open = ages
    theirs = resolved(other_tenant, 500)
    RetentionPolicy.objects.create(tenant=tenant, resolved_for_days=30, action="delete")

    assert retention_apply(tenant=tenant, now=NOW) == 2

    assert set(Conversation.objects.values_list("pk", flat=True)) == {
        recent.pk,
        still_open.pk,
        theirs.pk,
    }
    assert not Message.objects.filter(conversation_id__in=[old.pk, middle.pk]).exists()
    assert not Contact.objects.filter(pk__in=[old.contact_id, middle.contact_id]).exists()
    entry = AuditEntry.objects.get(tenant=tenant)
    assert (entry.action, entry.actor_label, entry.details["conversations"]) == (
        "retention_applied",
        "retention job",
        2,
    )
    assert retention_apply(tenant=tenant, now=NOW) == 0  # idempotent


def test_anonymising_keeps_the_rows_and_removes_texts_and_details(tenant, ages):
    old, middle, recent, still_open = ages
    Contact.objects.filter(pk=old.contact_id).update(name="Li Lei", email="li@example.com")
    RetentionPolicy.objects.create(tenant=tenant, resolved_for_days=30, action="anonymise")

    assert retention_apply(tenant=tenant, now=NOW) == 2

    assert Conversation.objects.count() == 4
    assert set(Message.objects.filter(conversation=old).values_list("text", flat=True)) == {""}
    assert Message.objects.get(conversation=recent).text == "My address is 1 Main St."
    contact = Contact.objects.get(pk=old.contact_id)
    assert (contact.name, contact.email) == ("", "")
    assert retention_apply(tenant=tenant, now=NOW) == 0


def test_a_contact_with_a_newer_kept_conversation_keeps_their_details(tenant):
    contact = ContactFactory(tenant=tenant, name="Han Meimei")
    resolved(tenant, 100, contact=contact)
    resolved(tenant, 5, contact=contact)
    RetentionPolicy.objects.create(tenant=tenant, resolved_for_days=30, action="anonymise")

    retention_apply(tenant=tenant, now=NOW)

    assert Contact.objects.get(pk=contact.pk).name == "Han Meimei"


def test_the_sweep_and_the_command_apply_every_tenants_policy(tenant, other_tenant, capsys):
    resolved(tenant, 100)
    resolved(other_tenant, 100)
    RetentionPolicy.objects.create(tenant=tenant, resolved_for_days=30)
    RetentionPolicy.objects.create(tenant=other_tenant, resolved_for_days=30)

    assert retention_sweep(now=NOW) == 2
    resolved(tenant, 100)
    call_command("apply_retention")
    assert "1 conversations" in capsys.readouterr().out


def test_an_export_holds_everything_about_the_contact_and_is_audited(tenant, agent):
    conversation = resolved(tenant, 1, text="Where is order 1001?", note=(agent, "Checking."))

    exported = contact_export(tenant=tenant, contact_id=conversation.contact_id, actor=agent)

    assert exported["contact"]["id"] == conversation.contact_id
    [only] = exported["conversations"]
    assert [m["text"] for m in only["messages"]] == ["Where is order 1001?", "Checking."]
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor) == ("contact_exported", agent)


def test_another_tenants_contact_cannot_be_exported(tenant, other_tenant):
    theirs = ContactFactory(tenant=other_tenant)

    with pytest.raises(Exception, match="not found"):
        contact_export(tenant=tenant, contact_id=theirs.pk)
    assert not AuditEntry.objects.exists()


def test_the_admin_exports_and_deletes_contacts_with_audit_entries(tenant_admin_client, tenant):
    contact = ContactFactory(tenant=tenant, name="Li Lei")

    exported = tenant_admin_client.post(
        admin_url(Contact), {"action": "export_json", "_selected_action": [contact.pk]}
    )
    tenant_admin_client.post(admin_url(Contact, "delete", contact.pk), {"post": "yes"})

    assert exported["Content-Disposition"].startswith("attachment")
    assert b"Li Lei" in exported.content
    assert list(AuditEntry.objects.values_list("action", flat=True).order_by("pk")) == [
        "contact_exported",
        "contact_deleted",
    ]
    log = tenant_admin_client.get(admin_url(AuditEntry)).content.decode()
    assert "Li Lei" in log


def test_a_tenant_admin_sets_one_retention_policy(tenant_admin_client, tenant):
    response = tenant_admin_client.post(
        admin_url(RetentionPolicy, "add"), {"resolved_for_days": 90, "action": "anonymise"}
    )

    assert response.status_code == 302
    assert RetentionPolicy.objects.get(tenant=tenant).resolved_for_days == 90
    assert tenant_admin_client.get(admin_url(RetentionPolicy, "add")).status_code == 403
