"""Conversation status changes. Each transition is validated, stored and announced here, and
nowhere else: bots, agents, admin actions and jobs all call these functions.

    bot ──handoff──▶ queued ──accept / auto-assign──▶ assigned ──transfer──▶ assigned
     │                  │                                 │  ▲
     └────takeover──────┴────────────takeover─────────────┘  │
    assigned ──handback──▶ bot          any open ──resolve──▶ resolved ──reopen──▶ …

Every change locks the conversation row first, so of two agents acting at the same instant one
wins and the other is told who has it. Each change leaves a system event message in the
transcript (who did what, when) that the customer sees, and a ``conversation.updated``. A handoff
and a transfer are also announced to the apps above the domain (announcements.py): the agent
who receives the conversation gets a summary of it.
"""

import time
from collections.abc import Callable

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from helpdesk.conversations.announcements import (
    Change,
    ConversationChange,
    assigned,
    change_announce,
    status_changed,
)
from helpdesk.conversations.handoff_reasons import WORDINGS, WROTE_AGAIN, reason_text
from helpdesk.conversations.models import Conversation, Message
from helpdesk.conversations.serializers import conversation_payload
from helpdesk.conversations.services import (
    Sender,
    agent_membership_check,
    conversation_updated,
    message_post,
)
from helpdesk.core import prometheus
from helpdesk.core.errors import InvalidInput, NotFound, PermissionDenied, ServiceError
from helpdesk.core.validation import clean_id
from helpdesk.realtime.events import (
    agent_user_group,
    agents_group,
    conversation_group,
    envelope,
    publish_on_commit,
)
from helpdesk.tenants.access import display_name
from helpdesk.tenants.models import BuiltInText, Membership, Tenant
from helpdesk.tenants.texts import built_in_text


class InvalidTransition(ServiceError):
    code = "invalid_transition"
    default_message = _("The conversation cannot make that change in its current state.")


def _locked(tenant: Tenant, conversation_id: int) -> Conversation:
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("contact", "inbox", "assignee", "tenant", "rating")
        .filter(tenant=tenant, pk=clean_id(conversation_id, not_found=_("Conversation not found.")))
        .first()
    )
    if conversation is None:
        raise NotFound(gettext("Conversation not found."))
    return conversation


def _handoff_text(conversation: Conversation) -> str:
    return built_in_text(
        tenant_id=conversation.tenant_id,
        key=BuiltInText.Key.HANDOFF,
        language=conversation.customer_language,
    )


def _name(user: AbstractBaseUser | None) -> str:
    return gettext("Someone") if user is None else display_name(user)


def _joined(agent: AbstractBaseUser) -> str:
    return gettext("%(name)s joined the conversation.") % {"name": _name(agent)}


def _owner_text(conversation: Conversation) -> str:
    if conversation.status == Conversation.Status.ASSIGNED:
        return gettext("%(name)s has this conversation.") % {"name": _name(conversation.assignee)}
    return {
        Conversation.Status.BOT: gettext("The bot has this conversation."),
        Conversation.Status.QUEUED: gettext("This conversation is waiting in the queue."),
        Conversation.Status.RESOLVED: gettext("This conversation is resolved."),
    }[conversation.status]


def _require(conversation: Conversation, *allowed: str, action: str) -> None:
    if conversation.status not in allowed:
        raise InvalidTransition(
            gettext("Cannot %(action)s now: %(owner)s")
            % {"action": action, "owner": _owner_text(conversation)},
            status=conversation.status,
        )


def _event(conversation: Conversation, text: str | Callable[[], str], event: str,
           **metadata) -> None:  # fmt: skip
    """Record a change: its transcript line, seen by the customer too, and the news of the
    conversation's new state. A callable ``text`` is translated into the customer's language
    (the agent who made the change may read another; the customer reads every line).

    Posting the line already tells the agents group (a ``conversation.updated`` with this line
    as the last message, from the row as it now stands); the conversation's own group, the
    customer and the agents who have it open, gets the same update here.
    """
    if callable(text):
        with translation.override(conversation.customer_language):
            text = text()
    message = message_post(
        tenant=conversation.tenant,
        conversation_id=conversation.pk,
        sender=Sender.system(),
        text=text,
        kind=Message.Kind.EVENT,
        metadata={"event": event, **metadata},
    ).message
    conversation.last_seq = message.seq
    conversation.last_message_at = message.created_at
    publish_on_commit(
        conversation_group(conversation.tenant_id, conversation.pk),
        conversation_updated(conversation, message),
    )


def bot_stop_key(tenant_id: int, conversation_id: int) -> str:
    return f"t{tenant_id}:c{conversation_id}:bot-stop"


