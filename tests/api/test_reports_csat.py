"""/api/v1/reports carries CSAT, and conversation payloads their rating, for the key's tenant."""

import pytest

from helpdesk.conversations.models import Conversation, Rating
from tests.factories import ConversationFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def rate(tenant, score, agent=None):
    conversation = ConversationFactory(tenant=tenant, status=Conversation.Status.RESOLVED)
    Rating.objects.create(
        tenant=tenant,
        conversation=conversation,
        score=score,
        scale="five",
        comment="c",
        agent=agent,
    )
    return conversation


def test_the_report_has_the_tenants_csat(api, tenant, other_tenant):
    agent = MembershipFactory(tenant=tenant).user
    rate(tenant, 5, agent)
    rate(tenant, 2, agent)
    rate(other_tenant, 1)

    csat = api.get("/reports", days=7).json()["csat"]

    assert (csat["count"], csat["satisfied"], csat["csat"], csat["average"]) == (2, 1, 0.5, 3.5)
    assert [a["agent_id"] for a in csat["by_agent"]] == [agent.pk]
    assert csat["daily"][-1]["count"] == 2


def test_a_conversation_read_through_the_api_has_its_rating(api, tenant):
    rated = rate(tenant, 4)
    unrated = ConversationFactory(tenant=tenant)

    assert api.get(f"/conversations/{rated.pk}").json()["rating"]["score"] == 4
    assert api.get(f"/conversations/{unrated.pk}").json()["rating"] is None
    listed = {c["id"]: c["rating"] for c in api.get("/conversations").json()["conversations"]}
    assert listed[rated.pk] == {"score": 4, "scale": "five", "comment": "c",
                                "created_at": listed[rated.pk]["created_at"]}  # fmt: skip
