"""The tenant-scoped admin, driven through the test client.

The client is logged in as the admin of ``tenant`` (A) while ``other_tenant`` (B) has rows of
its own; B's rows must be invisible, unreachable and untouchable from A's admin.
"""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from helpdesk.conversations.assignment import agent_presence_key
from helpdesk.conversations.models import Contact, Conversation
from helpdesk.realtime.presence import presence_join
from helpdesk.tenants.admin_base import (
    TenantConsistentForm,
    TenantScopedAdmin,
    TenantScopedInline,
    scope_to_tenant,
)
from helpdesk.tenants.models import Inbox, Membership, Tenant
from tests.factories import (
    ContactFactory,
    ConversationFactory,
    InboxFactory,
    MembershipFactory,
    UserFactory,
)
from tests.support.admin_urls import admin_url, inbox_form_data

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"  # what UserFactory sets
STRONG_PASSWORD = "violet-Harbour-7391"
MISSING_ID = 999_999


def membership_post(membership, **overrides):
    data = {
        "role": membership.role,
        "availability": membership.availability,
        "max_concurrent_chats": membership.max_concurrent_chats,
        "is_active": "on" if membership.is_active else "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value != ""}


def inbox_post(**overrides):
    return inbox_form_data(
        **{
            "name": "Acme Shop",
            "allowed_origins": "https://acme.example.com",
            "greeting": "Hello from Acme",
            **overrides,
        }
    )


def new_member_post(**overrides):
    data = {
        "username": "acme-newbie",
        "email": "newbie@acme.example.com",
        "password": STRONG_PASSWORD,
        "role": Membership.Role.AGENT,
        "max_concurrent_chats": 4,
    }
    data.update(overrides)
    return data


@pytest.fixture
def foreign_membership(other_tenant):
    return MembershipFactory(tenant=other_tenant, user__username="globex-agent")


@pytest.fixture
def foreign_inbox(other_tenant):
    return InboxFactory(tenant=other_tenant, name="Globex Storefront")


def admin_request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


# --- Who gets into /admin/ -----------------------------------------------------------------------


def test_a_tenant_admin_logs_in_with_the_login_form(client, tenant_admin):
    response = client.post(
        reverse("admin:login"),
        {"username": tenant_admin.username, "password": PASSWORD, "next": "/admin/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_an_agent_cannot_log_in_with_the_login_form(client, agent):
    response = client.post(
        reverse("admin:login"),
        {"username": agent.username, "password": PASSWORD, "next": "/admin/"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["__all__"] == [
        "Please enter the correct username and password for a staff account. "
        "Note that both fields may be case-sensitive."
    ]
    assert "_auth_user_id" not in client.session


def test_a_superuser_without_a_membership_logs_in_with_the_login_form(client, admin_user):
    response = client.post(
        reverse("admin:login"),
        {"username": admin_user.username, "password": "password", "next": "/admin/"},
    )

    assert response.status_code == 302
    assert client.get(admin_url(Tenant)).status_code == 200


def test_a_staff_user_without_a_membership_cannot_log_in_with_the_login_form(
    client, django_user_model
):
    user = django_user_model.objects.create_user(
        username="drifter", password=PASSWORD, is_staff=True
    )

    response = client.post(
        reverse("admin:login"),
        {"username": user.username, "password": PASSWORD, "next": "/admin/"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["__all__"] == [
        "Please enter the correct username and password for a staff account. "
        "Note that both fields may be case-sensitive."
    ]
    assert "_auth_user_id" not in client.session


def test_an_agent_with_a_session_is_sent_to_the_login_page(client, agent):
    client.force_login(agent)

    response = client.get(admin_url(Inbox))

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/tenants/inbox/"


def test_a_staff_user_without_a_membership_is_sent_to_the_login_page(client, django_user_model):
    client.force_login(django_user_model.objects.create_user(username="drifter", is_staff=True))

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"


def test_a_staff_agent_is_sent_to_the_login_page(client, tenant):
    # The staff flag alone is not enough: the membership must be an admin one.
    staff_agent = MembershipFactory(tenant=tenant, role="agent", user__is_staff=True).user
    client.force_login(staff_agent)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"


def test_a_disabled_admin_membership_locks_the_admin_out(tenant_admin_client, tenant_admin):
    Membership.objects.filter(user=tenant_admin).update(is_active=False)

    response = tenant_admin_client.get(admin_url(Inbox))

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/tenants/inbox/"


def test_an_inactive_tenant_locks_its_admin_out(tenant_admin_client, tenant):
    Tenant.objects.filter(pk=tenant.pk).update(is_active=False)

    response = tenant_admin_client.get(admin_url(Inbox))

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/tenants/inbox/"


def test_an_inactive_tenant_admin_cannot_log_in_with_the_login_form(client, tenant, tenant_admin):
    Tenant.objects.filter(pk=tenant.pk).update(is_active=False)

    response = client.post(
        reverse("admin:login"),
        {"username": tenant_admin.username, "password": PASSWORD, "next": "/admin/"},
    )

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


# --- What a tenant admin sees at all -------------------------------------------------------------


def test_the_index_offers_a_tenant_admin_only_tenant_scoped_models(tenant_admin_client):
    response = tenant_admin_client.get("/admin/")

    assert response.status_code == 200
    models = {m["model"] for app in response.context["app_list"] for m in app["models"]}
    assert {Membership, Inbox, Contact, Conversation} <= models
    assert models.isdisjoint({Tenant, Group, get_user_model()})
    html = response.content.decode()
    assert admin_url(Tenant) not in html
    assert "/admin/auth/" not in html


@pytest.mark.parametrize(
    "path",
    [
        "/admin/tenants/tenant/",
        "/admin/tenants/tenant/add/",
        "/admin/auth/user/",
        "/admin/auth/user/add/",
        "/admin/auth/group/",
        "/admin/auth/group/add/",
    ],
)
def test_a_tenant_admin_is_refused_the_tenant_user_and_group_admins(tenant_admin_client, path):
    response = tenant_admin_client.get(path)

    assert response.status_code == 403


def test_a_tenant_admin_cannot_open_their_own_tenant_or_user(
    tenant_admin_client, tenant, tenant_admin
):
    user_page = admin_url(get_user_model(), "change", tenant_admin.pk)

    assert tenant_admin_client.get(admin_url(Tenant, "change", tenant.pk)).status_code == 403
    assert tenant_admin_client.get(user_page).status_code == 403
    assert tenant_admin_client.get("/admin/auth/").status_code == 404


def test_a_tenant_admin_cannot_change_their_tenant_by_post(tenant_admin_client, tenant):
    name = tenant.name

    response = tenant_admin_client.post(
        admin_url(Tenant, "change", tenant.pk),
        {"name": "Hijacked", "slug": tenant.slug, "is_active": "on"},
    )

    assert response.status_code == 403
    tenant.refresh_from_db()
    assert tenant.name == name


def test_tenant_permissions_do_not_open_the_tenant_admin_to_a_tenant_admin(
    tenant_admin_client, tenant_admin, other_tenant
):
    # Superusers manage tenants. A stray Django permission must not show a tenant admin
    # every tenant in the system.
    tenant_admin.user_permissions.set(Permission.objects.filter(content_type__model="tenant"))

    assert tenant_admin_client.get(admin_url(Tenant)).status_code == 403
    assert tenant_admin_client.get(admin_url(Tenant, "change", other_tenant.pk)).status_code == 403


# --- Memberships: listing and direct URLs --------------------------------------------------------


def test_membership_changelist_lists_only_the_own_tenants_members(
    tenant_admin_client, tenant_admin, agent, foreign_membership
):
    MembershipFactory(tenant=foreign_membership.tenant, role="admin", user__username="globex-boss")

    response = tenant_admin_client.get(admin_url(Membership))

    assert response.status_code == 200
    changelist = response.context["cl"]
    assert changelist.result_count == 2
    assert changelist.full_result_count == 2
    assert {m.user for m in changelist.result_list} == {tenant_admin, agent}
    html = response.content.decode()
    assert agent.username in html
    assert "globex-agent" not in html
    assert "globex-boss" not in html
    assert "column-tenant" not in html


def test_membership_search_does_not_find_another_tenants_members(
    tenant_admin_client, foreign_membership
):
    response = tenant_admin_client.get(admin_url(Membership), {"q": "globex"})

    assert response.context["cl"].result_count == 0
    assert "globex-agent" not in response.content.decode()


@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_another_tenants_membership_answers_404_like_a_missing_one(
    tenant_admin_client, foreign_membership, view
):
    foreign = tenant_admin_client.get(admin_url(Membership, view, foreign_membership.pk))
    missing = tenant_admin_client.get(admin_url(Membership, view, MISSING_ID))

    assert foreign.status_code == 404
    assert missing.status_code == 404
    assert foreign.content == missing.content


def test_changing_another_tenants_membership_by_post_answers_404(
    tenant_admin_client, foreign_membership
):
    response = tenant_admin_client.post(
        admin_url(Membership, "change", foreign_membership.pk),
        membership_post(foreign_membership, role="admin", is_active=""),
    )

    assert response.status_code == 404
    foreign_membership.refresh_from_db()
    assert foreign_membership.role == Membership.Role.AGENT
    assert foreign_membership.is_active is True
    foreign_membership.user.refresh_from_db()
    assert foreign_membership.user.is_staff is False


def test_deleting_another_tenants_membership_by_post_answers_404(
    tenant_admin_client, foreign_membership
):
    response = tenant_admin_client.post(
        admin_url(Membership, "delete", foreign_membership.pk), {"post": "yes"}
    )

    assert response.status_code == 404
    assert Membership.objects.filter(pk=foreign_membership.pk).exists()


def test_the_bulk_delete_action_ignores_another_tenants_membership(
    tenant_admin_client, agent, foreign_membership
):
    own = agent.membership

    response = tenant_admin_client.post(
        admin_url(Membership),
        {
            "action": "delete_selected",
            "_selected_action": [own.pk, foreign_membership.pk],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    assert not Membership.objects.filter(pk=own.pk).exists()
    assert Membership.objects.filter(pk=foreign_membership.pk).exists()


# --- Memberships: adding members -----------------------------------------------------------------


def test_the_add_member_form_hides_the_tenant_from_a_tenant_admin(tenant_admin_client):
    response = tenant_admin_client.get(admin_url(Membership, "add"))

    assert response.status_code == 200
    assert list(response.context["adminform"].form.fields) == [
        "username",
        "email",
        "password",
        "role",
        "max_concurrent_chats",
    ]
    html = response.content.decode()
    assert 'name="tenant"' not in html
    assert "field-tenant" not in html


def test_a_tenant_admin_adds_an_agent(tenant_admin_client, tenant, django_user_model):
    response = tenant_admin_client.post(admin_url(Membership, "add"), new_member_post())

    assert response.status_code == 302
    user = django_user_model.objects.get(username="acme-newbie")
    assert user.email == "newbie@acme.example.com"
    assert user.check_password(STRONG_PASSWORD)
    assert user.is_staff is False
    assert user.is_superuser is False
    assert user.membership.tenant == tenant
    assert user.membership.role == Membership.Role.AGENT
    assert user.membership.max_concurrent_chats == 4
    assert response["Location"] == admin_url(Membership)


def test_a_tenant_admin_adds_an_admin_who_gets_the_staff_flag(
    tenant_admin_client, tenant, django_user_model
):
    response = tenant_admin_client.post(
        admin_url(Membership, "add"), new_member_post(role=Membership.Role.ADMIN)
    )

    assert response.status_code == 302
    user = django_user_model.objects.get(username="acme-newbie")
    assert user.is_staff is True
    assert user.membership.tenant == tenant
    assert user.membership.role == Membership.Role.ADMIN


def test_a_tenant_admin_cannot_add_a_member_to_another_tenant_by_post(
    tenant_admin_client, tenant, other_tenant, django_user_model
):
    response = tenant_admin_client.post(
        admin_url(Membership, "add"), new_member_post(tenant=other_tenant.pk)
    )

    assert response.status_code == 302
    assert django_user_model.objects.get(username="acme-newbie").membership.tenant == tenant
    assert not Membership.objects.filter(tenant=other_tenant).exists()


def test_a_taken_username_is_a_form_error(
    tenant_admin_client, foreign_membership, django_user_model
):
    users_before = django_user_model.objects.count()

    response = tenant_admin_client.post(
        admin_url(Membership, "add"), new_member_post(username="GLOBEX-AGENT")
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"username": ["That username is taken."]}
    assert django_user_model.objects.count() == users_before


def test_a_taken_username_in_other_unicode_forms_is_a_form_error(
    tenant_admin_client, foreign_membership, django_user_model
):
    # Full-width letters: create_user() would store them NFKC-normalised as "globex-agent".
    response = tenant_admin_client.post(
        admin_url(Membership, "add"), new_member_post(username="\uff47\uff4c\uff4f\uff42ex-agent")
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"username": ["That username is taken."]}
    assert django_user_model.objects.filter(username__iexact="globex-agent").count() == 1


def test_a_username_django_would_reject_is_a_form_error(tenant_admin_client, django_user_model):
    users_before = django_user_model.objects.count()

    response = tenant_admin_client.post(
        admin_url(Membership, "add"), new_member_post(username="bad name!")
    )

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["username"]
    assert django_user_model.objects.count() == users_before


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1!", "This password is too short. It must contain at least 8 characters."),
        ("password", "This password is too common."),
        ("4815162342", "This password is entirely numeric."),
        ("acme-newbie", "The password is too similar to the username."),
    ],
)
def test_a_weak_password_is_a_form_error(tenant_admin_client, django_user_model, password, message):
    users_before = django_user_model.objects.count()

    response = tenant_admin_client.post(
        admin_url(Membership, "add"), new_member_post(password=password)
    )

    assert response.status_code == 200
    assert message in response.context["adminform"].form.errors["password"]
    assert django_user_model.objects.count() == users_before


def test_a_superuser_picks_the_tenant_of_a_new_member(
    admin_client, other_tenant, django_user_model
):
    form_page = admin_client.get(admin_url(Membership, "add"))
    response = admin_client.post(
        admin_url(Membership, "add"), new_member_post(tenant=other_tenant.pk)
    )

    assert 'name="tenant"' in form_page.content.decode()
    assert response.status_code == 302
    user = django_user_model.objects.get(username="acme-newbie")
    assert user.membership.tenant == other_tenant
    assert user.is_staff is False


def test_a_superuser_must_pick_a_tenant(admin_client, django_user_model):
    response = admin_client.post(admin_url(Membership, "add"), new_member_post())

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"tenant": ["This field is required."]}
    assert not django_user_model.objects.filter(username="acme-newbie").exists()


# --- Memberships: changing members ---------------------------------------------------------------


def test_the_change_member_form_hides_the_tenant_and_shows_the_user_read_only(
    tenant_admin_client, agent
):
    response = tenant_admin_client.get(admin_url(Membership, "change", agent.membership.pk))

    assert response.status_code == 200
    assert list(response.context["adminform"].form.fields) == [
        "role",
        "availability",
        "max_concurrent_chats",
        "language",
        "is_active",
    ]
    html = response.content.decode()
    assert 'name="tenant"' not in html
    assert "field-tenant" not in html
    assert 'name="user"' not in html


def test_promoting_an_agent_gives_them_the_staff_flag(tenant_admin_client, agent):
    membership = agent.membership

    response = tenant_admin_client.post(
        admin_url(Membership, "change", membership.pk), membership_post(membership, role="admin")
    )

    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.membership.role == Membership.Role.ADMIN
    assert agent.is_staff is True


@pytest.mark.parametrize(
    ("before", "change"),
    [
        ({"availability": "offline"}, {"availability": "online"}),
        ({"max_concurrent_chats": 1}, {"max_concurrent_chats": 3}),
    ],
    ids=["set online", "capacity raised"],
)
def test_an_agent_the_admin_makes_available_is_given_the_waiting_conversations(
    tenant_admin_client, tenant, before, change, django_capture_on_commit_callbacks
):
    membership = MembershipFactory(tenant=tenant, **{"availability": "online", **before})
    presence_join(agent_presence_key(tenant.pk, membership.user_id))
    ConversationFactory(tenant=tenant, status="assigned", assignee=membership.user)  # 1 of 1
    waiting = ConversationFactory(tenant=tenant, status="queued", queued_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = tenant_admin_client.post(
            admin_url(Membership, "change", membership.pk), membership_post(membership, **change)
        )

    assert response.status_code == 302
    waiting.refresh_from_db()
    assert (waiting.status, waiting.assignee_id) == ("assigned", membership.user_id)
    assert callbacks  # announced, as when agents flip their own switch


@pytest.mark.parametrize("change", [{"role": "agent"}, {"is_active": ""}])
def test_demoting_or_disabling_another_admin_takes_the_staff_flag(
    tenant_admin_client, tenant, change
):
    colleague = MembershipFactory(tenant=tenant, role="admin", user__is_staff=True)

    response = tenant_admin_client.post(
        admin_url(Membership, "change", colleague.pk), membership_post(colleague, **change)
    )

    assert response.status_code == 302
    colleague.user.refresh_from_db()
    assert colleague.user.is_staff is False


@pytest.mark.parametrize("change", [{"role": "agent"}, {"is_active": ""}])
def test_a_tenant_admin_cannot_demote_or_disable_themselves(
    tenant_admin_client, tenant_admin, change
):
    membership = tenant_admin.membership

    response = tenant_admin_client.post(
        admin_url(Membership, "change", membership.pk), membership_post(membership, **change)
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "__all__": ["You cannot remove your own admin access."]
    }
    membership.refresh_from_db()
    assert membership.role == Membership.Role.ADMIN
    assert membership.is_active is True
    tenant_admin.refresh_from_db()
    assert tenant_admin.is_staff is True


def test_a_tenant_admin_may_change_their_own_availability(tenant_admin_client, tenant_admin):
    membership = tenant_admin.membership

    response = tenant_admin_client.post(
        admin_url(Membership, "change", membership.pk),
        membership_post(membership, availability="online"),
    )

    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.availability == Membership.Availability.ONLINE


def test_a_tenant_admin_cannot_delete_their_own_membership(tenant_admin_client, tenant_admin):
    membership = tenant_admin.membership

    page = tenant_admin_client.get(admin_url(Membership, "delete", membership.pk))
    response = tenant_admin_client.post(
        admin_url(Membership, "delete", membership.pk), {"post": "yes"}
    )

    assert page.status_code == 403
    assert response.status_code == 403
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_the_bulk_delete_action_refuses_the_own_membership(
    tenant_admin_client, tenant_admin, agent
):
    response = tenant_admin_client.post(
        admin_url(Membership),
        {
            "action": "delete_selected",
            "_selected_action": [tenant_admin.membership.pk, agent.membership.pk],
            "post": "yes",
        },
    )

    assert response.status_code == 403
    assert Membership.objects.filter(user__in=[tenant_admin, agent]).count() == 2


def test_a_tenant_admin_deletes_an_agents_membership(tenant_admin_client, agent):
    response = tenant_admin_client.post(
        admin_url(Membership, "delete", agent.membership.pk), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Membership.objects.filter(user=agent).exists()


# --- Inboxes -------------------------------------------------------------------------------------


def test_inbox_changelist_lists_only_the_own_tenants_inboxes(
    tenant_admin_client, inbox, foreign_inbox
):
    response = tenant_admin_client.get(admin_url(Inbox))

    assert response.status_code == 200
    changelist = response.context["cl"]
    assert changelist.result_count == 1
    assert changelist.full_result_count == 1
    assert list(changelist.result_list) == [inbox]
    html = response.content.decode()
    assert inbox.name in html
    assert foreign_inbox.name not in html
    assert foreign_inbox.public_key not in html
    assert "column-tenant" not in html


def test_a_crafted_tenant_filter_does_not_widen_the_inbox_changelist(
    tenant_admin_client, inbox, foreign_inbox, other_tenant
):
    response = tenant_admin_client.get(admin_url(Inbox), {"tenant__id__exact": other_tenant.pk})

    assert response.status_code == 200
    assert response.context["cl"].result_count == 0
    assert foreign_inbox.name not in response.content.decode()


@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_another_tenants_inbox_answers_404_like_a_missing_one(
    tenant_admin_client, foreign_inbox, view
):
    foreign = tenant_admin_client.get(admin_url(Inbox, view, foreign_inbox.pk))
    missing = tenant_admin_client.get(admin_url(Inbox, view, MISSING_ID))

    assert foreign.status_code == 404
    assert missing.status_code == 404
    assert foreign.content == missing.content


def test_changing_another_tenants_inbox_by_post_answers_404(tenant_admin_client, foreign_inbox):
    response = tenant_admin_client.post(
        admin_url(Inbox, "change", foreign_inbox.pk), inbox_post(name="Hijacked")
    )

    assert response.status_code == 404
    foreign_inbox.refresh_from_db()
    assert foreign_inbox.name == "Globex Storefront"


def test_deleting_another_tenants_inbox_by_post_answers_404(tenant_admin_client, foreign_inbox):
    response = tenant_admin_client.post(
        admin_url(Inbox, "delete", foreign_inbox.pk), {"post": "yes"}
    )

    assert response.status_code == 404
    assert Inbox.objects.filter(pk=foreign_inbox.pk).exists()


def test_the_inbox_form_hides_the_tenant_from_a_tenant_admin(tenant_admin_client, inbox):
    add_page = tenant_admin_client.get(admin_url(Inbox, "add"))
    change_page = tenant_admin_client.get(admin_url(Inbox, "change", inbox.pk))

    for page in (add_page, change_page):
        assert page.status_code == 200
        assert "tenant" not in page.context["adminform"].form.fields
        html = page.content.decode()
        assert 'name="tenant"' not in html
        assert "field-tenant" not in html


def test_a_tenant_admin_adds_an_inbox_in_their_tenant(tenant_admin_client, tenant):
    response = tenant_admin_client.post(admin_url(Inbox, "add"), inbox_post())

    assert response.status_code == 302
    created = Inbox.objects.get(name="Acme Shop")
    assert created.tenant == tenant
    assert created.allowed_origins == "https://acme.example.com"
    assert len(created.public_key) == 32


def test_a_crafted_tenant_in_the_add_inbox_post_is_ignored(
    tenant_admin_client, tenant, other_tenant
):
    response = tenant_admin_client.post(admin_url(Inbox, "add"), inbox_post(tenant=other_tenant.pk))

    assert response.status_code == 302
    assert Inbox.objects.get(name="Acme Shop").tenant == tenant
    assert not Inbox.objects.filter(tenant=other_tenant).exists()


def test_a_crafted_tenant_in_the_change_inbox_post_is_ignored(
    tenant_admin_client, tenant, other_tenant, inbox
):
    response = tenant_admin_client.post(
        admin_url(Inbox, "change", inbox.pk), inbox_post(name="Renamed", tenant=other_tenant.pk)
    )

    assert response.status_code == 302
    inbox.refresh_from_db()
    assert inbox.name == "Renamed"
    assert inbox.tenant == tenant
    assert not Inbox.objects.filter(tenant=other_tenant).exists()


def test_a_bad_origin_is_a_form_error(tenant_admin_client):
    response = tenant_admin_client.post(
        admin_url(Inbox, "add"), inbox_post(allowed_origins="https://acme.example.com/shop")
    )

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["allowed_origins"]
    assert not Inbox.objects.exists()


def test_the_inbox_page_shows_its_embed_code(tenant_admin_client, inbox):
    response = tenant_admin_client.get(admin_url(Inbox, "change", inbox.pk))

    assert f"data-inbox=&quot;{inbox.public_key}&quot;" in response.content.decode()


# --- Superusers ----------------------------------------------------------------------------------


def test_a_superuser_sees_every_tenants_inboxes_with_the_tenant_column_and_filter(
    admin_client, tenant, other_tenant, inbox, foreign_inbox
):
    response = admin_client.get(admin_url(Inbox))

    changelist = response.context["cl"]
    assert changelist.result_count == 2
    assert set(changelist.result_list) == {inbox, foreign_inbox}
    assert "tenant" in changelist.list_display
    assert [spec.title for spec in changelist.filter_specs] == ["active", "tenant"]
    html = response.content.decode()
    assert "column-tenant" in html
    assert tenant.name in html
    assert other_tenant.name in html


def test_a_superuser_filters_inboxes_by_tenant(admin_client, other_tenant, inbox, foreign_inbox):
    response = admin_client.get(admin_url(Inbox), {"tenant__id__exact": other_tenant.pk})

    assert list(response.context["cl"].result_list) == [foreign_inbox]


def test_a_superuser_sees_every_tenants_members(admin_client, agent, foreign_membership):
    response = admin_client.get(admin_url(Membership))

    assert set(response.context["cl"].result_list) == {agent.membership, foreign_membership}
    assert "column-tenant" in response.content.decode()


def test_a_superuser_creates_an_inbox_in_the_tenant_they_choose(admin_client, other_tenant):
    form_page = admin_client.get(admin_url(Inbox, "add"))
    response = admin_client.post(admin_url(Inbox, "add"), inbox_post(tenant=other_tenant.pk))

    assert 'name="tenant"' in form_page.content.decode()
    assert response.status_code == 302
    assert Inbox.objects.get(name="Acme Shop").tenant == other_tenant


def test_a_superuser_opens_the_tenant_admin(admin_client, tenant, other_tenant):
    response = admin_client.get(admin_url(Tenant))

    assert response.status_code == 200
    assert set(response.context["cl"].result_list) == {tenant, other_tenant}


# --- The base class on its own -------------------------------------------------------------------


def test_scope_to_tenant_limits_tenant_rows_users_and_tenants(
    tenant, other_tenant, tenant_admin, agent, foreign_membership, django_user_model
):
    UserFactory(username="loner")

    assert set(scope_to_tenant(Membership.objects.all(), tenant)) == {
        tenant_admin.membership,
        agent.membership,
    }
    assert set(scope_to_tenant(django_user_model.objects.all(), tenant)) == {tenant_admin, agent}
    assert list(scope_to_tenant(Tenant.objects.all(), tenant)) == [tenant]
    assert list(scope_to_tenant(Group.objects.all(), tenant)) == []


class ConversationFormAdmin(TenantScopedAdmin):
    """An editable conversation admin: the one model with foreign keys to other tenant rows."""

    fields = ["tenant", "inbox", "contact", "status", "assignee", "last_seq"]


def _conversation_form_data(inbox, contact, **overrides):
    data = {
        "inbox": inbox.pk,
        "contact": contact.pk,
        "status": Conversation.Status.BOT,
        "last_seq": 0,
    }
    data.update(overrides)
    return data


def test_foreign_key_choices_are_limited_to_the_tenant(tenant_admin, inbox, contact, other_tenant):
    model_admin = ConversationFormAdmin(Conversation, admin.site)
    form_class = model_admin.get_form(admin_request(tenant_admin))
    foreign_inbox = InboxFactory(tenant=other_tenant)
    foreign_contact = ContactFactory(tenant=other_tenant)
    foreign_agent = MembershipFactory(tenant=other_tenant).user

    form = form_class(
        data=_conversation_form_data(
            foreign_inbox, foreign_contact, status="assigned", assignee=foreign_agent.pk
        )
    )

    assert "tenant" not in form.fields
    assert list(form.fields["inbox"].queryset) == [inbox]
    assert list(form.fields["contact"].queryset) == [contact]
    assert form.errors == {
        "inbox": ["Select a valid choice. That choice is not one of the available choices."],
        "contact": ["Select a valid choice. That choice is not one of the available choices."],
        "assignee": ["Select a valid choice. That choice is not one of the available choices."],
    }


def test_the_form_sets_the_tenant_before_validation(tenant, tenant_admin, inbox, contact):
    model_admin = ConversationFormAdmin(Conversation, admin.site)
    form_class = model_admin.get_form(admin_request(tenant_admin))

    form = form_class(data=_conversation_form_data(inbox, contact))

    assert form.errors == {}
    assert form.instance.tenant == tenant


def test_the_consistent_form_rejects_another_tenants_rows_even_for_superusers(
    tenant, contact, other_tenant
):
    foreign_inbox = InboxFactory(tenant=other_tenant)

    class ConversationForm(TenantConsistentForm):
        class Meta:
            model = Conversation
            fields = ["tenant", "inbox", "contact", "status", "last_seq"]

    form = ConversationForm(
        data={**_conversation_form_data(foreign_inbox, contact), "tenant": tenant.pk}
    )

    assert form.errors == {"inbox": ["Choose a row of the same tenant."]}


def test_the_consistent_form_checks_a_change_against_the_saved_tenant(conversation, other_tenant):
    foreign_inbox = InboxFactory(tenant=other_tenant)

    class ConversationForm(TenantConsistentForm):
        class Meta:
            model = Conversation
            fields = ["inbox", "contact", "status", "last_seq"]

    form = ConversationForm(
        instance=conversation,
        data=_conversation_form_data(foreign_inbox, conversation.contact),
    )

    assert form.errors == {"inbox": ["Choose a row of the same tenant."]}


class ConversationInline(TenantScopedInline):
    model = Conversation
    fields = ["inbox", "status"]


def _inline_formset(user, parent, inbox):
    formset_class = ConversationInline(Contact, admin.site).get_formset(
        admin_request(user), obj=None
    )
    prefix = formset_class.get_default_prefix()
    data = {
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-0-inbox": inbox.pk,
        f"{prefix}-0-status": Conversation.Status.BOT,
    }
    return formset_class(data=data, instance=parent, prefix=prefix)


def test_inline_rows_added_by_a_superuser_take_the_parents_tenant(admin_user, tenant, inbox):
    # On an add page there is no obj yet, and a superuser has no tenant of their own.
    parent = ContactFactory(tenant=tenant)
    formset = _inline_formset(admin_user, parent, inbox)

    assert formset.errors == [{}]
    formset.save()

    assert Conversation.objects.get(contact=parent).tenant == tenant


def test_inline_rows_added_by_a_tenant_admin_take_the_tenant_and_its_choices(
    tenant_admin, tenant, inbox, other_tenant
):
    parent = ContactFactory(tenant=tenant)
    foreign_inbox = InboxFactory(tenant=other_tenant)

    rejected = _inline_formset(tenant_admin, parent, foreign_inbox)
    accepted = _inline_formset(tenant_admin, parent, inbox)

    assert rejected.errors == [
        {"inbox": ["Select a valid choice. That choice is not one of the available choices."]}
    ]
    assert accepted.errors == [{}]
    accepted.save()
    assert Conversation.objects.get(contact=parent).tenant == tenant
