"""``manage.py demo --no-serve``: the demo's set-up, run twice as a user would run it."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from helpdesk.tenants.models import Inbox, Membership, Tenant, parse_origins

pytestmark = pytest.mark.django_db(transaction=True)

USERNAMES = ["admin", "alice", "bob", "root"]


@pytest.fixture(autouse=True)
def _isolated_var_dir(settings, tmp_path):
    """Passwords and collected static files go to a temporary VAR_DIR, not the developer's."""
    settings.VAR_DIR = tmp_path
    settings.STATIC_ROOT = tmp_path / "staticfiles"
    # Compressing every file (the production storage) costs seconds and is not under test.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def run_demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", "--no-serve", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def printed_passwords(output: str) -> dict[str, str]:
    rows = re.findall(r"^  (admin|alice|bob|root) +(\S+) ", output, flags=re.MULTILINE)
    return dict(rows)


def snapshot() -> dict:
    users = get_user_model().objects.order_by("username")
    return {
        "tenants": list(Tenant.objects.values_list("pk", "slug", "name")),
        "users": list(users.values_list("pk", "username", "password", "is_staff", "is_superuser")),
        "memberships": list(Membership.objects.values_list("pk", "tenant", "user", "role")),
        "inboxes": list(Inbox.objects.values_list("pk", "tenant", "public_key", "allowed_origins")),
    }


def test_demo_sets_up_once_and_a_second_run_changes_nothing(client):
    first = run_demo()
    state = snapshot()
    second = run_demo()

    assert snapshot() == state
    assert "Demo already set up; nothing to change." in second
    passwords = printed_passwords(first)
    assert sorted(passwords) == USERNAMES
    assert printed_passwords(second) == passwords

    tenant = Tenant.objects.get()
    assert (tenant.slug, tenant.name) == ("demo", "Demo Shop")
    users = {user.username: user for user in get_user_model().objects.all()}
    assert sorted(users) == USERNAMES
    roles = dict(Membership.objects.filter(tenant=tenant).values_list("user__username", "role"))
    assert roles == {"admin": "admin", "alice": "agent", "bob": "agent"}
    assert users["admin"].is_staff
    assert not users["alice"].is_staff
    assert not users["bob"].is_staff
    assert users["root"].is_superuser
    assert not Membership.objects.filter(user=users["root"]).exists()
    inbox = Inbox.objects.get()
    assert (inbox.tenant, inbox.name) == (tenant, "Website")
    assert {"http://127.0.0.1:8000", "http://localhost:8000"} <= set(
        parse_origins(inbox.allowed_origins)
    )
    for url in ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/admin/"):
        assert url in first


def test_admin_logs_in_with_the_printed_password_and_agents_cannot(client):
    passwords = printed_passwords(run_demo())

    refused = client.post(
        "/admin/login/?next=/admin/", {"username": "alice", "password": passwords["alice"]}
    )
    assert refused.status_code == 200  # the form again, with an error
    assert "_auth_user_id" not in client.session

    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "admin", "password": passwords["admin"], "next": "/admin/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_visitor_page_embeds_the_demo_inbox_widget(client):
    run_demo()
    inbox = Inbox.objects.get()

    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    script = re.search(r"<script [^>]*widget\.js[^>]*>", html)
    assert script, html
    assert f'data-inbox="{inbox.public_key}"' in script[0]


def test_another_port_adds_its_origins_and_nothing_else(client):
    run_demo()
    before = snapshot()

    output = run_demo("--addrport", "127.0.0.1:8123")

    inbox = Inbox.objects.get()
    assert parse_origins(inbox.allowed_origins) == [
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        "http://127.0.0.1:8123",
        "http://localhost:8123",
    ]
    assert {key: value for key, value in snapshot().items() if key != "inboxes"} == {
        key: value for key, value in before.items() if key != "inboxes"
    }
    assert "http://127.0.0.1:8123/admin/" in output


def test_a_bad_addrport_is_refused_before_anything_runs():
    with pytest.raises(CommandError, match="--addrport"):
        run_demo("--addrport", "localhost:99999")
    with pytest.raises(CommandError, match="--addrport"):
        run_demo("--addrport", "not an address")
    assert not Tenant.objects.exists()
