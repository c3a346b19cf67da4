import json
import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from helpdesk.tenants.models import Membership
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"  # tests.factories.UserFactory


def bootstrap(response) -> dict:
    match = re.search(
        r'<script id="console-bootstrap" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, "the page carries its bootstrap data"
    return json.loads(match[1])


# --- the console page ----------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_the_console_login(client):
    response = client.get("/console/")

    assert response.status_code == 302
    assert response["Location"] == "/console/login/?next=/console/"


def test_an_agent_gets_the_console(agent_client, agent, tenant):
    response = agent_client.get("/console/")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    content = response.content.decode()
    for testid in [
        "conversation-list",
        "tab-bot",
        "tab-queued",
        "tab-mine",
        "tab-follow-up",
        "tab-all",
        "transcript",
        "typing-indicator",
        "composer-input",
        "send-button",
        "note-toggle",
        "connection-status",
        "conversation-actions",
        "contact-panel",
        "availability-select",
        "enable-notifications",
        "queued-alert",
        "canned-menu",
        "transfer-dialog",
        "transfer-agents",
        "transfer-note",
        "transfer-confirm",
    ]:
        assert f'data-testid="{testid}"' in content, testid
    assert "helpdesk/console/console.js" in content
    assert "helpdesk/console/console.css" in content
    data = bootstrap(response)
    assert data["agent"] == {
        "id": agent.pk,
        "name": agent.username,
        "role": "agent",
        "availability": "offline",
    }
    assert data["tenant"] == {"name": tenant.name}
    assert data["views"] == ["bot", "queued", "mine", "follow_up", "all"]
    assert data["urls"] == {
        "conversations": "/console/api/conversations",
        "canned": "/console/api/canned",
        "agents": "/console/api/agents",
        "login": "/console/login/",
        "socket": "/ws/console/",
    }


def test_the_action_toolbar_is_there_but_empty(agent_client):
    content = agent_client.get("/console/").content.decode()

    toolbar = re.search(r'<div[^>]*data-testid="conversation-actions"[^>]*>(.*?)</div>', content)
    assert toolbar
    assert toolbar[1].strip() == ""


def test_the_availability_switch_shows_the_agents_current_choice(agent_client, agent):
    agent.membership.availability = "busy"
    agent.membership.save()

    content = agent_client.get("/console/").content.decode()

    select = re.search(
        r'<select[^>]*data-testid="availability-select"[^>]*>(.*?)</select>', content, re.S
    )
    assert select
    assert re.findall(r'<option value="(\w+)"', select[1]) == ["online", "busy", "offline"]
    assert re.findall(r'<option value="(\w+)" selected', select[1]) == ["busy"]
    assert bootstrap(agent_client.get("/console/"))["agent"]["availability"] == "busy"


def test_notifications_are_never_requested_by_the_page_itself(agent_client):
    # The permission prompt comes only from the button (hidden until console.js sees that the
    # browser supports notifications and has not been asked).
    content = agent_client.get("/console/").content.decode()

    button = re.search(r'<button[^>]*data-testid="enable-notifications"[^>]*>', content)
    assert button
    assert " hidden" in button[0]


def test_a_tenant_admin_gets_the_console(client, tenant_admin):
    client.force_login(tenant_admin)

    response = client.get("/console/")

    assert response.status_code == 200
    assert bootstrap(response)["agent"]["role"] == "admin"


def test_the_agent_directory_lists_only_this_tenants_active_members(
    agent_client, agent, tenant, other_agent
):
    colleague = MembershipFactory(tenant=tenant, user__first_name="Ada", user__last_name="Byron")
    MembershipFactory(tenant=tenant, is_active=False)
    MembershipFactory(tenant=tenant, user__is_active=False)

    agents = bootstrap(agent_client.get("/console/"))["agents"]

    assert sorted(agents, key=lambda a: a["id"]) == sorted(
        [
            {"id": agent.pk, "name": agent.username},
            {"id": colleague.user.pk, "name": "Ada Byron"},
        ],
        key=lambda a: a["id"],
    )


def test_names_in_the_bootstrap_cannot_break_out_of_the_script(client, tenant):
    membership = MembershipFactory(tenant=tenant, user__first_name="</script><script>alert(1)")
    tenant.name = "<b>Acme</b>"
    tenant.save()
    client.force_login(membership.user)

    content = client.get("/console/").content.decode()

    assert "</script><script>alert(1)" not in content
    assert "<b>Acme</b>" not in content


def test_a_user_without_membership_gets_a_clear_403(client, outsider):
    client.force_login(outsider)

    response = client.get("/console/")

    assert response.status_code == 403
    assert "No access to the agent console" in response.content.decode()
    assert 'data-testid="logout"' in response.content.decode()


def test_a_superuser_without_membership_gets_the_403(client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))

    assert client.get("/console/").status_code == 403


