"""A summary for the agent who receives a conversation: the request (``summarize``, asked by an
agent or made on a handoff or transfer by ``summary_on_change``), its job (``summary_write``),
which stores the summary and streams it to the agent(s) receiving it, and the read of the newest
one (``conversation_assist_state``)."""

import uuid
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext

from helpdesk.ai.assist.access import (
    AssistNoMessages,
    AssistUnavailable,
    assisted_conversation,
    conversation_assist_availability,
    has_messages,
    text_messages,
)
from helpdesk.ai.assist.job import (
    AssistFailed,
    Work,
    failure_send,
    first_run,
    usage_count,
    work_load,
)
from helpdesk.ai.assist.streaming import Stream, model_write
from helpdesk.ai.models import ConversationSummary, TokenUsage
from helpdesk.ai.providers.base import ChatMessage, Usage
from helpdesk.ai.tokens import count_chat_tokens, count_tokens
from helpdesk.conversations.announcements import ConversationChange
from helpdesk.conversations.models import Message
from helpdesk.conversations.selectors import conversation_get
from helpdesk.core import jobs
from helpdesk.core.asyncdb import db_call
from helpdesk.core.errors import InvalidInput, NotFound
from helpdesk.core.ratelimit import rate_limit_hit
from helpdesk.realtime.events import agent_user_group, agents_group, envelope, send_now
from helpdesk.tenants.models import Tenant

# Per agent: a summary costs the tenant a model call, and a stuck key must not run up a bill.
SUMMARY_RATE = (10, 60)
# A conversation of a message or two is read at a glance: a summary made unasked would only
# repeat it. An agent who asks gets one as soon as there is a message.
AUTOMATIC_SUMMARY_MIN_MESSAGES = 3
# The rounds a summary covers at most (then the bot's token budget trims the oldest).
SUMMARY_ROUNDS = 50
SUMMARY_MAX_TOKENS = 400
# A summary says what was said: no variety wanted.
SUMMARY_TEMPERATURE = 0.2

SUMMARY_PROMPT = (
    "You summarise customer-service conversations for the human agent who takes one over. "
    "Write 3 to 5 short lines, each starting with '- ': what the customer wants, what has "
    "been answered or tried, what is still open, and any detail the agent needs (order "
    "numbers, names, dates, the customer's mood). Write in the language the customer writes "
    "in. Nothing else: no title, no greeting."
)
ROLE_NAMES = {
    Message.SenderType.CONTACT: "Customer",
    Message.SenderType.BOT: "Bot",
    Message.SenderType.AGENT: "Agent",
}


# --- Requests ------------------------------------------------------------------------------------


def summarize(
    *,
    tenant: Tenant,
    conversation_id: int,
    trigger: str,
    user: AbstractBaseUser | None = None,
) -> str:
    """Have the model summarise the conversation for the agent(s) receiving it; the request's id.

    ``trigger``: ``requested`` by ``user`` (who alone gets it), or a ``handoff`` or ``transfer``
    (for the assignee, or every agent while the conversation waits in the queue)."""
    from helpdesk.ai.assist_tasks import assist_summarize

    trigger = _clean_trigger(trigger)
    conversation = assisted_conversation(tenant=tenant, conversation_id=conversation_id, user=user)
    requested = trigger == ConversationSummary.Trigger.REQUESTED
    if requested and user is None:
        raise InvalidInput(gettext("A summary is requested by an agent."), field="user")
    least = 1 if requested else AUTOMATIC_SUMMARY_MIN_MESSAGES
    if not has_messages(conversation, at_least=least):
        raise AssistNoMessages()
    if user is not None:
        rate_limit_hit("assist.summary", f"t{tenant.pk}:u{user.pk}", SUMMARY_RATE)
    request_id = uuid.uuid4().hex
    jobs.enqueue(
        assist_summarize,
        tenant.pk,
        conversation.pk,
        trigger.value,
        user.pk if user is not None else None,
        request_id,
    )
    return request_id


def summary_on_change(change: ConversationChange) -> None:
    """A conversation changed hands (helpdesk/conversations/announcements.py): summarise it for
    whoever receives it, where assist is available and there is enough to summarise."""
    tenant = Tenant.objects.filter(pk=change.tenant_id, is_active=True).first()
    if tenant is None:
        return
    try:
        summarize(tenant=tenant, conversation_id=change.conversation_id, trigger=change.change)
    except (AssistUnavailable, AssistNoMessages, NotFound):
        return


