"""Every conversation transition: validated, stored, announced — and refused cleanly when it
may not happen, with nothing changed and nothing broadcast."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connections
from django.utils import timezone

from helpdesk.conversations import lifecycle
from helpdesk.conversations.assignment import (
    agent_console_closed,
    agent_console_opened,
    agent_presence_key,
    assign_waiting,
    pick_agent,
    queue_position,
)
from helpdesk.conversations.lifecycle import InvalidTransition
from helpdesk.conversations.models import Conversation, Message
from helpdesk.conversations.services import (
    Sender,
    customer_message_send,
    message_post,
)
from helpdesk.conversations.tasks import queue_reminder
from helpdesk.core.errors import InvalidInput, NotFound, PermissionDenied, Revoked
from helpdesk.realtime.events import agent_user_group, agents_group, conversation_group
from helpdesk.realtime.presence import presence_join
from helpdesk.tenants.models import Membership
from helpdesk.tenants.services import membership_set_availability
from tests.factories import BotConfigFactory, ConversationFactory, InboxFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bot_inbox(tenant):
    return InboxFactory(tenant=tenant, bot=BotConfigFactory(tenant=tenant))


@pytest.fixture
def with_bot(tenant, bot_inbox):
    return ConversationFactory(tenant=tenant, inbox=bot_inbox, status="bot")


def make_agent(tenant, *, online=True, present=True, capacity=5, role="agent", name="agent"):
    membership = MembershipFactory(
        tenant=tenant,
        role=role,
        max_concurrent_chats=capacity,
        availability="online" if online else "offline",
        user__first_name=name,
    )
    if present:
        presence_join(agent_presence_key(tenant.pk, membership.user_id))
    return membership.user


def events_of(conversation):
    return list(
        Message.objects.filter(conversation=conversation, kind="event")
        .order_by("seq")
        .values_list("metadata__event", flat=True)
    )


def refreshed(conversation):
    return Conversation.objects.get(pk=conversation.pk)


def run(fn, **kwargs):
    """Run a transition with its after-commit announcements."""
    return fn(**kwargs)


# --- bot → queued ----------------------------------------------------------------------------


def test_handoff_queues_with_a_reason_and_tells_everyone(
    tenant, with_bot, listen, django_capture_on_commit_callbacks
):
    agents = listen(agents_group(tenant.pk))
    customer = listen(conversation_group(tenant.pk, with_bot.pk))

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.conversation_handoff(
            tenant=tenant, conversation_id=with_bot.pk, reason="asked for a human"
        )

    conversation = refreshed(with_bot)
    assert (conversation.status, conversation.handoff_reason) == ("queued", "asked for a human")
    assert conversation.queued_at is not None
    assert events_of(conversation) == ["handoff"]
    agent_events = agents.events()
    assert [e["data"]["kind"] for e in agent_events if e["type"] == "notification"] == ["queued"]
    assert any(e["type"] == "conversation.updated" for e in agent_events)
    seen = customer.events()
    assert [e["data"]["kind"] for e in seen if e["type"] == "message.created"] == ["event"]
    assert [e["data"].get("queue_position") for e in seen if "queue_position" in e["data"]] == [1]


def test_handoff_goes_straight_to_an_available_agent(tenant, with_bot):
    alice = make_agent(tenant, name="Alice")

    lifecycle.conversation_handoff(tenant=tenant, conversation_id=with_bot.pk, reason="x")

    conversation = refreshed(with_bot)
    assert (conversation.status, conversation.assignee) == ("assigned", alice)
    assert events_of(conversation) == ["handoff", "assign"]


# --- queued → assigned -------------------------------------------------------------------------


def test_accept_from_the_queue(tenant, with_bot, agent):
    lifecycle.conversation_handoff(tenant=tenant, conversation_id=with_bot.pk, reason="x")

    lifecycle.conversation_accept(tenant=tenant, conversation_id=with_bot.pk, agent=agent)

    conversation = refreshed(with_bot)
    assert (conversation.status, conversation.assignee) == ("assigned", agent)
    assert events_of(conversation) == ["handoff", "accept"]


def test_accept_is_refused_unless_queued(tenant, with_bot, agent):
    with pytest.raises(InvalidTransition) as error:
        lifecycle.conversation_accept(tenant=tenant, conversation_id=with_bot.pk, agent=agent)

    assert "bot has this conversation" in error.value.message
    assert refreshed(with_bot).status == "bot"
    assert events_of(with_bot) == []


# --- bot → assigned ----------------------------------------------------------------------------


def test_takeover_from_the_bot_stops_it_and_announces_the_agent(
    tenant, with_bot, agent, django_capture_on_commit_callbacks
):
    before = time.time()

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.conversation_takeover(tenant=tenant, conversation_id=with_bot.pk, agent=agent)

    conversation = refreshed(with_bot)
    assert (conversation.status, conversation.assignee) == ("assigned", agent)
    [event] = Message.objects.filter(conversation=conversation, kind="event")
    assert event.metadata["by"] == agent.pk
    assert "joined the conversation" in event.text
    assert cache.get(lifecycle.bot_stop_key(tenant.pk, with_bot.pk)) >= before


def test_a_transition_is_announced_once_to_each_group_with_its_new_state(
    tenant, with_bot, agent, listen, django_capture_on_commit_callbacks
):
    agents = listen(agents_group(tenant.pk))
    watchers = listen(conversation_group(tenant.pk, with_bot.pk))

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.conversation_takeover(tenant=tenant, conversation_id=with_bot.pk, agent=agent)

    event = Message.objects.get(conversation=with_bot, kind="event")
    for listener in (agents, watchers):
        [update] = [e for e in listener.events() if e["type"] == "conversation.updated"]
        assert update["seq"] == event.seq
        assert (update["data"]["status"], update["data"]["assignee"]) == ("assigned", agent.pk)
        assert update["data"]["last_message"]["seq"] == event.seq


def test_takeover_works_from_the_queue_too(tenant, with_bot, agent):
    Conversation.objects.filter(pk=with_bot.pk).update(status="queued", queued_at=timezone.now())

    lifecycle.conversation_takeover(tenant=tenant, conversation_id=with_bot.pk, agent=agent)

    assert refreshed(with_bot).status == "assigned"


def test_taking_over_someone_elses_conversation_says_who_has_it(tenant, with_bot, agent):
    bob = make_agent(tenant, name="Bob")
    lifecycle.conversation_takeover(tenant=tenant, conversation_id=with_bot.pk, agent=bob)

    with pytest.raises(InvalidTransition) as error:
        lifecycle.conversation_takeover(tenant=tenant, conversation_id=with_bot.pk, agent=agent)

    assert error.value.message == "Cannot take over now: Bob has this conversation."
    assert refreshed(with_bot).assignee == bob


@pytest.mark.django_db(transaction=True)
def test_two_agents_taking_over_at_the_same_instant_one_wins(tenant, bot_inbox):
    conversation = ConversationFactory(tenant=tenant, inbox=bot_inbox, status="bot")
    agents = [make_agent(tenant, name=f"A{n}") for n in range(6)]
    start = threading.Barrier(len(agents))

    def try_takeover(agent):
        try:
            start.wait()
            lifecycle.conversation_takeover(
                tenant=tenant, conversation_id=conversation.pk, agent=agent
            )
            return "won"
        except InvalidTransition as error:
            return error.message
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(agents)) as pool:
        results = list(pool.map(try_takeover, agents))

    winner = refreshed(conversation).assignee
    assert results.count("won") == 1
    assert all("has this conversation" in r for r in results if r != "won")
    assert results[agents.index(winner)] == "won"
    assert events_of(conversation) == ["takeover"]


# --- assigned → bot ----------------------------------------------------------------------------


def test_hand_back_returns_the_conversation_to_the_bot(tenant, with_bot, agent):
    lifecycle.conversation_takeover(tenant=tenant, conversation_id=with_bot.pk, agent=agent)

    lifecycle.conversation_handback(tenant=tenant, conversation_id=with_bot.pk, agent=agent)

    conversation = refreshed(with_bot)
    assert (conversation.status, conversation.assignee) == ("bot", None)
    assert events_of(conversation) == ["takeover", "handback"]


def test_hand_back_needs_a_bot(tenant, inbox, agent):
    conversation = ConversationFactory(tenant=tenant, inbox=inbox, status="bot")
    lifecycle.conversation_takeover(tenant=tenant, conversation_id=conversation.pk, agent=agent)

    with pytest.raises(InvalidTransition):
        lifecycle.conversation_handback(tenant=tenant, conversation_id=conversation.pk, agent=agent)

    assert refreshed(conversation).status == "assigned"


def test_only_the_assignee_or_an_admin_hands_back_or_transfers(tenant, with_bot, agent):
    other = make_agent(tenant, name="Other")
    admin = make_agent(tenant, name="Admin", role="admin")
    lifecycle.conversation_takeover(tenant=tenant, conversation_id=with_bot.pk, agent=agent)

    with pytest.raises(PermissionDenied):
        lifecycle.conversation_handback(tenant=tenant, conversation_id=with_bot.pk, agent=other)
    with pytest.raises(PermissionDenied):
        lifecycle.conversation_transfer(
            tenant=tenant, conversation_id=with_bot.pk, agent=other, to_user_id=other.pk
        )
    assert refreshed(with_bot).assignee == agent

    lifecycle.conversation_handback(tenant=tenant, conversation_id=with_bot.pk, agent=admin)
    assert refreshed(with_bot).status == "bot"


# --- assigned → assigned -------------------------------------------------------------------------


def test_transfer_moves_the_conversation_with_a_private_note(
    tenant, with_bot, agent, listen, django_capture_on_commit_callbacks
):
    bob = make_agent(tenant, name="Bob")
    lifecycle.conversation_takeover(tenant=tenant, conversation_id=with_bot.pk, agent=agent)
    bobs_inbox = listen(agent_user_group(tenant.pk, bob.pk))

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.conversation_transfer(
            tenant=tenant,
            conversation_id=with_bot.pk,
            agent=agent,
            to_user_id=bob.pk,
            note="VIP, refund approved",
        )

    conversation = refreshed(with_bot)
    assert conversation.assignee == bob
    note = Message.objects.get(conversation=conversation, kind="note")
    assert (note.text, note.sender_user) == ("VIP, refund approved", agent)
    transfer = Message.objects.get(conversation=conversation, metadata__event="transfer")
    assert (transfer.metadata["by"], transfer.metadata["to"]) == (agent.pk, bob.pk)
    [notification] = [e for e in bobs_inbox.events() if e["type"] == "notification"]
    assert notification["data"]["kind"] == "assigned"


@pytest.mark.parametrize("target", ["stranger", "foreign", "missing", "self", None])
def test_transfer_targets_must_be_other_active_agents_of_the_tenant(
    tenant, other_tenant, with_bot, agent, target
):
    lifecycle.conversation_takeover(tenant=tenant, conversation_id=with_bot.pk, agent=agent)
    to = {
        "stranger": lambda: MembershipFactory(tenant=tenant, is_active=False).user_id,
        "foreign": lambda: MembershipFactory(tenant=other_tenant).user_id,
        "missing": lambda: 999_999,
        "self": lambda: agent.pk,
        None: lambda: None,
    }[target]()

    with pytest.raises((NotFound, InvalidTransition, InvalidInput)) as error:
        lifecycle.conversation_transfer(
            tenant=tenant, conversation_id=with_bot.pk, agent=agent, to_user_id=to
        )

    assert error.value.code in {"not_found", "invalid_transition", "invalid"}
    assert refreshed(with_bot).assignee == agent
    assert not Message.objects.filter(conversation=with_bot, kind="note").exists()


# --- any open → resolved, resolved → reopened ----------------------------------------------------


@pytest.mark.parametrize("status", ["bot", "queued", "assigned"])
def test_any_open_conversation_can_be_resolved(tenant, bot_inbox, agent, status):
    conversation = ConversationFactory(
        tenant=tenant,
        inbox=bot_inbox,
        status=status,
        assignee=agent if status == "assigned" else None,
    )

    lifecycle.conversation_resolve(tenant=tenant, conversation_id=conversation.pk, agent=agent)

    conversation = refreshed(conversation)
    assert conversation.status == "resolved"
    assert conversation.resolved_at is not None
    assert events_of(conversation) == ["resolve"]


def test_resolving_twice_is_an_error_not_a_no_op(tenant, with_bot, agent):
    lifecycle.conversation_resolve(tenant=tenant, conversation_id=with_bot.pk, agent=agent)

    with pytest.raises(InvalidTransition):
        lifecycle.conversation_resolve(tenant=tenant, conversation_id=with_bot.pk, agent=agent)

    assert events_of(with_bot) == ["resolve"]


def test_an_agent_reopens_a_resolved_conversation_to_themselves(tenant, with_bot, agent):
    lifecycle.conversation_resolve(tenant=tenant, conversation_id=with_bot.pk, agent=agent)

    lifecycle.conversation_reopen(tenant=tenant, conversation_id=with_bot.pk, agent=agent)

    conversation = refreshed(with_bot)
    assert (conversation.status, conversation.assignee, conversation.resolved_at) == (
        "assigned",
        agent,
        None,
    )


def test_reopen_is_refused_for_an_open_conversation(tenant, with_bot, agent):
    with pytest.raises(InvalidTransition):
        lifecycle.conversation_reopen(tenant=tenant, conversation_id=with_bot.pk, agent=agent)


def customer_writes(conversation, text="I'm back"):
    return customer_message_send(
        tenant=conversation.tenant,
        inbox=conversation.inbox,
        contact=conversation.contact,
        conversation_id=conversation.pk,
        text=text,
        client_id=None,
        client_ip="198.51.100.1",
    )


def test_a_customer_writing_again_goes_back_to_the_bot_by_default(tenant, with_bot, agent):
    lifecycle.conversation_takeover(tenant=tenant, conversation_id=with_bot.pk, agent=agent)
    lifecycle.conversation_resolve(tenant=tenant, conversation_id=with_bot.pk, agent=agent)

    customer_writes(with_bot)

    conversation = refreshed(with_bot)
    assert (conversation.status, conversation.assignee) == ("bot", None)
    assert events_of(conversation)[-1] == "reopen"


def test_a_customer_writing_again_goes_back_to_the_last_agent_when_the_inbox_says_so(
    tenant, with_bot
):
    alice = make_agent(tenant, name="Alice")
    with_bot.inbox.reopen_to = "last_agent"
    with_bot.inbox.save()
    lifecycle.conversation_takeover(tenant=tenant, conversation_id=with_bot.pk, agent=alice)
    lifecycle.conversation_resolve(tenant=tenant, conversation_id=with_bot.pk, agent=alice)

    customer_writes(with_bot)

    conversation = refreshed(with_bot)
    assert (conversation.status, conversation.assignee) == ("assigned", alice)


def test_the_last_agent_offline_means_the_queue_instead(tenant, with_bot):
    alice = make_agent(tenant, name="Alice")
    with_bot.inbox.reopen_to = "last_agent"
    with_bot.inbox.save()
    lifecycle.conversation_takeover(tenant=tenant, conversation_id=with_bot.pk, agent=alice)
    lifecycle.conversation_resolve(tenant=tenant, conversation_id=with_bot.pk, agent=alice)
    membership_set_availability(tenant=tenant, user=alice, availability="offline")

    customer_writes(with_bot)

    conversation = refreshed(with_bot)
    assert (conversation.status, conversation.assignee) == ("queued", None)


def test_a_resend_of_an_old_message_does_not_reopen(tenant, with_bot, agent):
    first = message_post(
        tenant=tenant,
        conversation_id=with_bot.pk,
        sender=Sender.contact(),
        text="hi",
        client_id="c-1",
    ).message
    lifecycle.conversation_resolve(tenant=tenant, conversation_id=with_bot.pk, agent=agent)

    again = customer_message_send(
        tenant=tenant,
        inbox=with_bot.inbox,
        contact=with_bot.contact,
        conversation_id=with_bot.pk,
        text="hi",
        client_id="c-1",
        client_ip="198.51.100.1",
    )

    assert again.message.pk == first.pk
    assert refreshed(with_bot).status == "resolved"


# --- Assignment --------------------------------------------------------------------------


def test_round_robin_goes_to_the_agent_assigned_longest_ago(tenant, bot_inbox):
    alice = make_agent(tenant, name="Alice")
    bob = make_agent(tenant, name="Bob")
    Membership.objects.filter(user=alice).update(last_assigned_at=timezone.now())
    conversations = [
        ConversationFactory(tenant=tenant, inbox=bot_inbox, status="bot") for _ in range(3)
    ]

    for conversation in conversations:
        lifecycle.conversation_handoff(tenant=tenant, conversation_id=conversation.pk, reason="x")

    assert [refreshed(c).assignee for c in conversations] == [bob, alice, bob]


def test_agents_at_capacity_offline_busy_or_absent_get_nothing(tenant, bot_inbox):
    make_agent(tenant, name="Offline", online=False)
    make_agent(tenant, name="Absent", present=False)
    busy = make_agent(tenant, name="Busy")
    membership_set_availability(tenant=tenant, user=busy, availability="busy")
    full = make_agent(tenant, name="Full", capacity=1)
    ConversationFactory(tenant=tenant, inbox=bot_inbox, status="assigned", assignee=full)

    assert pick_agent(tenant=tenant) is None
    conversation = ConversationFactory(tenant=tenant, inbox=bot_inbox, status="bot")
    lifecycle.conversation_handoff(tenant=tenant, conversation_id=conversation.pk, reason="x")
    assert refreshed(conversation).status == "queued"


def test_the_queue_is_served_longest_waiting_first_when_an_agent_comes_online(tenant, bot_inbox):
    now = timezone.now()
    newer = ConversationFactory(tenant=tenant, inbox=bot_inbox, status="queued", queued_at=now)
    older = ConversationFactory(
        tenant=tenant, inbox=bot_inbox, status="queued", queued_at=now - timedelta(minutes=5)
    )
    assert (queue_position(older), queue_position(newer)) == (1, 2)
    alice = make_agent(tenant, name="Alice", online=False, capacity=1)

    membership_set_availability(tenant=tenant, user=alice, availability="online")

    assert refreshed(older).assignee == alice
    assert refreshed(newer).status == "queued"
    assert queue_position(refreshed(newer)) == 1


def test_resolving_frees_capacity_for_the_next_in_the_queue(tenant, bot_inbox):
    alice = make_agent(tenant, name="Alice", capacity=1)
    first = ConversationFactory(tenant=tenant, inbox=bot_inbox, status="bot")
    second = ConversationFactory(tenant=tenant, inbox=bot_inbox, status="bot")
    lifecycle.conversation_handoff(tenant=tenant, conversation_id=first.pk, reason="x")
    lifecycle.conversation_handoff(tenant=tenant, conversation_id=second.pk, reason="x")
    assert refreshed(second).status == "queued"

    lifecycle.conversation_resolve(tenant=tenant, conversation_id=first.pk, agent=alice)

    assert refreshed(second).assignee == alice


def test_an_agents_console_connecting_serves_the_queue_and_is_announced_once(
    tenant, bot_inbox, listen, django_capture_on_commit_callbacks
):
    agent = make_agent(tenant, present=False)
    waiting = ConversationFactory(tenant=tenant, inbox=bot_inbox, status="queued")
    waiting.queued_at = timezone.now()
    waiting.save()
    colleagues = listen(agents_group(tenant.pk))

    with django_capture_on_commit_callbacks(execute=True):
        agent_console_opened(tenant=tenant, user=agent)
        agent_console_opened(tenant=tenant, user=agent)  # a second tab
        agent_console_closed(tenant=tenant, user=agent)

    assert refreshed(waiting).assignee == agent
    presence = [e["data"] for e in colleagues.events() if e["type"] == "presence"]
    assert [(p["id"], p["online"]) for p in presence] == [(agent.pk, True)]


def test_an_agent_going_offline_stops_receiving_conversations(tenant, bot_inbox):
    alice = make_agent(tenant, name="Alice")
    membership_set_availability(tenant=tenant, user=alice, availability="offline")
    conversation = ConversationFactory(tenant=tenant, inbox=bot_inbox, status="bot")

    lifecycle.conversation_handoff(tenant=tenant, conversation_id=conversation.pk, reason="x")

    assert refreshed(conversation).status == "queued"
    assert assign_waiting(tenant=tenant) == 0


# --- Reminders ---------------------------------------------------------------------------------


def test_a_conversation_still_waiting_is_surfaced_again(
    tenant, with_bot, listen, django_capture_on_commit_callbacks
):
    lifecycle.conversation_handoff(tenant=tenant, conversation_id=with_bot.pk, reason="x")
    conversation = refreshed(with_bot)
    agents = listen(agents_group(tenant.pk))

    with django_capture_on_commit_callbacks(execute=True):
        result = queue_reminder(tenant.pk, conversation.pk, conversation.queued_at.isoformat())

    assert result == "reminded"
    [note] = [e for e in agents.events() if e["type"] == "notification"]
    assert note["data"]["kind"] == "waiting"
    assert "#1 in the queue" in note["data"]["text"]


def test_no_reminder_once_someone_accepted(tenant, with_bot, agent):
    lifecycle.conversation_handoff(tenant=tenant, conversation_id=with_bot.pk, reason="x")
    queued_at = refreshed(with_bot).queued_at
    lifecycle.conversation_accept(tenant=tenant, conversation_id=with_bot.pk, agent=agent)

    assert queue_reminder(tenant.pk, with_bot.pk, queued_at.isoformat()) == "no longer waiting"


def test_no_reminder_for_a_conversation_of_another_tenant(tenant, other_tenant, with_bot):
    lifecycle.conversation_handoff(tenant=tenant, conversation_id=with_bot.pk, reason="x")
    queued_at = refreshed(with_bot).queued_at

    assert queue_reminder(other_tenant.pk, with_bot.pk, queued_at.isoformat()) == (
        "no longer waiting"
    )


# --- Bad input: other tenants, revoked agents ---------------------------------------------------


TRANSITIONS = [
    ("takeover", {}),
    ("accept", {}),
    ("handback", {}),
    ("transfer", {"to_user_id": 1}),
    ("resolve", {}),
    ("reopen", {}),
]


@pytest.mark.parametrize(("name", "extra"), TRANSITIONS)
def test_another_tenants_conversation_is_not_found_and_untouched(
    tenant, other_tenant, name, extra, listen, django_capture_on_commit_callbacks
):
    foreign = ConversationFactory(tenant=other_tenant, status="bot")
    agent = make_agent(tenant, name="Alice")
    watching = listen(agents_group(other_tenant.pk))

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(NotFound):
        getattr(lifecycle, f"conversation_{name}")(
            tenant=tenant, conversation_id=foreign.pk, agent=agent, **extra
        )

    assert refreshed(foreign).status == "bot"
    assert not Message.objects.filter(conversation=foreign).exists()
    assert watching.events(wait=0.05) == []


@pytest.mark.parametrize(("name", "extra"), TRANSITIONS)
def test_a_revoked_agent_can_do_nothing(tenant, with_bot, name, extra):
    agent = make_agent(tenant, name="Gone")
    Membership.objects.filter(user=agent).update(is_active=False)

    with pytest.raises(Revoked):
        getattr(lifecycle, f"conversation_{name}")(
            tenant=tenant, conversation_id=with_bot.pk, agent=agent, **extra
        )

    assert refreshed(with_bot).status == "bot"


@pytest.mark.parametrize(("name", "extra"), TRANSITIONS)
def test_an_invalid_state_changes_nothing_and_broadcasts_nothing(
    tenant, bot_inbox, name, extra, listen, django_capture_on_commit_callbacks
):
    agent = make_agent(tenant, name="Alice")
    state = {
        "takeover": "resolved",
        "accept": "bot",
        "handback": "queued",
        "transfer": "bot",
        "resolve": "resolved",
        "reopen": "bot",
    }[name]
    conversation = ConversationFactory(
        tenant=tenant, inbox=bot_inbox, status=state, queued_at=timezone.now()
    )
    agents = listen(agents_group(tenant.pk))
    customer = listen(conversation_group(tenant.pk, conversation.pk))
    if name == "transfer":
        extra = {"to_user_id": make_agent(tenant, name="Bob").pk}

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(InvalidTransition):
        getattr(lifecycle, f"conversation_{name}")(
            tenant=tenant, conversation_id=conversation.pk, agent=agent, **extra
        )

    assert refreshed(conversation).status == state
    assert events_of(conversation) == []
    assert customer.events(wait=0.05) == []
    assert [e for e in agents.events(wait=0.05) if e["type"] != "presence"] == []
