import pytest
from django.test import Client

from helpdesk.api.keys import api_key_create
from tests.factories import MembershipFactory


class ApiClient:
    """The test client with an API key in every request."""

    def __init__(self, raw_key: str):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {raw_key}"}

    def get(self, path, **params):
        return self.client.get(f"/api/v1{path}", params, headers=self.headers)

    def post(self, path, body=None):
        return self.client.post(
            f"/api/v1{path}", body or {}, content_type="application/json", headers=self.headers
        )

    def patch(self, path, body):
        return self.client.patch(
            f"/api/v1{path}", body, content_type="application/json", headers=self.headers
        )

    def delete(self, path):
        return self.client.delete(f"/api/v1{path}", headers=self.headers)


@pytest.fixture
def key_admin(tenant):
    return MembershipFactory(tenant=tenant, role="admin").user


def make_api(tenant, user, scope="admin"):
    key, raw = api_key_create(tenant=tenant, user=user, name=f"{scope} key", scope=scope)
    return ApiClient(raw)


@pytest.fixture
def api(tenant, key_admin):
    return make_api(tenant, key_admin)


@pytest.fixture
def read_api(tenant, key_admin):
    return make_api(tenant, key_admin, "read")


@pytest.fixture
def write_api(tenant, key_admin):
    return make_api(tenant, key_admin, "write")


@pytest.fixture
def other_api(other_tenant):
    return make_api(other_tenant, MembershipFactory(tenant=other_tenant, role="admin").user)