def _clean_trigger(trigger: str) -> ConversationSummary.Trigger:
    try:
        return ConversationSummary.Trigger(trigger)
    except ValueError:
        raise InvalidInput(gettext("Unknown summary trigger."), field="trigger") from None


# --- Reads ---------------------------------------------------------------------------------------


def conversation_assist_state(*, tenant: Tenant, conversation_id: int) -> dict[str, Any]:
    """What an agent's console shows of assist for a conversation: whether it is available
    (and why not), and the newest summary (None when there is none), with how many messages
    came after what it covers. NotFound for another tenant's conversation."""
    conversation = conversation_get(tenant=tenant, conversation_id=conversation_id)
    summary = (
        ConversationSummary.objects.filter(tenant=tenant, conversation=conversation)
        .order_by("-created_at", "-pk")
        .first()
    )
    payload = None
    if summary is not None:
        newer = text_messages(conversation).filter(seq__gt=summary.up_to_seq).count()
        payload = summary_payload(summary, newer_messages=newer)
    return {
        "assist": conversation_assist_availability(conversation).as_dict(),
        "summary": payload,
    }


def summary_payload(summary: ConversationSummary, *, newer_messages: int = 0) -> dict[str, Any]:
    return {
        "id": summary.pk,
        "trigger": summary.trigger,
        "text": summary.text,
        "up_to_seq": summary.up_to_seq,
        "newer_messages": newer_messages,
        "model": summary.model,
        "created_at": summary.created_at.isoformat(),
    }


# --- Job -----------------------------------------------------------------------------------------


async def summary_write(
    *, tenant_id: int, conversation_id: int, trigger: str, user_id: int | None, request_id: str
) -> str:
    """The job of ``summarize``: write, stream, store and count the summary; a short report."""
    group = agent_user_group(tenant_id, user_id) if user_id else agents_group(tenant_id)
    stream = None
    try:
        if not await first_run(tenant_id, request_id):
            return "already done"
        work = await db_call(work_load)(
            tenant_id, conversation_id, rounds=lambda _bot: SUMMARY_ROUNDS
        )
        if user_id is None and work.conversation.assignee_id is not None:
            # Handed to someone by now (assigned straight from the queue, or transferred): theirs.
            group = agent_user_group(tenant_id, work.conversation.assignee_id)
        if not work.turns:
            raise AssistFailed(AssistNoMessages.code, AssistNoMessages.default_message)
        stream = Stream(
            group=group,
            event_type="assist.summary.delta",
            conversation_id=conversation_id,
            request_id=request_id,
        )
        messages = _summary_messages(work)
        text, usage, model = await model_write(
            work,
            messages,
            stream,
            max_tokens=min(work.bot.max_tokens, SUMMARY_MAX_TOKENS),
            temperature=SUMMARY_TEMPERATURE,
        )
        summary = await db_call(_summary_store)(
            work, trigger=trigger, user_id=user_id, text=text, usage=usage, model=model
        )
        await send_now(
            group,
            envelope(
                "assist.summary",
                conversation_id=conversation_id,
                data={"request_id": request_id, "summary": summary_payload(summary)},
            ),
        )
        return f"summarised up to #{summary.up_to_seq}"
    except Exception as error:
        await failure_send(group, conversation_id, request_id, "summary", error)
        return f"failed: {error}"
    finally:
        if stream is not None:
            await stream.stop()


def _summary_messages(work: Work) -> list[ChatMessage]:
    lines = [f"{ROLE_NAMES.get(t.sender, t.sender)}: {t.text}" for t in work.turns]
    head = "The conversation, oldest message first:\n\n"
    room = work.bot.context_token_budget - count_chat_tokens(
        [("system", SUMMARY_PROMPT), ("user", head)]
    )
    sizes = [count_tokens(line) + 1 for line in lines]
    # The oldest lines go first: what is still open is at the end.
    while len(lines) > 1 and sum(sizes) > room:
        lines.pop(0)
        sizes.pop(0)
    return [
        ChatMessage("system", SUMMARY_PROMPT),
        ChatMessage("user", head + "\n".join(lines)),
    ]


def _summary_store(
    work: Work, *, trigger: str, user_id: int | None, text: str, usage: Usage, model: str
) -> ConversationSummary:
    with transaction.atomic():
        summary = ConversationSummary.objects.create(
            tenant_id=work.conversation.tenant_id,
            conversation=work.conversation,
            trigger=trigger,
            up_to_seq=work.conversation.last_seq,
            text=text,
            model=model[:100],
        )
        usage_count(work, TokenUsage.Purpose.SUMMARY, user_id=user_id, usage=usage, model=model)
    return summary
