import pytest

from helpdesk.core.errors import InvalidInput
from helpdesk.tenants.models import Membership
from helpdesk.tenants.services import membership_add, membership_create, membership_sync_staff
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "violet-Harbour-7391"


def test_membership_create_creates_an_agent_without_the_staff_flag(tenant):
    membership = membership_create(
        tenant=tenant,
        username="acme-agent",
        email="agent@acme.example",
        password=PASSWORD,
        max_concurrent_chats=3,
    )

    membership.refresh_from_db()
    user = membership.user
    assert membership.tenant == tenant
    assert membership.role == Membership.Role.AGENT
    assert membership.max_concurrent_chats == 3
    assert membership.is_active is True
    assert user.username == "acme-agent"
    assert user.email == "agent@acme.example"
    assert user.check_password(PASSWORD)
    assert user.is_staff is False
    assert user.is_superuser is False


def test_membership_create_gives_an_admin_the_staff_flag(tenant):
    membership = membership_create(
        tenant=tenant, username="acme-admin", password=PASSWORD, role=Membership.Role.ADMIN
    )

    membership.user.refresh_from_db()
    assert membership.role == Membership.Role.ADMIN
    assert membership.user.is_staff is True


def test_membership_create_refuses_a_taken_username_in_any_case(
    tenant, other_tenant, django_user_model
):
    MembershipFactory(tenant=other_tenant, user__username="globex-agent")
    users_before = django_user_model.objects.count()

    with pytest.raises(InvalidInput) as raised:
        membership_create(tenant=tenant, username="Globex-Agent", password=PASSWORD)

    assert raised.value.message == "That username is taken."
    assert raised.value.details == {"field": "username"}
    assert django_user_model.objects.count() == users_before
    assert not Membership.objects.filter(tenant=tenant).exists()


def test_membership_add_makes_an_existing_user_a_member(tenant):
    user = UserFactory()

    membership = membership_add(tenant=tenant, user=user, max_concurrent_chats=7)

    assert membership.tenant == tenant
    assert membership.user == user
    assert membership.role == Membership.Role.AGENT
    assert membership.max_concurrent_chats == 7
    user.refresh_from_db()
    assert user.is_staff is False


def test_membership_add_gives_an_admin_the_staff_flag(tenant):
    user = UserFactory()

    membership_add(tenant=tenant, user=user, role=Membership.Role.ADMIN)

    user.refresh_from_db()
    assert user.is_staff is True


def test_membership_add_takes_the_staff_flag_from_a_new_agent(tenant):
    user = UserFactory(is_staff=True)

    membership_add(tenant=tenant, user=user)

    user.refresh_from_db()
    assert user.is_staff is False


@pytest.mark.parametrize("same_tenant", [True, False])
def test_a_user_belongs_to_one_tenant_at_most(tenant, other_tenant, agent, same_tenant):
    target = tenant if same_tenant else other_tenant

    with pytest.raises(InvalidInput) as raised:
        membership_add(tenant=target, user=agent, role=Membership.Role.ADMIN)

    assert raised.value.message == "This user already belongs to a tenant."
    assert raised.value.details == {"field": "user"}
    assert Membership.objects.filter(user=agent).count() == 1
    assert Membership.objects.get(user=agent).tenant == tenant
    agent.refresh_from_db()
    assert agent.is_staff is False


def test_membership_sync_staff_takes_the_flag_from_a_demoted_admin(tenant_admin):
    membership = tenant_admin.membership
    membership.role = Membership.Role.AGENT
    membership.save()

    membership_sync_staff(membership)

    tenant_admin.refresh_from_db()
    assert tenant_admin.is_staff is False


def test_membership_sync_staff_takes_the_flag_from_a_disabled_admin(tenant_admin):
    membership = tenant_admin.membership
    membership.is_active = False
    membership.save()

    membership_sync_staff(membership)

    tenant_admin.refresh_from_db()
    assert tenant_admin.is_staff is False


def test_membership_sync_staff_gives_the_flag_to_a_promoted_agent(agent):
    membership = agent.membership
    membership.role = Membership.Role.ADMIN
    membership.save()

    membership_sync_staff(membership)

    agent.refresh_from_db()
    assert agent.is_staff is True


def test_membership_sync_staff_leaves_a_superuser_their_staff_flag(tenant):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    membership = membership_add(tenant=tenant, user=superuser)
    membership.is_active = False
    membership.save()

    membership_sync_staff(membership)

    superuser.refresh_from_db()
    assert membership.role == Membership.Role.AGENT
    assert superuser.is_staff is True
    assert superuser.is_superuser is True


def test_membership_sync_staff_writes_nothing_when_the_flag_is_right(
    tenant_admin, django_assert_num_queries
):
    membership = Membership.objects.select_related("user").get(user=tenant_admin)

    with django_assert_num_queries(0):
        membership_sync_staff(membership)
