"""Canned responses: the tenant-scoped admin, the console's search endpoint and its selector."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from helpdesk.console.models import CannedResponse
from helpdesk.console.selectors import CANNED_PAGE_MAX, canned_responses_search
from helpdesk.core.errors import InvalidInput

pytestmark = pytest.mark.django_db

CANNED = "/console/api/canned"
MISSING_ID = 999_999


def admin_url(view="changelist", *args):
    return reverse(f"admin:console_cannedresponse_{view}", args=args)


def canned(tenant, shortcut, title=None, text=None, **fields) -> CannedResponse:
    return CannedResponse.objects.create(
        tenant=tenant,
        shortcut=shortcut,
        title=title or shortcut.title(),
        text=text or f"Text of {shortcut}.",
        **fields,
    )


def form_errors(response) -> dict:
    return {
        name: list(errors) for name, errors in response.context["adminform"].form.errors.items()
    }


@pytest.fixture
def responses(tenant, other_tenant):
    ours = [
        canned(tenant, "refund", "Refund policy", "Hi {{name}}, refunds take 5 days."),
        canned(tenant, "shipping", "Shipping times", "We ship in 2 days."),
        canned(tenant, "ref-code", "Referral code", "Use code FRIEND."),
    ]
    inactive = canned(tenant, "old", "Old promo", "Expired.", is_active=False)
    theirs = canned(other_tenant, "refund", "Globex refunds", "Globex secret text.")
    return ours, inactive, theirs


# --- the admin: tenant isolation -----------------------------------------------------------------


def test_the_changelist_shows_only_the_own_tenants_responses(tenant_admin_client, responses):
    ours, inactive, theirs = responses

    response = tenant_admin_client.get(admin_url())
    searched = tenant_admin_client.get(admin_url(), {"q": "refund"})

    assert response.status_code == 200
    assert set(response.context["cl"].result_list) == {*ours, inactive}
    assert list(searched.context["cl"].result_list) == [ours[0]]
    assert "Globex" not in response.content.decode()
    assert "Globex" not in searched.content.decode()


@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_another_tenants_response_answers_404_like_a_missing_one(
    tenant_admin_client, responses, view
):
    _, _, theirs = responses

    assert tenant_admin_client.get(admin_url(view, theirs.pk)).status_code == 404
    assert tenant_admin_client.get(admin_url(view, MISSING_ID)).status_code == 404


def test_changing_another_tenants_response_by_post_answers_404(tenant_admin_client, responses):
    _, _, theirs = responses

    response = tenant_admin_client.post(
        admin_url("change", theirs.pk),
        {"shortcut": "hijack", "title": "Hijacked", "text": "x", "is_active": "on"},
    )

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert (theirs.shortcut, theirs.title) == ("refund", "Globex refunds")


def test_a_tenant_admin_adds_a_response_in_their_own_tenant(
    tenant_admin_client, tenant, other_tenant
):
    response = tenant_admin_client.post(
        admin_url("add"),
        {
            "shortcut": "/Greeting",
            "title": "Greeting",
            "text": "Hello {{name}}, I'm {{agent}}.",
            "is_active": "on",
            "tenant": other_tenant.pk,  # ignored: not a field for tenant admins
        },
    )

    assert response.status_code == 302, form_errors(response)
    created = CannedResponse.objects.get(title="Greeting")
    assert created.tenant == tenant
    assert created.shortcut == "greeting"  # the slash is dropped and the case folded


def test_the_form_hides_the_tenant_from_tenant_admins(tenant_admin_client):
    response = tenant_admin_client.get(admin_url("add"))

    assert response.status_code == 200
    assert "tenant" not in response.context["adminform"].form.fields
    assert set(response.context["adminform"].form.fields) == {
        "shortcut",
        "title",
        "text",
        "is_active",
    }


def test_the_deactivate_action_ignores_other_tenants_rows(tenant_admin_client, responses):
    ours, _, theirs = responses

    response = tenant_admin_client.post(
        admin_url(), {"action": "deactivate", "_selected_action": [ours[0].pk, theirs.pk]}
    )

    assert response.status_code == 302
    ours[0].refresh_from_db()
    theirs.refresh_from_db()
    assert (ours[0].is_active, theirs.is_active) == (False, True)


def test_agents_without_staff_access_cannot_open_the_admin(client, agent, responses):
    client.force_login(agent)

    response = client.get(admin_url())

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


# --- the admin: shortcuts ------------------------------------------------------------------------


def test_a_duplicate_shortcut_is_a_form_error_not_a_server_error(tenant_admin_client, responses):
    response = tenant_admin_client.post(
        admin_url("add"),
        {"shortcut": "Refund", "title": "Another", "text": "Again.", "is_active": "on"},
    )

    assert response.status_code == 200
    assert form_errors(response) == {
        "shortcut": ["There is already a canned response with the shortcut /refund."]
    }
    assert CannedResponse.objects.filter(title="Another").count() == 0


def test_a_duplicate_made_by_renaming_is_a_form_error(tenant_admin_client, responses):
    ours, _, _ = responses

    response = tenant_admin_client.post(
        admin_url("change", ours[1].pk),
        {"shortcut": "refund", "title": ours[1].title, "text": ours[1].text, "is_active": "on"},
    )

    assert response.status_code == 200
    assert list(form_errors(response)) == ["shortcut"]
    ours[1].refresh_from_db()
    assert ours[1].shortcut == "shipping"


def test_an_inactive_response_still_holds_its_shortcut(tenant_admin_client, responses):
    response = tenant_admin_client.post(
        admin_url("add"), {"shortcut": "old", "title": "New", "text": "x", "is_active": "on"}
    )

    assert list(form_errors(response)) == ["shortcut"]


def test_saving_a_response_unchanged_is_not_a_duplicate_of_itself(tenant_admin_client, responses):
    ours, _, _ = responses

    response = tenant_admin_client.post(
        admin_url("change", ours[0].pk),
        {"shortcut": "refund", "title": "Refunds (new)", "text": "Changed.", "is_active": "on"},
    )

    assert response.status_code == 302, form_errors(response)
    ours[0].refresh_from_db()
    assert ours[0].title == "Refunds (new)"


def test_another_tenant_may_use_the_same_shortcut(tenant_admin_client, tenant, other_tenant):
    canned(other_tenant, "hello")

    response = tenant_admin_client.post(
        admin_url("add"), {"shortcut": "hello", "title": "Hello", "text": "Hi!", "is_active": "on"}
    )

    assert response.status_code == 302, form_errors(response)
    assert CannedResponse.objects.filter(shortcut="hello").count() == 2


@pytest.mark.parametrize("shortcut", ["two words", "-lead", "ümlaut", "a/b", "x" * 41, "/"])
def test_a_malformed_shortcut_is_a_form_error(tenant_admin_client, shortcut):
    response = tenant_admin_client.post(
        admin_url("add"), {"shortcut": shortcut, "title": "T", "text": "x", "is_active": "on"}
    )

    assert response.status_code == 200
    assert list(form_errors(response)) == ["shortcut"]


def test_a_superuser_duplicate_in_the_chosen_tenant_is_a_form_error(
    admin_client, responses, tenant, other_tenant
):
    clash = admin_client.post(
        admin_url("add"),
        {"tenant": tenant.pk, "shortcut": "refund", "title": "X", "text": "x", "is_active": "on"},
    )
    fine = admin_client.post(
        admin_url("add"),
        {"tenant": other_tenant.pk, "shortcut": "shipping", "title": "X", "text": "x"},
    )

    assert clash.status_code == 200
    assert list(form_errors(clash)) == ["shortcut"]
    assert fine.status_code == 302, form_errors(fine)


# --- the endpoint --------------------------------------------------------------------------------


def test_anonymous_and_outsiders_get_json_403s(client, outsider):
    assert client.get(CANNED).status_code == 403
    assert client.get(CANNED).json()["error"]["code"] == "unauthenticated"
    client.force_login(outsider)
    assert client.get(CANNED).json()["error"]["code"] == "forbidden"


def test_the_endpoint_lists_the_tenants_active_responses(agent_client, responses):
    ours, _, _ = responses

    response = agent_client.get(CANNED)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert response.json() == {
        "responses": [
            {"id": r.pk, "shortcut": r.shortcut, "title": r.title, "text": r.text}
            for r in sorted(ours, key=lambda r: r.shortcut)
        ],
        "has_more": False,
    }


def test_the_endpoint_never_shows_another_tenants_responses(agent_client, responses):
    body = agent_client.get(CANNED, {"q": "refund"}).json()

    assert [r["title"] for r in body["responses"]] == ["Refund policy"]
    assert "Globex" not in str(body)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("ref", ["ref-code", "refund"]),
        ("/REF", ["ref-code", "refund"]),
        ("refu", ["refund"]),
        ("times", ["shipping"]),  # the title
        ("re", ["ref-code", "refund"]),
        ("zzz", []),
        ("", ["ref-code", "refund", "shipping"]),
    ],
)
def test_the_query_matches_shortcut_prefixes_then_titles(agent_client, responses, q, expected):
    body = agent_client.get(CANNED, {"q": q}).json()

    assert [r["shortcut"] for r in body["responses"]] == expected


def test_prefix_matches_come_before_title_matches(agent_client, tenant):
    canned(tenant, "zz-last", "About a sale")
    canned(tenant, "sale", "Sale")

    body = agent_client.get(CANNED, {"q": "sale"}).json()

    assert [r["shortcut"] for r in body["responses"]] == ["sale", "zz-last"]


def test_a_full_page_says_there_is_more(agent_client, tenant):
    for n in range(5):
        canned(tenant, f"r{n}")

    body = agent_client.get(CANNED, {"limit": 3}).json()

    assert [r["shortcut"] for r in body["responses"]] == ["r0", "r1", "r2"]
    assert body["has_more"] is True


@pytest.mark.parametrize("limit", ["0", str(CANNED_PAGE_MAX + 1), "x"])
def test_a_bad_limit_is_a_400(agent_client, limit):
    response = agent_client.get(CANNED, {"limit": limit})

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "limit"


def test_an_overlong_query_is_a_400(agent_client):
    response = agent_client.get(CANNED, {"q": "x" * 500})

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "q"


@pytest.mark.parametrize("q", ["\x00", "ref\x00und"])
def test_a_query_with_a_nul_is_a_json_400(agent_client, responses, q):
    response = agent_client.get(CANNED, {"q": q})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_characters"


def test_the_endpoint_costs_the_same_queries_for_2_or_40_responses(agent_client, tenant):
    def count():
        with CaptureQueriesContext(connection) as queries:
            body = agent_client.get(CANNED, {"limit": 100}).json()
        return len(queries), len(body["responses"])

    for n in range(2):
        canned(tenant, f"a{n}")
    few, rows = count()
    assert rows == 2
    for n in range(38):
        canned(tenant, f"b{n}")
    many, rows = count()

    assert rows == 40
    assert many == few
    assert few <= 4


# --- the selector --------------------------------------------------------------------------------


def test_the_selector_rejects_bad_arguments(tenant):
    with pytest.raises(InvalidInput):
        canned_responses_search(tenant=tenant, query=None)
    with pytest.raises(InvalidInput):
        canned_responses_search(tenant=tenant, limit=0)
    with pytest.raises(InvalidInput):
        canned_responses_search(tenant=tenant, limit=True)


def test_the_selector_leaves_out_inactive_and_foreign_rows(tenant, responses):
    ours, _, _ = responses

    found = canned_responses_search(tenant=tenant, query="")

    assert set(found) == set(ours)


def test_like_wildcards_in_the_query_are_literal(tenant):
    canned(tenant, "a_b", "Underscore")
    canned(tenant, "axb", "Other")

    assert [r.shortcut for r in canned_responses_search(tenant=tenant, query="a_")] == ["a_b"]
    assert canned_responses_search(tenant=tenant, query="%") == []
