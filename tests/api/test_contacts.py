"""/api/v1/contacts."""

import pytest

from helpdesk.conversations.models import Contact, Conversation
from tests.factories import ContactFactory, ConversationFactory

pytestmark = pytest.mark.django_db


def test_create_find_update_and_delete(api, tenant):
    made = api.post(
        "/contacts", {"name": "Li Lei", "email": "li@example.com", "external_id": "crm-7"}
    )
    assert made.status_code == 201
    contact_id = made.json()["id"]

    by_email = api.get("/contacts", email="LI@example.com").json()["contacts"]
    by_external = api.get("/contacts", external_id="crm-7").json()["contacts"]
    updated = api.patch(f"/contacts/{contact_id}", {"metadata": {"plan": "Pro"}})
    ConversationFactory(tenant=tenant, contact_id=contact_id)
    deleted = api.delete(f"/contacts/{contact_id}")

    assert [c["id"] for c in by_email] == [c["id"] for c in by_external] == [contact_id]
    assert updated.json()["metadata"] == {"plan": "Pro"}
    assert updated.json()["name"] == "Li Lei"  # unset fields are left alone
    assert deleted.status_code == 204
    assert not Contact.objects.filter(pk=contact_id).exists()
    assert not Conversation.objects.filter(contact_id=contact_id).exists()


def test_an_external_id_belongs_to_one_contact_per_tenant(api, other_api):
    assert api.post("/contacts", {"external_id": "crm-1"}).status_code == 201

    again = api.post("/contacts", {"external_id": "crm-1"})

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    assert other_api.post("/contacts", {"external_id": "crm-1"}).status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not an address"},
        {"name": "x" * 201},
        {"name": "a\u0000b"},
        {"metadata": {"k\u0000": 1}},
        {"metadata": {"big": "x" * 9000}},
        {"metadata": [1, 2]},
    ],
)
def test_bad_contacts_are_refused(api, body):
    response = api.post("/contacts", body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"invalid", "invalid_characters"}
    assert Contact.objects.count() == 0


def test_finding_needs_a_criterion(api):
    assert api.get("/contacts").status_code == 400


def test_another_tenants_contact_is_not_found_and_not_found_by_email(api, other_tenant):
    theirs = ContactFactory(tenant=other_tenant, email="x@example.com")

    assert api.get(f"/contacts/{theirs.pk}").status_code == 404
    assert api.patch(f"/contacts/{theirs.pk}", {"name": "Mine"}).status_code == 404
    assert api.delete(f"/contacts/{theirs.pk}").status_code == 404
    assert api.get("/contacts", email="x@example.com").json()["contacts"] == []
    assert Contact.objects.filter(pk=theirs.pk).exists()


def test_deleting_needs_the_admin_scope(write_api, tenant):
    contact = ContactFactory(tenant=tenant)

    assert write_api.delete(f"/contacts/{contact.pk}").status_code == 403
    assert Contact.objects.filter(pk=contact.pk).exists()


@pytest.mark.parametrize(
    "path", ["/contacts?email=a%00b", "/contacts/1%00", "/conversations?cursor=%00"]
)
def test_a_nul_anywhere_in_the_request_is_a_400(api, path):
    response = api.client.get(f"/api/v1{path}", headers=api.headers)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_characters"


def test_export_and_delete_through_the_api_are_audited(api, tenant):
    from helpdesk.tenants.models import AuditEntry

    contact = ContactFactory(tenant=tenant, name="Li Lei")

    exported = api.get(f"/contacts/{contact.pk}/export")
    deleted = api.delete(f"/contacts/{contact.pk}")

    assert exported.json()["contact"]["name"] == "Li Lei"
    assert deleted.status_code == 204
    labels = list(AuditEntry.objects.values_list("action", "actor_label").order_by("pk"))
    assert [action for action, _ in labels] == ["contact_exported", "contact_deleted"]
    assert all(label.startswith("API key admin key") for _, label in labels)


def test_the_retention_policy_through_the_api(api, read_api):
    assert api.get("/retention-policy").json()["resolved_for_days"] is None

    put = api.client.put(
        "/api/v1/retention-policy",
        {"resolved_for_days": 30, "action": "anonymise"},
        content_type="application/json",
        headers=api.headers,
    )
    refused = read_api.client.put(
        "/api/v1/retention-policy",
        {"resolved_for_days": 1},
        content_type="application/json",
        headers=read_api.headers,
    )

    assert put.json()["action"] == "anonymise"
    assert refused.status_code == 403
    assert read_api.get("/retention-policy").json()["resolved_for_days"] == 30
