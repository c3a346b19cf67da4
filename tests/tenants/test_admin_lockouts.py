"""The admin's sign-in is throttled like the console's, and lockouts are seen and cleared in the
admin: a tenant admin sees only their own tenant's users, a superuser every lockout.

Lockouts are made for real, by failing sign-ins through the login pages.
"""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.db.models import F
from django.test import Client
from django.urls import reverse

from tests.factories import MembershipFactory
from tests.support.admin_urls import admin_url

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"  # what UserFactory sets


def lock_out(username: str, ip: str, path: str = "/console/login/") -> AccessAttempt:
    client = Client(REMOTE_ADDR=ip)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(path, {"username": username, "password": "wrong"})
    return AccessAttempt.objects.get(username=username, ip_address=ip)


def admin_sign_in(username: str, password: str, ip: str = "198.51.100.1"):
    client = Client(REMOTE_ADDR=ip)
    response = client.post(
        reverse("admin:login"), {"username": username, "password": password, "next": "/admin/"}
    )
    return client, response


@pytest.fixture
def foreign_agent(other_tenant):
    return MembershipFactory(tenant=other_tenant, user__username="globex-agent").user


def locked_row(username: str, ip: str) -> AccessAttempt:
    """The row axes keeps for a username and address at the limit (as lock_out() leaves it)."""
    return AccessAttempt.objects.create(
        username=username,
        ip_address=ip,
        user_agent="<unknown>",
        path_info="/console/login/",
        failures_since_start=settings.AXES_FAILURE_LIMIT,
        get_data="",
        post_data="",
        http_accept="*/*",
    )


@pytest.fixture
def lockouts(agent, foreign_agent):
    """One lockout of each kind: ``tenant``'s agent, another tenant's agent, a made-up name."""
    return {
        "own": locked_row(agent.username, "203.0.113.1"),
        "foreign": locked_row(foreign_agent.username, "203.0.113.2"),
        "unknown": locked_row("ghost-user", "203.0.113.3"),
    }


def test_lockouts_made_by_failing_match_the_rows_the_admin_tests_use(agent):
    made = lock_out(agent.username, "203.0.113.1")
    kept = locked_row("someone", "203.0.113.4")

    assert (made.user_agent, made.path_info, made.failures_since_start) == (
        kept.user_agent,
        kept.path_info,
        kept.failures_since_start,
    )


# --- The admin's login page ---------------------------------------------------------------------


def test_the_admin_login_refuses_the_right_password_after_too_many_wrong_ones(tenant_admin):
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = f"Too many failed sign-in attempts. Try again in {minutes} minutes."
    lock_out(tenant_admin.username, "198.51.100.1", path=reverse("admin:login"))

    client, response = admin_sign_in(tenant_admin.username, PASSWORD)

    assert response.status_code == 429
    assert response.context["form"].non_field_errors() == [message]
    assert message in response.content.decode()
    assert SESSION_KEY not in client.session


def test_an_unknown_name_on_the_admin_login_gets_the_same_lockout(tenant_admin):
    lock_out(tenant_admin.username, "198.51.100.1", path=reverse("admin:login"))
    lock_out("no-such-admin", "198.51.100.2", path=reverse("admin:login"))

    _, known = admin_sign_in(tenant_admin.username, "wrong", ip="198.51.100.1")
    _, unknown = admin_sign_in("no-such-admin", "wrong", ip="198.51.100.2")

    assert known.status_code == unknown.status_code == 429
    assert known.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()


def test_failures_on_the_console_count_on_the_admin_too(tenant_admin):
    lock_out(tenant_admin.username, "198.51.100.1")

    _, response = admin_sign_in(tenant_admin.username, PASSWORD)

    assert response.status_code == 429


def test_the_admin_login_lets_in_again_after_the_cool_off(tenant_admin):
    lock_out(tenant_admin.username, "198.51.100.1", path=reverse("admin:login"))
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - settings.AXES_COOLOFF_TIME)

    client, response = admin_sign_in(tenant_admin.username, PASSWORD)

    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(tenant_admin.pk)


# --- Seeing lockouts ----------------------------------------------------------------------------


def test_a_tenant_admin_sees_only_their_own_users_lockouts(tenant_admin_client, lockouts):
    response = tenant_admin_client.get(admin_url(AccessAttempt))

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [lockouts["own"]]
    html = response.content.decode()
    assert "globex-agent" not in html
    assert "ghost-user" not in html