def stop_bot_on_commit(conversation: Conversation) -> None:
    """Any bot reply streaming in this conversation stops at its next flush.

    The order is a timestamp in the cache (shared by every process): a reply that started
    before it stops. A flag rather than an event, so a reply that was just starting, or whose
    channel dropped the message, cannot miss it.
    """
    key = bot_stop_key(conversation.tenant_id, conversation.pk)
    transaction.on_commit(lambda: cache.set(key, time.time(), timeout=3600), robust=True)


def notify_agents(tenant_id: int, kind: str, conversation: Conversation, text: str,
                  user_id: int | None = None) -> None:  # fmt: skip
    """A ``notification`` to one agent (user_id) or to all of the tenant's agents."""
    group = agent_user_group(tenant_id, user_id) if user_id else agents_group(tenant_id)
    publish_on_commit(
        group,
        envelope(
            "notification",
            conversation_id=conversation.pk,
            data={"kind": kind, "text": text, "conversation": conversation_payload(conversation)},
        ),
    )


# --- Transitions ---------------------------------------------------------------------------------


def conversation_handoff(*, tenant: Tenant, conversation_id: int, reason: str) -> Conversation:
    """bot → queued: a human should answer. Tells the customer and every agent, and assigns an
    available agent straight away when there is one."""
    from helpdesk.conversations.assignment import assign_waiting, schedule_queue_reminder

    with transaction.atomic():
        conversation = _locked(tenant, conversation_id)
        _require(conversation, Conversation.Status.BOT, action=_("hand off to a human"))
        _enqueue(conversation, reason)
        _event(
            conversation, _handoff_text(conversation), "handoff", reason=conversation.handoff_reason
        )
        stop_bot_on_commit(conversation)
        notify_agents(
            tenant.pk,
            "queued",
            conversation,
            (gettext("Waiting for an agent: %(reason)s") % {"reason": reason_text(reason)})[:200],
        )
        schedule_queue_reminder(conversation)
        change_announce(ConversationChange(Change.HANDOFF, tenant.pk, conversation.pk))
        assign_waiting(tenant=tenant)
    conversation.refresh_from_db()
    return conversation


def _enqueue(conversation: Conversation, reason: str) -> None:
    conversation.status = Conversation.Status.QUEUED
    conversation.handoff_reason = reason[:200]
    conversation.queued_at = timezone.now()
    conversation.save(update_fields=["status", "handoff_reason", "queued_at", "updated_at"])
    change_announce(status_changed(conversation))
    transaction.on_commit(lambda: prometheus.count_handoff(reason, WORDINGS), robust=True)


def conversation_takeover(
    *, tenant: Tenant, conversation_id: int, agent: AbstractBaseUser
) -> Conversation:
    """bot or queued → assigned to ``agent``; a bot reply in flight stops."""
    agent_membership_check(tenant=tenant, user=agent)
    with transaction.atomic():
        conversation = _locked(tenant, conversation_id)
        _require(
            conversation,
            Conversation.Status.BOT,
            Conversation.Status.QUEUED,
            action=_("take over"),
        )
        _assign(conversation, agent, event="takeover", text=lambda: _joined(agent))
        stop_bot_on_commit(conversation)
    return conversation


def conversation_accept(
    *, tenant: Tenant, conversation_id: int, agent: AbstractBaseUser
) -> Conversation:
    """queued → assigned to ``agent``."""
    agent_membership_check(tenant=tenant, user=agent)
    with transaction.atomic():
        conversation = _locked(tenant, conversation_id)
        _require(conversation, Conversation.Status.QUEUED, action=_("accept"))
        _assign(conversation, agent, event="accept", text=lambda: _joined(agent))
    return conversation


def conversation_auto_assign(*, conversation: Conversation, agent: AbstractBaseUser) -> None:
    """queued → assigned by the round-robin (the caller holds the row lock)."""
    _require(conversation, Conversation.Status.QUEUED, action=_("assign"))
    _assign(conversation, agent, event="assign", text=lambda: _joined(agent))
    notify_agents(
        conversation.tenant_id,
        "assigned",
        conversation,
        gettext("A conversation with %(contact)s was assigned to you.")
        % {"contact": conversation.contact},
        user_id=agent.pk,
    )


def _assign(conversation: Conversation, agent: AbstractBaseUser, *, event: str,
            text: Callable[[], str]) -> None:  # fmt: skip
    conversation.status = Conversation.Status.ASSIGNED
    conversation.assignee = agent
    conversation.save(update_fields=["status", "assignee", "updated_at"])
    change_announce(status_changed(conversation))
    change_announce(assigned(conversation))
    Membership.objects.filter(tenant_id=conversation.tenant_id, user=agent).update(
        last_assigned_at=timezone.now()
    )
    _event(conversation, text, event, by=agent.pk, by_name=_name(agent))