def test_a_disabled_membership_gets_the_403(client, agent):
    Membership.objects.filter(user=agent).update(is_active=False)
    client.force_login(agent)

    assert client.get("/console/").status_code == 403


def test_an_inactive_tenant_gets_the_403(client, agent, tenant):
    tenant.is_active = False
    tenant.save()
    client.force_login(agent)

    assert client.get("/console/").status_code == 403


def test_a_deactivated_user_is_treated_as_signed_out(client, agent):
    client.force_login(agent)
    agent.is_active = False
    agent.save()

    response = client.get("/console/")

    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/")


def test_the_console_page_is_get_only(agent_client):
    assert agent_client.post("/console/").status_code == 405


# --- signing in and out --------------------------------------------------------------------------


def test_the_login_page_renders(client):
    response = client.get("/console/login/?next=/console/")

    assert response.status_code == 200
    content = response.content.decode()
    assert 'data-testid="login-username"' in content
    assert 'name="next" value="/console/"' in content


def test_an_agent_signs_in_and_lands_on_the_console(client, agent):
    response = client.post("/console/login/", {"username": agent.username, "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/console/"
    assert client.session[SESSION_KEY] == str(agent.pk)


def test_sign_in_follows_a_safe_next(client, agent):
    response = client.post(
        "/console/login/",
        {"username": agent.username, "password": PASSWORD, "next": "/console/#/queued"},
    )

    assert response["Location"] == "/console/#/queued"


def test_sign_in_ignores_a_next_on_another_site(client, agent):
    response = client.post(
        "/console/login/",
        {"username": agent.username, "password": PASSWORD, "next": "https://evil.example/"},
    )

    assert response["Location"] == "/console/"


def test_a_user_without_membership_is_told_at_the_door_and_gets_no_session(client, outsider):
    response = client.post("/console/login/", {"username": outsider.username, "password": PASSWORD})

    assert response.status_code == 200
    assert "has no access to the agent console" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_a_disabled_member_cannot_sign_in(client, agent):
    Membership.objects.filter(user=agent).update(is_active=False)

    response = client.post("/console/login/", {"username": agent.username, "password": PASSWORD})

    assert response.status_code == 200
    assert SESSION_KEY not in client.session


def test_a_wrong_password_says_nothing_about_access(client, outsider):
    response = client.post("/console/login/", {"username": outsider.username, "password": "wrong"})

    content = response.content.decode()
    assert response.status_code == 200
    assert "correct username and password" in content
    assert "no access" not in content
    assert SESSION_KEY not in client.session


def test_a_signed_in_agent_skips_the_login_page(agent_client):
    response = agent_client.get("/console/login/")

    assert response.status_code == 302
    assert response["Location"] == "/console/"


def test_a_signed_in_outsider_may_sign_in_as_someone_else(client, outsider):
    client.force_login(outsider)

    assert client.get("/console/login/").status_code == 200


def test_logout_is_post_only_and_ends_the_session(agent_client):
    assert agent_client.get("/console/logout/").status_code == 405

    response = agent_client.post("/console/logout/")

    assert response.status_code == 302
    assert response["Location"] == reverse("console:login")
    assert SESSION_KEY not in agent_client.session