def test_a_tenant_admins_search_finds_no_other_tenants_user(tenant_admin_client, lockouts):
    response = tenant_admin_client.get(admin_url(AccessAttempt), {"q": "globex"})

    assert list(response.context["cl"].result_list) == []
    assert "globex-agent" not in response.content.decode().replace('value="globex"', "")


def test_the_tenant_admins_list_says_who_is_locked_and_for_how_long(
    tenant_admin_client, lockouts, agent
):
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=5))
    minutes_left = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60) - 5

    html = tenant_admin_client.get(admin_url(AccessAttempt)).content.decode()

    assert agent.username in html
    assert f"Locked out, {minutes_left} minutes left" in html


def test_the_index_offers_sign_in_protection_to_a_tenant_admin(tenant_admin_client):
    response = tenant_admin_client.get("/admin/")

    models = {m["model"] for app in response.context["app_list"] for m in app["models"]}
    assert AccessAttempt in models
    assert "Sign-in protection" in response.content.decode()


def test_an_agent_has_no_lockout_admin(client, agent, lockouts):
    client.force_login(agent)

    response = client.get(admin_url(AccessAttempt))

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("kind", ["foreign", "unknown"])
def test_another_tenants_or_an_unknown_users_lockout_answers_404(
    tenant_admin_client, lockouts, kind
):
    response = tenant_admin_client.get(admin_url(AccessAttempt, "change", lockouts[kind].pk))

    assert response.status_code == 404


def test_a_superuser_sees_every_lockout(admin_client, lockouts):
    response = admin_client.get(admin_url(AccessAttempt))

    assert set(response.context["cl"].result_list) == set(lockouts.values())


def test_nobody_adds_or_edits_lockouts(admin_client, lockouts):
    change = admin_client.post(
        admin_url(AccessAttempt, "change", lockouts["own"].pk), {"failures_since_start": 0}
    )

    assert admin_client.get(admin_url(AccessAttempt, "add")).status_code == 403
    assert change.status_code == 403
    lockouts["own"].refresh_from_db()
    assert lockouts["own"].failures_since_start == settings.AXES_FAILURE_LIMIT


# --- Clearing lockouts --------------------------------------------------------------------------


def test_a_tenant_admin_clears_their_users_lockout_and_the_user_signs_in(
    tenant_admin_client, lockouts, agent
):
    agent_client = Client(REMOTE_ADDR="203.0.113.1")
    credentials = {"username": agent.username, "password": PASSWORD}
    refused = agent_client.post("/console/login/", credentials)

    response = tenant_admin_client.post(
        admin_url(AccessAttempt, "delete", lockouts["own"].pk), {"post": "yes"}
    )
    signed_in = agent_client.post("/console/login/", credentials)

    assert refused.status_code == 429
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(pk=lockouts["own"].pk).exists()
    assert signed_in.status_code == 302


@pytest.mark.parametrize("kind", ["foreign", "unknown"])
def test_a_tenant_admin_cannot_clear_another_tenants_or_an_unknown_users_lockout(
    tenant_admin_client, lockouts, kind
):
    response = tenant_admin_client.post(
        admin_url(AccessAttempt, "delete", lockouts[kind].pk), {"post": "yes"}
    )

    assert response.status_code == 404
    assert AccessAttempt.objects.filter(pk=lockouts[kind].pk).exists()


def test_the_bulk_clear_action_ignores_other_tenants_and_unknown_users(
    tenant_admin_client, lockouts
):
    response = tenant_admin_client.post(
        admin_url(AccessAttempt),
        {
            "action": "delete_selected",
            "_selected_action": [attempt.pk for attempt in lockouts.values()],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    assert set(AccessAttempt.objects.all()) == {lockouts["foreign"], lockouts["unknown"]}


def test_a_superuser_clears_a_lockout_by_address_alone(admin_client, lockouts):
    response = admin_client.post(
        admin_url(AccessAttempt, "delete", lockouts["unknown"].pk), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(pk=lockouts["unknown"].pk).exists()


def test_expired_failures_are_not_listed(admin_client, lockouts):
    AccessAttempt.objects.filter(pk=lockouts["own"].pk).update(
        attempt_time=F("attempt_time") - settings.AXES_COOLOFF_TIME
    )

    response = admin_client.get(admin_url(AccessAttempt))

    assert set(response.context["cl"].result_list) == {lockouts["foreign"], lockouts["unknown"]}
