import pytest

from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def agent_client(client, agent):
    """The test client, logged in as an agent of ``tenant``."""
    client.force_login(agent)
    return client


@pytest.fixture
def outsider(db):
    """A user with a password but no membership anywhere."""
    return UserFactory()


@pytest.fixture
def other_agent(other_tenant):
    return MembershipFactory(tenant=other_tenant).user
