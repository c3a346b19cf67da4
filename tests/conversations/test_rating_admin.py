"""Ratings in the tenant-scoped admin: read-only, filtered, and on the conversation's page."""

import pytest

from helpdesk.conversations.models import Conversation, Rating
from tests.factories import ContactFactory, ConversationFactory, MembershipFactory
from tests.support.admin_urls import admin_url

pytestmark = pytest.mark.django_db


def rated(tenant, score, comment="", agent=None, scale="five"):
    conversation = ConversationFactory(
        tenant=tenant,
        status=Conversation.Status.RESOLVED,
        contact=ContactFactory(tenant=tenant, name=f"Customer {score}"),
    )
    return Rating.objects.create(
        tenant=tenant, conversation=conversation, score=score, scale=scale, comment=comment,
        agent=agent,
    )  # fmt: skip


@pytest.fixture
def ratings(tenant, other_tenant):
    ann = MembershipFactory(tenant=tenant, user__username="ann-agent").user
    outsider = MembershipFactory(tenant=other_tenant, user__username="globex-agent").user
    return {
        "great": rated(tenant, 5, "Quick and kind", agent=ann),
        "poor": rated(tenant, 2, "Too slow"),
        "foreign": rated(other_tenant, 1, "Globex secret complaint", agent=outsider),
    }


def test_the_list_shows_only_the_tenants_ratings(tenant_admin_client, ratings):
    response = tenant_admin_client.get(admin_url(Rating))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Quick and kind" in html
    assert "Too slow" in html
    assert "Globex secret complaint" not in html
    # The agent filter lists only the tenant's agents that occur in its ratings.
    assert "ann-agent" in html
    assert "globex-agent" not in html


def test_the_list_filters_by_score_and_agent(tenant_admin_client, ratings):
    by_score = tenant_admin_client.get(admin_url(Rating), {"score": 2}).content.decode()
    assert "Too slow" in by_score
    assert "Quick and kind" not in by_score

    agent = ratings["great"].agent_id
    by_agent = tenant_admin_client.get(
        admin_url(Rating), {"agent__id__exact": agent}
    ).content.decode()
    assert "Quick and kind" in by_agent
    assert "Too slow" not in by_agent


def test_ratings_are_read_only(tenant_admin_client, ratings):
    rating = ratings["great"]

    page = tenant_admin_client.get(admin_url(Rating, "change", rating.pk))
    assert page.status_code == 200
    assert 'name="score"' not in page.content.decode()
    assert tenant_admin_client.get(admin_url(Rating, "add")).status_code == 403
    posted = tenant_admin_client.post(admin_url(Rating, "change", rating.pk), {"score": 1})
    assert posted.status_code == 403
    assert (
        tenant_admin_client.post(
            admin_url(Rating, "delete", rating.pk), {"post": "yes"}
        ).status_code
        == 403
    )
    assert Rating.objects.get(pk=rating.pk).score == 5


def test_another_tenants_rating_is_not_found(tenant_admin_client, ratings):
    response = tenant_admin_client.get(admin_url(Rating, "change", ratings["foreign"].pk))

    assert response.status_code in (302, 404)
    assert "Globex" not in response.content.decode()


def test_the_conversation_page_shows_its_rating(tenant_admin_client, ratings, tenant):
    conversation = ratings["great"].conversation
    page = tenant_admin_client.get(admin_url(Conversation, "change", conversation.pk))
    assert "5 / 5 — Quick and kind" in page.content.decode()

    thumbs = rated(tenant, 1, scale="thumbs").conversation
    page = tenant_admin_client.get(admin_url(Conversation, "change", thumbs.pk))
    assert "Thumbs down" in page.content.decode()

    unrated = ConversationFactory(tenant=tenant)
    page = tenant_admin_client.get(admin_url(Conversation, "change", unrated.pk))
    assert "Not rated" in page.content.decode()


def test_deleting_a_conversation_takes_its_rating(tenant_admin_client, ratings):
    conversation = ratings["poor"].conversation

    response = tenant_admin_client.post(
        admin_url(Conversation, "delete", conversation.pk), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Rating.objects.filter(pk=ratings["poor"].pk).exists()
