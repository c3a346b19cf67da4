"""The console's Follow-up tab: open conversations whose customer left an e-mail."""

import pytest

from tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db

LIST = "/console/api/conversations"


def test_the_follow_up_view_lists_open_follow_ups_of_the_tenant(agent_client, tenant, other_tenant):
    waiting = ConversationFactory(tenant=tenant, status="queued", follow_up=True)
    ConversationFactory(tenant=tenant, status="resolved", follow_up=True)  # answered
    ConversationFactory(tenant=tenant, status="queued")  # not a follow-up
    ConversationFactory(tenant=other_tenant, status="queued", follow_up=True)

    rows = agent_client.get(LIST, {"view": "follow_up"}).json()["conversations"]

    assert [r["id"] for r in rows] == [waiting.pk]
    assert rows[0]["follow_up"] is True


def test_every_list_row_says_whether_it_is_a_follow_up(agent_client, tenant):
    followed = ConversationFactory(tenant=tenant, status="queued", follow_up=True)
    plain = ConversationFactory(tenant=tenant, status="queued")

    rows = agent_client.get(LIST, {"view": "all"}).json()["conversations"]

    assert {r["id"]: r["follow_up"] for r in rows} == {followed.pk: True, plain.pk: False}
