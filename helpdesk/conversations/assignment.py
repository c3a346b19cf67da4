"""Who gets a waiting conversation: round-robin among available agents with spare capacity.

An agent is available when their switch says online AND a console of theirs is connected
(presence). Going offline, or closing the console, stops new conversations at once. Queued
conversations are served longest-waiting first; the customers waiting are told their place.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from helpdesk.conversations.models import Conversation
from helpdesk.realtime.events import agents_group, conversation_group, envelope, publish_on_commit
from helpdesk.realtime.presence import is_present, presence_join, presence_leave
from helpdesk.tenants.access import active_members, display_name
from helpdesk.tenants.models import Membership, Tenant

# Customers further back than this are not sent position updates on every change.
POSITION_UPDATES = 50


def agent_presence_key(tenant_id: int, user_id: int) -> str:
    return f"t{tenant_id}.u{user_id}.agent"


def agent_console_opened(*, tenant: Tenant, user) -> None:
    """A console of ``user`` connected. Presence counts connections across tabs and nodes; the
    first is announced to colleagues. A console coming online may be what a waiting customer
    needs, so the queue is served."""
    if presence_join(agent_presence_key(tenant.pk, user.pk)):
        _announce_presence(tenant, user, online=True)
    assign_waiting(tenant=tenant)


def agent_console_closed(*, tenant: Tenant, user) -> None:
    if presence_leave(agent_presence_key(tenant.pk, user.pk)):
        _announce_presence(tenant, user, online=False)


def _announce_presence(tenant: Tenant, user, *, online: bool) -> None:
    publish_on_commit(
        agents_group(tenant.pk),
        envelope(
            "presence",
            conversation_id=None,
            data={"who": "agent", "id": user.pk, "name": display_name(user), "online": online},
        ),
    )


def agent_is_available(tenant_id: int, user) -> bool:
    membership = active_members(tenant_id).filter(user=user).first()
    return (
        membership is not None
        and membership.availability == Membership.Availability.ONLINE
        and is_present(agent_presence_key(tenant_id, user.pk))
    )


def members_with_load(*, tenant: Tenant) -> QuerySet[Membership]:
    """Active members, each with ``load``: the conversations assigned to them now. The same
    count routes conversations here and is shown to agents choosing whom to transfer to."""
    return (
        active_members(tenant.pk)
        .select_related("user")
        .annotate(
            load=Count(
                "user__assigned_conversations",
                filter=Q(
                    user__assigned_conversations__tenant=tenant,
                    user__assigned_conversations__status=Conversation.Status.ASSIGNED,
                ),
            )
        )
    )


def pick_agent(*, tenant: Tenant) -> Membership | None:
    """The next available agent with spare capacity, round-robin by last assignment."""
    candidates = (
        members_with_load(tenant=tenant)
        .filter(availability=Membership.Availability.ONLINE, load__lt=F("max_concurrent_chats"))
        .order_by(F("last_assigned_at").asc(nulls_first=True), "pk")
    )
    for membership in candidates:
        if is_present(agent_presence_key(tenant.pk, membership.user_id)):
            return membership
    return None


def assign_waiting(*, tenant: Tenant) -> int:
    """Assign queued conversations, oldest first, while available agents have room."""
    from helpdesk.conversations.lifecycle import conversation_auto_assign

    assigned = 0
    with transaction.atomic():
        while True:
            conversation = (
                Conversation.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("contact", "inbox", "tenant")
                .filter(tenant=tenant, status=Conversation.Status.QUEUED)
                .order_by("queued_at", "pk")
                .first()
            )
            if conversation is None:
                break
            membership = pick_agent(tenant=tenant)
            if membership is None:
                break
            conversation_auto_assign(conversation=conversation, agent=membership.user)
            assigned += 1
        announce_queue_positions(tenant=tenant)
    return assigned


def queue_position(conversation: Conversation) -> int | None:
    if conversation.status != Conversation.Status.QUEUED or conversation.queued_at is None:
        return None
    ahead = Conversation.objects.filter(
        tenant_id=conversation.tenant_id,
        status=Conversation.Status.QUEUED,
        queued_at__lt=conversation.queued_at,
    ).count()
    return ahead + 1


def announce_queue_positions(*, tenant: Tenant) -> None:
    """Tell each waiting customer (the first POSITION_UPDATES) where they are in the queue."""
    waiting = Conversation.objects.filter(
        tenant=tenant, status=Conversation.Status.QUEUED
    ).order_by("queued_at", "pk")[:POSITION_UPDATES]
    for position, conversation in enumerate(waiting, start=1):
        publish_on_commit(
            conversation_group(tenant.pk, conversation.pk),
            envelope(
                "conversation.updated",
                conversation_id=conversation.pk,
                data={"id": conversation.pk, "status": "queued", "queue_position": position},
            ),
        )


def schedule_queue_reminder(conversation: Conversation) -> None:
    from django.conf import settings

    from helpdesk.conversations.tasks import queue_reminder
    from helpdesk.core import jobs

    jobs.enqueue_later(
        queue_reminder,
        settings.QUEUE_REMINDER_SECONDS,
        conversation.tenant_id,
        conversation.pk,
        conversation.queued_at.isoformat(),
    )


def queue_remind(*, tenant_id: int, conversation_id: int, queued_at: datetime) -> bool:
    """No handoff goes unnoticed: a conversation still waiting since ``queued_at`` is brought
    to the agents' attention again, and the next reminder is scheduled. False when it is no
    longer waiting (taken, resolved, or queued again since)."""
    from helpdesk.conversations.lifecycle import notify_agents

    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("contact", "tenant")
            .filter(tenant_id=tenant_id, pk=conversation_id)
            .first()
        )
        if (
            conversation is None
            or conversation.status != Conversation.Status.QUEUED
            or conversation.queued_at != queued_at
        ):
            return False
        minutes = max(1, int((timezone.now() - conversation.queued_at).total_seconds() // 60))
        notify_agents(
            tenant_id,
            "waiting",
            conversation,
            gettext("%(contact)s has been waiting %(minutes)d min (#%(position)s in the queue).")
            % {
                "contact": conversation.contact,
                "minutes": minutes,
                "position": queue_position(conversation),
            },
        )
        schedule_queue_reminder(conversation)
    return True