def conversation_handback(
    *, tenant: Tenant, conversation_id: int, agent: AbstractBaseUser
) -> Conversation:
    """assigned → bot: the agent gives the conversation back to the inbox's bot."""
    membership = agent_membership_check(tenant=tenant, user=agent)
    with transaction.atomic():
        conversation = _locked(tenant, conversation_id)
        _require(conversation, Conversation.Status.ASSIGNED, action=_("hand back"))
        _require_owner_or_admin(conversation, agent, membership)
        if conversation.inbox.bot_id is None:
            raise InvalidTransition(gettext("This inbox has no bot to hand back to."))
        conversation.status = Conversation.Status.BOT
        conversation.assignee = None
        conversation.save(update_fields=["status", "assignee", "updated_at"])
        change_announce(status_changed(conversation, by_user_id=agent.pk))
        _event(
            conversation,
            lambda: gettext("The assistant is back to help you."),
            "handback",
            by=agent.pk,
            by_name=_name(agent),
        )
        _refill(tenant)
    return conversation


def conversation_transfer(
    *,
    tenant: Tenant,
    conversation_id: int,
    agent: AbstractBaseUser,
    to_user_id: int,
    note: str = "",
) -> Conversation:
    """assigned → assigned to another agent of the tenant, with an optional private note."""
    membership = agent_membership_check(tenant=tenant, user=agent)
    target = _transfer_target(tenant, to_user_id)
    with transaction.atomic():
        conversation = _locked(tenant, conversation_id)
        _require(conversation, Conversation.Status.ASSIGNED, action=_("transfer"))
        _require_owner_or_admin(conversation, agent, membership)
        if conversation.assignee_id == target.pk:
            raise InvalidTransition(
                gettext("%(name)s already has this conversation.") % {"name": _name(target)}
            )
        if isinstance(note, str) and note.strip():
            message_post(
                tenant=tenant,
                conversation_id=conversation.pk,
                sender=Sender.agent(agent),
                text=note,
                kind=Message.Kind.NOTE,
                metadata={"transfer_to": target.pk},
            )
        conversation.assignee = target
        conversation.save(update_fields=["assignee", "updated_at"])
        change_announce(assigned(conversation, by_user_id=agent.pk))
        Membership.objects.filter(tenant=tenant, user=target).update(
            last_assigned_at=timezone.now()
        )
        _event(
            conversation,
            lambda: (
                gettext("%(agent)s transferred the conversation to %(target)s.")
                % {"agent": _name(agent), "target": _name(target)}
            ),
            "transfer",
            by=agent.pk,
            by_name=_name(agent),
            to=target.pk,
            to_name=_name(target),
        )
        notify_agents(
            tenant.pk,
            "assigned",
            conversation,
            gettext("%(agent)s transferred a conversation with %(contact)s to you.")
            % {"agent": _name(agent), "contact": conversation.contact},
            user_id=target.pk,
        )
        change_announce(
            ConversationChange(
                Change.TRANSFER,
                tenant.pk,
                conversation.pk,
                by_user_id=agent.pk,
                to_user_id=target.pk,
            )
        )
        _refill(tenant)
    return conversation


def conversation_assign(
    *, tenant: Tenant, conversation_id: int, agent: AbstractBaseUser, to_user_id: int
) -> Conversation:
    """Give the conversation to ``to_user_id`` on ``agent``'s say (an admin, or a program acting
    as one): a bot or queued conversation is taken over by them, an assigned one transferred."""
    target = _transfer_target(tenant, to_user_id)
    current = (
        Conversation.objects.filter(
            tenant=tenant, pk=clean_id(conversation_id, not_found=_("Conversation not found."))
        )
        .values_list("status", flat=True)
        .first()
    )
    if current is None:
        raise NotFound(gettext("Conversation not found."))
    if current == Conversation.Status.ASSIGNED:
        return conversation_transfer(
            tenant=tenant, conversation_id=conversation_id, agent=agent, to_user_id=target.pk
        )
    return conversation_takeover(tenant=tenant, conversation_id=conversation_id, agent=target)


def _transfer_target(tenant: Tenant, to_user_id) -> AbstractBaseUser:
    if to_user_id is None:
        raise InvalidInput(gettext("Choose the agent to transfer to."), field="to")
    user_id = clean_id(to_user_id, not_found=_("Agent not found."))
    membership = (
        Membership.objects.select_related("user")
        .filter(tenant=tenant, user_id=user_id, is_active=True, user__is_active=True)
        .first()
    )
    if membership is None:
        raise NotFound(gettext("Agent not found."))
    return membership.user


