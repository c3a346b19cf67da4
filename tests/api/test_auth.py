"""API keys: made once and shown once, scoped, rate limited, revoked; one error shape."""

import pytest
from django.test import Client

from helpdesk.api.keys import api_key_create, api_key_revoke
from helpdesk.api.models import ApiKey
from helpdesk.core.errors import PermissionDenied
from tests.api.conftest import ApiClient
from tests.conftest import fresh_rate_window
from tests.factories import MembershipFactory
from tests.support.admin_urls import admin_url

pytestmark = pytest.mark.django_db


def test_only_the_digest_of_a_key_is_kept(tenant, key_admin):
    key, raw = api_key_create(tenant=tenant, user=key_admin, name="CRM", scope="read")

    assert raw.startswith(f"hdk_{key.prefix}_")
    assert raw not in str(ApiKey.objects.filter(pk=key.pk).values().get())


@pytest.mark.parametrize(
    "header",
    [None, "Bearer nonsense", "Bearer hdk_00000000_wrong", "Basic abc", "Bearer " + "x" * 500],
)
def test_a_missing_or_wrong_key_is_a_401_in_the_error_shape(header, api):
    headers = {"Authorization": header} if header else {}

    response = Client().get("/api/v1/conversations", headers=headers)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_key_stops_working(tenant, key_admin):
    key, raw = api_key_create(tenant=tenant, user=key_admin, name="CRM", scope="read")
    assert ApiClient(raw).get("/conversations").status_code == 200

    api_key_revoke(key)

    assert ApiClient(raw).get("/conversations").status_code == 401


def test_a_key_dies_with_its_makers_membership(tenant, key_admin):
    _, raw = api_key_create(tenant=tenant, user=key_admin, name="CRM", scope="read")

    key_admin.membership.is_active = False
    key_admin.membership.save(update_fields=["is_active"])

    assert ApiClient(raw).get("/conversations").status_code == 401


def test_only_a_tenant_admin_makes_keys(tenant, agent):
    with pytest.raises(PermissionDenied):
        api_key_create(tenant=tenant, user=agent, name="CRM", scope="read")


def test_a_read_key_cannot_write(read_api, conversation):
    response = read_api.post(f"/conversations/{conversation.pk}/messages", {"text": "hi"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_calls_over_the_keys_rate_are_429_with_retry_after(api, settings):
    settings.RATE_API_KEY = (3, 60)
    fresh_rate_window(60)

    answers = [api.get("/conversations") for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].json()["error"]["code"] == "rate_limited"
    assert int(answers[-1]["Retry-After"]) >= 1


def test_last_used_is_recorded(api, tenant):
    api.get("/conversations")

    assert ApiKey.objects.get(tenant=tenant).last_used_at is not None


def test_the_admin_shows_a_new_key_once_and_never_again(client, tenant, key_admin):
    key_admin.is_staff = True
    key_admin.save(update_fields=["is_staff"])
    client.force_login(key_admin)

    response = client.post(
        admin_url(ApiKey, "add"), {"name": "CRM sync", "scope": "write"}, follow=True
    )

    shown = [str(m) for m in response.context["messages"]]
    key = ApiKey.objects.get()
    assert any(f"hdk_{key.prefix}_" in m for m in shown)
    page = client.get(admin_url(ApiKey, "change", key.pk)).content.decode()
    assert f"hdk_{key.prefix}_" not in page
    assert key.tenant == tenant
    assert key.user == key_admin


def test_an_agent_without_admin_rights_cannot_make_a_key_in_the_admin(client, tenant):
    staff_agent = MembershipFactory(tenant=tenant, role="agent", user__is_staff=True).user
    client.force_login(staff_agent)

    response = client.post(admin_url(ApiKey, "add"), {"name": "x", "scope": "read"})

    assert response.status_code in (302, 403)  # no access to the admin page at all
    assert ApiKey.objects.count() == 0


def test_a_wrong_method_and_an_unknown_path_answer_in_the_error_shape(api):
    wrong_method = api.client.put("/api/v1/contacts", headers=api.headers)
    unknown = api.get("/nothing-here")

    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
