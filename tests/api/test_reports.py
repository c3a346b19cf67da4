"""/api/v1/reports, /api/v1/canned-responses and /api/v1/knowledge/sources."""

import pytest

from helpdesk.ai.knowledge.models import KnowledgeSource
from helpdesk.console.models import CannedResponse
from tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db


def test_the_report_counts_only_the_keys_tenant(api, tenant, other_tenant):
    ConversationFactory(tenant=tenant)
    ConversationFactory(tenant=other_tenant)
    ConversationFactory(tenant=other_tenant)

    body = api.get("/reports", days=7).json()

    assert body["conversations"]["started"] == 1
    assert api.get("/reports", days=0).status_code == 400
    assert api.get("/reports", days=367).status_code == 400


def test_canned_responses_are_the_tenants(api, tenant, other_tenant):
    CannedResponse.objects.create(tenant=tenant, shortcut="refund", title="Refund", text="Sure.")
    CannedResponse.objects.create(tenant=other_tenant, shortcut="refund2", title="R", text="No.")

    found = api.get("/canned-responses", q="ref").json()["canned_responses"]

    assert [c["shortcut"] for c in found] == ["refund"]


def test_a_private_address_is_refused_as_a_web_source(api):
    response = api.post("/knowledge/sources", {"url": "http://169.254.169.254/latest"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "private_address"
    assert KnowledgeSource.objects.count() == 0


def test_sources_are_listed_resynced_and_deleted_within_the_tenant(
    api, read_api, tenant, other_tenant
):
    mine = KnowledgeSource.objects.create(
        tenant=tenant, kind="url", title="FAQ", url="https://shop.example.com/faq", state="failed"
    )
    theirs = KnowledgeSource.objects.create(
        tenant=other_tenant, kind="url", title="Theirs", url="https://other.example.com/"
    )

    listed = [s["id"] for s in read_api.get("/knowledge/sources").json()["sources"]]
    resynced = api.post(f"/knowledge/sources/{mine.pk}/resync")
    foreign = api.post(f"/knowledge/sources/{theirs.pk}/resync")

    assert listed == [mine.pk]
    assert resynced.json()["state"] in {"queued", "running", "ready", "failed"}
    assert foreign.status_code == 404
    assert read_api.delete(f"/knowledge/sources/{mine.pk}").status_code == 403
    assert api.delete(f"/knowledge/sources/{theirs.pk}").status_code == 404
    assert api.delete(f"/knowledge/sources/{mine.pk}").status_code == 204
    assert KnowledgeSource.objects.filter(pk=theirs.pk).exists()