def conversation_resolve(
    *, tenant: Tenant, conversation_id: int, agent: AbstractBaseUser | None = None
) -> Conversation:
    """Any open state → resolved. The assignee is kept: a reopen may go back to them."""
    if agent is not None:
        agent_membership_check(tenant=tenant, user=agent)
    with transaction.atomic():
        conversation = _locked(tenant, conversation_id)
        _require(conversation, *Conversation.OPEN_STATUSES, action=_("resolve"))
        was_with_bot = conversation.status == Conversation.Status.BOT
        conversation.status = Conversation.Status.RESOLVED
        conversation.resolved_at = timezone.now()
        conversation.save(update_fields=["status", "resolved_at", "updated_at"])
        change_announce(status_changed(conversation, by_user_id=agent.pk if agent else None))
        who = _name(agent) if agent is not None else gettext("The assistant")
        _event(
            conversation,
            lambda: (
                gettext("%(name)s marked the conversation as resolved.")
                % {"name": _name(agent) if agent is not None else gettext("The assistant")}
            ),
            "resolve",
            by=agent.pk if agent else None,
            by_name=who,
        )
        if was_with_bot:
            stop_bot_on_commit(conversation)
        _refill(tenant)
    return conversation


def conversation_reopen(
    *, tenant: Tenant, conversation_id: int, agent: AbstractBaseUser
) -> Conversation:
    """resolved → assigned to the agent who reopens it."""
    agent_membership_check(tenant=tenant, user=agent)
    with transaction.atomic():
        conversation = _locked(tenant, conversation_id)
        _require(conversation, Conversation.Status.RESOLVED, action=_("reopen"))
        conversation.resolved_at = None
        conversation.save(update_fields=["resolved_at"])
        _assign(
            conversation,
            agent,
            event="reopen",
            text=lambda: gettext("%(name)s reopened the conversation.") % {"name": _name(agent)},
        )
    return conversation


def reopen_for_customer(conversation: Conversation) -> None:
    """A customer wrote in their resolved conversation (the caller holds the row lock).

    Back to the bot, or to the last agent when the inbox says so and they are available;
    otherwise to the queue.
    """
    from helpdesk.conversations.assignment import agent_is_available, assign_waiting

    last_agent = conversation.assignee
    conversation.resolved_at = None
    wants_agent = conversation.inbox.reopen_to == conversation.inbox.ReopenTo.LAST_AGENT
    if (
        wants_agent
        and last_agent is not None
        and agent_is_available(conversation.tenant_id, last_agent)
    ):
        conversation.status = Conversation.Status.ASSIGNED
        conversation.save(update_fields=["status", "resolved_at", "updated_at"])
        change_announce(status_changed(conversation))
        _event(
            conversation,
            lambda: gettext("%(name)s is back in the conversation.") % {"name": _name(last_agent)},
            "reopen",
            to=last_agent.pk,
            to_name=_name(last_agent),
        )
        notify_agents(
            conversation.tenant_id,
            "assigned",
            conversation,
            gettext("%(contact)s wrote again in a resolved conversation.")
            % {"contact": conversation.contact},
            user_id=last_agent.pk,
        )
    elif not wants_agent and conversation.inbox.bot_id is not None:
        conversation.status = Conversation.Status.BOT
        conversation.assignee = None
        conversation.save(update_fields=["status", "assignee", "resolved_at", "updated_at"])
        change_announce(status_changed(conversation))
        _event(conversation, lambda: gettext("The conversation was reopened."), "reopen")
    else:
        conversation.assignee = None
        conversation.save(update_fields=["assignee", "resolved_at"])
        _enqueue(conversation, WROTE_AGAIN)
        _event(
            conversation, _handoff_text(conversation), "reopen", reason=conversation.handoff_reason
        )
        notify_agents(
            conversation.tenant_id, "queued", conversation, gettext("A customer wrote again.")
        )
        assign_waiting(tenant=conversation.tenant)


def _require_owner_or_admin(
    conversation: Conversation, agent: AbstractBaseUser, membership: Membership
) -> None:
    if conversation.assignee_id != agent.pk and membership.role != Membership.Role.ADMIN:
        raise PermissionDenied(
            gettext("Only %(name)s or an admin can do that.")
            % {"name": _name(conversation.assignee)},
        )


def _refill(tenant: Tenant) -> None:
    """Capacity was freed: hand waiting conversations to available agents."""
    from helpdesk.conversations.assignment import assign_waiting

    assign_waiting(tenant=tenant)
