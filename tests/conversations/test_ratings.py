"""Satisfaction ratings: rating_submit's rules, what it announces, and the payloads."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpdesk.conversations import announcements
from helpdesk.conversations.announcements import Change, listen_to_changes
from helpdesk.conversations.lifecycle import conversation_resolve, conversation_takeover
from helpdesk.conversations.models import Conversation, Rating
from helpdesk.conversations.ratings import rating_payload, rating_submit
from helpdesk.conversations.selectors import conversation_get, conversations_for_console
from helpdesk.conversations.serializers import conversation_payload
from helpdesk.conversations.services import Sender, customer_message_send, message_post
from helpdesk.core.errors import (
    AlreadyRated,
    ConversationNotResolved,
    InvalidCharacters,
    InvalidInput,
    NotFound,
    RateLimited,
    RatingsDisabled,
)
from helpdesk.realtime.events import agents_group, conversation_group, conversation_staff_group
from tests.conversations.test_concurrency import run_concurrently
from tests.factories import (
    BotConfigFactory,
    ContactFactory,
    ConversationFactory,
    InboxFactory,
    MembershipFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


def resolved(conversation, agent=None):
    if agent is not None:
        conversation_takeover(
            tenant=conversation.tenant, conversation_id=conversation.pk, agent=agent
        )
    conversation_resolve(tenant=conversation.tenant, conversation_id=conversation.pk, agent=agent)
    conversation.refresh_from_db()
    return conversation


def submit(conversation, score=5, comment="", contact=None, tenant=None):
    return rating_submit(
        tenant=tenant or conversation.tenant,
        contact=contact or conversation.contact,
        conversation_id=conversation.pk,
        score=score,
        comment=comment,
    )


# --- The rules ----------------------------------------------------------------------------------


def test_a_resolved_conversation_is_rated_with_its_agent(conversation, agent):
    resolved(conversation, agent)

    rating = submit(conversation, score=4, comment="  Quick and kind  ")

    assert (rating.score, rating.scale, rating.comment) == (4, "five", "Quick and kind")
    assert rating.agent == agent
    assert rating.bot is None
    assert rating.tenant_id == conversation.tenant_id
    assert rating.satisfied
    assert rating_payload(rating) == {
        "score": 4,
        "scale": "five",
        "comment": "Quick and kind",
        "created_at": rating.created_at.isoformat(),
    }


def test_an_open_conversation_cannot_be_rated(conversation):
    with pytest.raises(ConversationNotResolved) as caught:
        submit(conversation)

    assert caught.value.code == "conversation_not_resolved"
    assert caught.value.http_status == 409
    assert Rating.objects.count() == 0


def test_an_inbox_that_does_not_ask_refuses_ratings(conversation):
    conversation.inbox.rating_scale = "off"
    conversation.inbox.save()
    resolved(conversation)

    with pytest.raises(RatingsDisabled) as caught:
        submit(conversation)

    assert caught.value.code == "ratings_disabled"


def test_another_contacts_conversation_is_not_found(conversation, tenant):
    resolved(conversation)
    stranger = ContactFactory(tenant=tenant)

    with pytest.raises(NotFound):
        submit(conversation, contact=stranger)
    assert Rating.objects.count() == 0


def test_another_tenants_conversation_is_not_found(conversation, other_tenant):
    resolved(conversation)
    outsider = ContactFactory(tenant=other_tenant)

    with pytest.raises(NotFound):
        submit(conversation, contact=outsider, tenant=other_tenant)
    # Even with the conversation's own contact, under the wrong tenant.
    with pytest.raises(NotFound):
        submit(conversation, tenant=other_tenant)
    assert Rating.objects.count() == 0


@pytest.mark.parametrize("conversation_id", [0, -1, "x", None, 10**20])
def test_a_bad_conversation_id_is_not_found(conversation, conversation_id):
    with pytest.raises(NotFound):
        rating_submit(
            tenant=conversation.tenant,
            contact=conversation.contact,
            conversation_id=conversation_id,
            score=5,
            comment="",
        )


@pytest.mark.parametrize("score", [0, 6, -1, True, 4.5, "5", None])
def test_a_score_off_the_scale_is_invalid(conversation, score):
    resolved(conversation)

    with pytest.raises(InvalidInput) as caught:
        submit(conversation, score=score)

    assert caught.value.details == {"field": "score"}


@pytest.mark.parametrize("score", [2, 3, 4])
def test_thumbs_take_only_up_or_down(conversation, score):
    conversation.inbox.rating_scale = "thumbs"
    conversation.inbox.save()
    resolved(conversation)

    with pytest.raises(InvalidInput):
        submit(conversation, score=score)

    rating = submit(conversation, score=1)
    assert (rating.score, rating.scale, rating.satisfied) == (1, "thumbs", False)


def test_thumbs_up_is_stored_as_five(conversation):
    conversation.inbox.rating_scale = "thumbs"
    conversation.inbox.save()
    resolved(conversation)

    assert submit(conversation, score=5).score == 5


def test_the_comment_is_at_most_1000_characters(conversation):
    resolved(conversation)

    with pytest.raises(InvalidInput) as caught:
        submit(conversation, comment="x" * 1001)
    assert caught.value.details == {"field": "comment"}

    assert len(submit(conversation, comment="é" * 1000).comment) == 1000


@pytest.mark.parametrize("comment", ["bad\x00byte", "lone \ud800 surrogate"])
def test_an_unstorable_comment_is_refused(conversation, comment):
    resolved(conversation)

    with pytest.raises(InvalidCharacters):
        submit(conversation, comment=comment)


def test_a_comment_that_is_not_text_is_invalid(conversation):
    resolved(conversation)

    with pytest.raises(InvalidInput):
        submit(conversation, comment=["a"])


def test_a_conversation_is_rated_once(conversation):
    resolved(conversation)
    submit(conversation, score=5)

    with pytest.raises(AlreadyRated) as caught:
        submit(conversation, score=1)

    assert caught.value.code == "already_rated"
    assert caught.value.http_status == 409
    assert Rating.objects.get().score == 5


def test_two_submissions_at_once_store_one_rating(conversation):
    resolved(conversation)

    def rate(i):
        try:
            return submit(conversation, score=1 + i % 5).pk
        except AlreadyRated:
            return "already_rated"

    results = run_concurrently(8, rate)

    assert Rating.objects.count() == 1
    assert results.count("already_rated") == 7


def test_the_unique_constraint_decides_when_the_check_is_passed(conversation, monkeypatch):
    """The pre-check sees no rating (another request is between check and insert): the insert
    itself is refused, and the answer is already_rated, not a 500."""
    resolved(conversation)
    submit(conversation, score=5)
    real_filter = Rating.objects.filter

    class Nothing:
        def exists(self):
            return False

    monkeypatch.setattr(
        Rating.objects,
        "filter",
        lambda *a, **kw: Nothing() if "conversation" in kw else real_filter(*a, **kw),
    )

    with pytest.raises(AlreadyRated):
        submit(conversation, score=2)
    assert Rating.objects.count() == 1


def test_ratings_are_rate_limited(conversation, settings):
    settings.RATE_CUSTOMER_RATINGS = (3, 60)

    for _ in range(3):
        with pytest.raises(ConversationNotResolved):
            submit(conversation)
    with pytest.raises(RateLimited):
        submit(conversation)


def test_without_an_assignee_the_last_agent_who_answered_is_rated(conversation, tenant):
    first, last = MembershipFactory(tenant=tenant).user, MembershipFactory(tenant=tenant).user
    for agent in (first, last):
        message_post(
            tenant=tenant, conversation_id=conversation.pk, sender=Sender.agent(agent), text="hi"
        )
    Conversation.objects.filter(pk=conversation.pk).update(assignee=None)
    resolved(conversation)

    assert submit(conversation).agent == last


def test_when_no_agent_answered_the_inbox_bot_is_rated(tenant):
    bot = BotConfigFactory(tenant=tenant)
    inbox = InboxFactory(tenant=tenant, bot=bot)
    conversation = resolved(ConversationFactory(tenant=tenant, inbox=inbox))

    rating = submit(conversation, score=2)

    assert rating.agent is None
    assert rating.bot == bot


def test_a_reopened_conversation_keeps_its_rating_and_is_not_asked_again(conversation, agent):
    resolved(conversation, agent)
    submit(conversation, score=5, comment="great")

    customer_message_send(
        tenant=conversation.tenant,
        inbox=conversation.inbox,
        contact=conversation.contact,
        conversation_id=conversation.pk,
        text="one more thing",
        client_id="again",
        client_ip="198.51.100.7",
    )
    conversation.refresh_from_db()
    assert conversation.status != Conversation.Status.RESOLVED
    assert Rating.objects.get().comment == "great"
    # Open again: nothing to ask for, and no rating shown in the payload.
    assert (
        conversation_payload(
            conversation_get(tenant=conversation.tenant, conversation_id=conversation.pk)
        )["rating"]
        is None
    )
    with pytest.raises(ConversationNotResolved):
        submit(conversation, score=1)

    resolved(conversation)
    payload = conversation_payload(
        conversation_get(tenant=conversation.tenant, conversation_id=conversation.pk)
    )
    assert payload["rating"]["score"] == 5
    with pytest.raises(AlreadyRated):
        submit(conversation, score=1)


# --- Announcements --------------------------------------------------------------------------------


def test_a_rating_is_announced_to_the_agents_after_commit(conversation, agent, listen):
    resolved(conversation, agent)
    staff = listen(conversation_staff_group(conversation.tenant_id, conversation.pk))
    agents = listen(agents_group(conversation.tenant_id))
    public = listen(conversation_group(conversation.tenant_id, conversation.pk))

    submit(conversation, score=4, comment="thanks")

    for listener in (staff, agents):
        events = [e for e in listener.events() if e["type"] == "conversation.updated"]
        assert len(events) == 1
        assert events[0]["conversation"] == conversation.pk
        assert events[0]["data"]["rating"]["score"] == 4
        assert events[0]["data"]["rating"]["comment"] == "thanks"
    assert public.events() == []


def test_a_refused_rating_announces_nothing(conversation, listen, monkeypatch):
    monkeypatch.setattr(announcements, "_listeners", {})
    heard = []
    listen_to_changes("all", heard.append, changes=list(Change))
    agents = listen(agents_group(conversation.tenant_id))

    with pytest.raises(ConversationNotResolved):
        submit(conversation)

    assert agents.events() == []
    assert heard == []


def test_the_domain_announces_the_rated_change(conversation, monkeypatch):
    monkeypatch.setattr(announcements, "_listeners", {})
    heard = []
    listen_to_changes("rated", heard.append, changes=[Change.RATED])
    resolved(conversation)

    submit(conversation)

    assert [(c.change, c.conversation_id) for c in heard] == [(Change.RATED, conversation.pk)]


# --- Payloads and their queries -------------------------------------------------------------------


def test_the_conversation_payload_has_the_rating_or_null(conversation):
    assert conversation_payload(conversation)["rating"] is None
    resolved(conversation)
    fresh = conversation_get(tenant=conversation.tenant, conversation_id=conversation.pk)
    assert conversation_payload(fresh)["rating"] is None

    submit(conversation, score=3, comment="ok")

    fresh = conversation_get(tenant=conversation.tenant, conversation_id=conversation.pk)
    assert conversation_payload(fresh)["rating"]["score"] == 3


def test_an_open_conversation_payload_reads_no_rating(conversation):
    # The fast path builds open conversations without the database: no query for the rating.
    unsaved = Conversation(
        pk=conversation.pk,
        tenant=conversation.tenant,
        inbox=conversation.inbox,
        contact=conversation.contact,
        status=Conversation.Status.BOT,
    )
    with CaptureQueriesContext(connection) as queries:
        assert conversation_payload(unsaved)["rating"] is None
    assert len(queries) == 0


def test_listing_resolved_conversations_reads_ratings_in_the_same_query(tenant, inbox, agent):
    for n in range(4):
        conversation = resolved(ConversationFactory(tenant=tenant, inbox=inbox))
        if n % 2:
            submit(conversation, score=5)
    conversations = conversations_for_console(tenant=tenant, user=agent, view="all", limit=10)

    with CaptureQueriesContext(connection) as queries:
        payloads = [conversation_payload(c) for c in conversations]

    assert len(queries) == 0
    assert sorted(p["rating"]["score"] if p["rating"] else 0 for p in payloads) == [0, 0, 5, 5]
