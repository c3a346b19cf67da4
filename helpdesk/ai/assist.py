"""Agent assist: a reply drafted for an agent to edit, and a summary for the agent who receives a
conversation, both written by the tenant's own model and never posted in the conversation.

A request (``suggest_reply``, ``summarize``) checks access and availability, then enqueues a job
(helpdesk/ai/assist_tasks.py). The job (``suggestion_write``, ``summary_write``) runs on the job
loop, asks the model within the bot's timeout and streams what it writes to the agents it is for,
at most one event per interval, never one per token:

    assist.delta, then assist.done or assist.error                to the agent who asked
    assist.summary.delta, then assist.summary or assist.error     to the agent(s) receiving it

Every event carries the request's id. Assist needs a bot on an OpenAI-compatible endpoint with a
model: without one it degrades quietly, the availability says why, and a request is refused with
``assist_unavailable`` before any job exists.
"""

import asyncio
import copy
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext

from helpdesk.ai.breaker import CircuitBreaker
from helpdesk.ai.context import Turn, build_messages, customer_question, recent_turns
from helpdesk.ai.grounding import Grounding, aground, citations
from helpdesk.ai.knowledge.models import KnowledgeChunk
from helpdesk.ai.models import BotConfig, ConversationSummary, TokenUsage
from helpdesk.ai.providers.base import ChatMessage, ProviderError, ReplyRequest, TextDelta, Usage
from helpdesk.ai.tokens import count_chat_tokens, count_tokens, counted_usage
from helpdesk.conversations.announcements import ConversationChange
from helpdesk.conversations.models import Conversation, Message
from helpdesk.conversations.selectors import conversation_get
from helpdesk.conversations.services import agent_membership_check
from helpdesk.core import jobs
from helpdesk.core.aio import cancel_and_wait
from helpdesk.core.asyncdb import db_call, off_loop
from helpdesk.core.errors import InvalidInput, NotFound, ServiceError
from helpdesk.core.ratelimit import rate_limit_hit
from helpdesk.realtime.events import agent_user_group, agents_group, envelope, send_now
from helpdesk.tenants.models import Tenant

logger = logging.getLogger(__name__)

# Per agent: a suggestion costs the tenant a model call, and a stuck key must not run up a bill.
SUGGESTION_RATE = (10, 60)
SUMMARY_RATE = (10, 60)
# A conversation of a message or two is read at a glance: a summary made unasked would only
# repeat it. An agent who asks gets one as soon as there is a message.
AUTOMATIC_SUMMARY_MIN_MESSAGES = 3
# The rounds a suggestion sees at least, whatever few the bot is set to see: the agent is
# answering the whole conversation, not only its last question.
SUGGESTION_MIN_ROUNDS = 3
# The rounds a summary covers at most (then the bot's token budget trims the oldest).
SUMMARY_ROUNDS = 50
SUMMARY_MAX_TOKENS = 400
# A summary says what was said: no variety wanted.
SUMMARY_TEMPERATURE = 0.2
# A request is worked on once: a redelivered job finds its id taken.
REQUEST_SECONDS = 3600

SUGGESTION_PROMPT = (
    "You draft replies for a human customer-service agent, who checks and edits your draft "
    "before sending it to the customer. Write only the reply itself, ready to send: no notes "
    "to the agent, no subject line. Answer in the language the customer writes in. Take facts "
    "from the knowledge passages and the conversation; never invent prices, dates, order "
    "details or policies that they do not state. The passages ask for their numbers in "
    "brackets: leave them out of a draft, which goes out in the agent's name, and the agent "
    "sees its sources beside it."
)
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


class AssistUnavailable(ServiceError):
    code = "assist_unavailable"
    http_status = 409
    default_message = "Assist needs a bot with a language model for this conversation's inbox."


class AssistNoMessages(ServiceError):
    code = "assist_no_messages"
    http_status = 409
    default_message = "The conversation has no messages to work from yet."


class AssistFailed(Exception):
    """The model did not write what was asked; ``code`` is what the agents' screens are told."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# --- Availability --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Availability:
    available: bool
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"available": self.available, "reason": self.reason}


def assist_availability(bot: BotConfig | None) -> Availability:
    """Whether ``bot`` (a conversation's inbox's) can write for agents, and why not."""
    if bot is None or not bot.is_active:
        return Availability(False, gettext("This inbox has no active bot."))
    if bot.provider != BotConfig.Provider.OPENAI:
        return Availability(
            False, gettext("This inbox's bot answers from the FAQ, without a language model.")
        )
    if not bot.model.strip():
        return Availability(False, gettext("This inbox's bot has no model set."))
    return Availability(True)


def conversation_assist_availability(conversation: Conversation) -> Availability:
    return assist_availability(conversation.inbox.bot)


# --- Requests ------------------------------------------------------------------------------------


def suggest_reply(*, tenant: Tenant, conversation_id: int, user: AbstractBaseUser) -> str:
    """Have the model draft the agent's next reply in the conversation; the request's id.

    The draft streams to this agent's screens alone and is never posted: the agent edits it and
    sends it as their own, or not at all."""
    from helpdesk.ai.assist_tasks import assist_suggest

    conversation = _assisted_conversation(tenant=tenant, conversation_id=conversation_id, user=user)
    if not _has_messages(conversation, at_least=1):
        raise AssistNoMessages()
    rate_limit_hit("assist.suggest", f"t{tenant.pk}:u{user.pk}", SUGGESTION_RATE)
    request_id = uuid.uuid4().hex
    jobs.enqueue(assist_suggest, tenant.pk, conversation.pk, user.pk, request_id)
    return request_id


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
    conversation = _assisted_conversation(tenant=tenant, conversation_id=conversation_id, user=user)
    requested = trigger == ConversationSummary.Trigger.REQUESTED
    if requested and user is None:
        raise InvalidInput("A summary is requested by an agent.", field="user")
    least = 1 if requested else AUTOMATIC_SUMMARY_MIN_MESSAGES
    if not _has_messages(conversation, at_least=least):
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
        raise InvalidInput("Unknown summary trigger.", field="trigger") from None


def _assisted_conversation(
    *, tenant: Tenant, conversation_id: int, user: AbstractBaseUser | None
) -> Conversation:
    if user is not None:
        agent_membership_check(tenant=tenant, user=user)
    conversation = conversation_get(tenant=tenant, conversation_id=conversation_id)
    availability = conversation_assist_availability(conversation)
    if not availability.available:
        raise AssistUnavailable(availability.reason)
    return conversation


def _text_messages(conversation: Conversation):
    return (
        Message.objects.filter(
            tenant_id=conversation.tenant_id, conversation=conversation, kind=Message.Kind.TEXT
        )
        .exclude(state=Message.State.STREAMING)
        .exclude(text="")
    )


def _has_messages(conversation: Conversation, *, at_least: int) -> bool:
    return _text_messages(conversation)[:at_least].count() >= at_least


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
        newer = _text_messages(conversation).filter(seq__gt=summary.up_to_seq).count()
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


CHUNKS_MAX = 20


def knowledge_chunks_cited(*, tenant: Tenant, chunk_ids: list[int]) -> list[dict[str, Any]]:
    """The tenant's chunks among ``chunk_ids`` (what a bot reply cited), in the order asked.

    Another tenant's chunk, or one deleted since, is simply not there."""
    if not 1 <= len(chunk_ids) <= CHUNKS_MAX:
        raise InvalidInput(f"Ask for 1 to {CHUNKS_MAX} chunks at a time.", field="ids")
    rows = {
        chunk.pk: chunk
        for chunk in KnowledgeChunk.objects.filter(
            tenant=tenant, source__tenant=tenant, pk__in=chunk_ids
        ).select_related("source")
    }
    return [
        {
            "id": chunk.pk,
            "source_id": chunk.source_id,
            "title": chunk.source.title,
            "heading": chunk.heading,
            "text": chunk.text,
            "url": chunk.url or chunk.source.url,
        }
        for chunk_id in dict.fromkeys(chunk_ids)
        if (chunk := rows.get(chunk_id)) is not None
    ]


# --- Jobs ----------------------------------------------------------------------------------------


@dataclass
class _Work:
    """What a job works on, loaded in one trip to a worker thread."""

    conversation: Conversation
    bot: BotConfig
    turns: list[Turn]


async def suggestion_write(
    *, tenant_id: int, conversation_id: int, user_id: int, request_id: str
) -> str:
    """The job of ``suggest_reply``: draft, stream and count the suggestion; a short report."""
    group = agent_user_group(tenant_id, user_id)
    stream = _Stream(
        group=group,
        event_type="assist.delta",
        conversation_id=conversation_id,
        request_id=request_id,
    )
    try:
        if not await _first_run(tenant_id, request_id):
            return "already done"
        work = await db_call(_load)(tenant_id, conversation_id, rounds=None)
        grounding = await _ground(work)
        messages = _suggestion_messages(work, grounding)
        text, usage, model = await _write(
            work,
            messages,
            stream,
            max_tokens=work.bot.max_tokens,
            temperature=work.bot.temperature,
        )
        await db_call(_count)(
            work, TokenUsage.Purpose.SUGGESTION, user_id=user_id, usage=usage, model=model
        )
        await send_now(
            group,
            envelope(
                "assist.done",
                conversation_id=conversation_id,
                data={
                    "request_id": request_id,
                    "text": text,
                    "citations": citations(grounding, text) if grounding else [],
                },
            ),
        )
        return f"suggested {len(text)} characters"
    except Exception as error:
        await _failed(group, conversation_id, request_id, "suggestion", error)
        return f"failed: {error}"
    finally:
        await stream.stop()


async def summary_write(
    *, tenant_id: int, conversation_id: int, trigger: str, user_id: int | None, request_id: str
) -> str:
    """The job of ``summarize``: write, stream, store and count the summary; a short report."""
    group = agent_user_group(tenant_id, user_id) if user_id else agents_group(tenant_id)
    stream = None
    try:
        if not await _first_run(tenant_id, request_id):
            return "already done"
        work = await db_call(_load)(tenant_id, conversation_id, rounds=SUMMARY_ROUNDS)
        if user_id is None and work.conversation.assignee_id is not None:
            # Handed to someone by now (assigned straight from the queue, or transferred): theirs.
            group = agent_user_group(tenant_id, work.conversation.assignee_id)
        if not work.turns:
            raise AssistFailed(AssistNoMessages.code, AssistNoMessages.default_message)
        stream = _Stream(
            group=group,
            event_type="assist.summary.delta",
            conversation_id=conversation_id,
            request_id=request_id,
        )
        messages = _summary_messages(work)
        text, usage, model = await _write(
            work,
            messages,
            stream,
            max_tokens=min(work.bot.max_tokens, SUMMARY_MAX_TOKENS),
            temperature=SUMMARY_TEMPERATURE,
        )
        summary = await db_call(_store_summary)(
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
        await _failed(group, conversation_id, request_id, "summary", error)
        return f"failed: {error}"
    finally:
        if stream is not None:
            await stream.stop()


async def _first_run(tenant_id: int, request_id: str) -> bool:
    return await off_loop(cache.add)(
        f"t{tenant_id}:assist:{request_id}", 1, timeout=REQUEST_SECONDS
    )


def _load(tenant_id: int, conversation_id: int, *, rounds: int | None) -> _Work:
    """The conversation, its bot and its last ``rounds`` rounds (None: as many as the bot sees,
    and at least SUGGESTION_MIN_ROUNDS); AssistFailed when assist cannot work on it now."""
    conversation = (
        Conversation.objects.select_related("tenant", "inbox__bot")
        .filter(tenant_id=tenant_id, tenant__is_active=True, pk=conversation_id)
        .first()
    )
    if conversation is None:
        raise AssistFailed("not_found", gettext("Conversation not found."))
    bot = conversation.inbox.bot
    availability = assist_availability(bot)
    if not availability.available:
        # The bot changed between the request and the job.
        raise AssistFailed(AssistUnavailable.code, availability.reason)
    turns = recent_turns(
        conversation,
        turns=rounds if rounds is not None else max(bot.context_turns, SUGGESTION_MIN_ROUNDS),
        up_to_seq=conversation.last_seq,
    )
    return _Work(conversation, bot, turns)


async def _ground(work: _Work) -> Grounding | None:
    """The knowledge for what the customer is asking, as the bot would read it; None when the
    search failed (the draft is written without it)."""
    question, earlier = customer_question(work.turns)
    try:
        return await aground(
            tenant=work.conversation.tenant, bot=work.bot, question=question, earlier=earlier
        )
    except Exception:
        logger.exception("Knowledge search failed in conversation %s", work.conversation.pk)
        return None


def _suggestion_messages(work: _Work, grounding: Grounding | None) -> list[ChatMessage]:
    system = SUGGESTION_PROMPT
    if work.bot.system_prompt.strip():
        system += (
            "\n\nThe company's instructions to its assistant, for tone and facts:\n"
            + work.bot.system_prompt.strip()
        )
    # The conversation and the knowledge as the bot would see them, under the assist's
    # instructions rather than the bot's: build_messages trims them to the bot's budget alike.
    # An agent may answer beyond the knowledge, whatever the bot is held to.
    drafting = copy.copy(work.bot)
    drafting.system_prompt = system
    drafting.answer_only_from_knowledge = False
    return build_messages(bot=drafting, turns=work.turns, extra_context=[], grounding=grounding)


def _summary_messages(work: _Work) -> list[ChatMessage]:
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


async def _write(
    work: _Work,
    messages: list[ChatMessage],
    stream: "_Stream",
    *,
    max_tokens: int,
    temperature: float,
) -> tuple[str, Usage, str]:
    """Ask the model, streaming what it writes; (text, usage, model), or AssistFailed."""
    # Imported when a job runs: web processes never load the model clients.
    from helpdesk.ai.providers.registry import provider_for

    bot = work.bot
    # The same endpoint answers the customers: its breaker is theirs too, so a model that is
    # down costs agents no wait and its customers no extra failures.
    breaker = CircuitBreaker(
        tenant_id=work.conversation.tenant_id,
        endpoint=f"{bot.provider}:{bot.base_url}",
        threshold=bot.breaker_failure_threshold,
        cooldown=bot.breaker_cooldown_seconds,
    )
    if not await breaker.allow():
        raise AssistFailed("assist_failed", gettext("The bot's model is unavailable right now."))
    provider = await db_call(provider_for)(bot)
    request = ReplyRequest(
        messages=messages,
        max_tokens=max_tokens,
        temperature=temperature,
        stream=bot.streaming,
        offer_handoff_tool=False,
    )
    usage: Usage | None = None

    async def consume() -> None:
        nonlocal usage
        async for event in provider.stream(request):
            if isinstance(event, TextDelta):
                await stream.push(event.text)
            elif isinstance(event, Usage):
                usage = event

    writing = asyncio.ensure_future(consume())
    # What the SDK itself takes at most against an endpoint that never answers: each attempt is
    # bounded by the bot's timeout. A model still trickling tokens then is cut off too.
    deadline = bot.request_timeout_seconds * (bot.max_retries + 1)
    try:
        await asyncio.wait({writing}, timeout=deadline)
    finally:
        await cancel_and_wait(writing)
    error = None if writing.cancelled() else writing.exception()
    if writing.cancelled() or isinstance(error, ProviderError):
        await breaker.record_failure()
        if writing.cancelled() or _timed_out(error):
            raise AssistFailed(
                "assist_timeout", gettext("The model took too long to answer.")
            ) from error
        raise AssistFailed("assist_failed", gettext("The model could not answer.")) from error
    if error is not None:
        raise error
    await breaker.record_success()
    text = (await stream.finish()).strip()
    if not text:
        raise AssistFailed("assist_failed", gettext("The model wrote nothing."))
    return text, usage or counted_usage(messages, text), provider.model


def _timed_out(error: BaseException | None) -> bool:
    import openai

    cause = error.__cause__ if error is not None else None
    return isinstance(cause, openai.APITimeoutError | httpx.TimeoutException)


def _count(
    work: _Work, purpose: TokenUsage.Purpose, *, user_id: int | None, usage: Usage, model: str
) -> TokenUsage:
    return TokenUsage.objects.create(
        tenant_id=work.conversation.tenant_id,
        conversation=work.conversation,
        message=None,
        purpose=purpose,
        user_id=user_id,
        model=model[:100],
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        source=TokenUsage.Source.COUNTED if usage.counted else TokenUsage.Source.API,
    )


def _store_summary(
    work: _Work, *, trigger: str, user_id: int | None, text: str, usage: Usage, model: str
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
        _count(work, TokenUsage.Purpose.SUMMARY, user_id=user_id, usage=usage, model=model)
    return summary


async def _failed(
    group: str, conversation_id: int, request_id: str, purpose: str, error: Exception
) -> None:
    if isinstance(error, AssistFailed):
        code, message = error.code, error.message
        logger.warning("Assist %s for conversation %s failed: %s", purpose, conversation_id, error)
    else:
        code, message = "assist_failed", gettext("Something went wrong on our side.")
        logger.error(
            "Assist %s for conversation %s failed", purpose, conversation_id, exc_info=error
        )
    try:
        await send_now(
            group,
            envelope(
                "assist.error",
                conversation_id=conversation_id,
                data={
                    "request_id": request_id,
                    "purpose": purpose,
                    "code": code,
                    "message": message,
                },
            ),
        )
    except Exception:
        # The screens time the request out themselves.
        logger.warning("Could not tell %s that assist failed", group, exc_info=True)


class _Stream:
    """What the model writes, on its way to agents' screens: at most one event per interval
    carrying everything written meanwhile (the rule of the bot's relay, helpdesk/ai/relay.py),
    the rest sent when it ends. The final event carries the whole text, so a lost delta costs
    nothing but a moment of its display."""

    def __init__(
        self,
        *,
        group: str,
        event_type: str,
        conversation_id: int,
        request_id: str,
        interval: float = 0.05,
    ):
        self.group = group
        self.event_type = event_type
        self.conversation_id = conversation_id
        self.request_id = request_id
        self.interval = interval
        self.buffer = ""
        self.text = ""
        self.publishes = 0
        self._last_flush = 0.0
        self._lock = asyncio.Lock()
        self._timer: asyncio.Task | None = None

    async def push(self, text: str) -> None:
        self.buffer += text
        if self._timer is not None:
            return  # the flush already due takes this text along
        wait = self._last_flush + self.interval - time.monotonic()
        if wait <= 0:
            await self._flush()
        else:
            self._timer = asyncio.ensure_future(self._flush_after(wait))

    async def finish(self) -> str:
        """Send what is left; the whole text."""
        await self.stop()
        await self._flush()
        return self.text

    async def stop(self) -> None:
        # A timer still set is asleep: its flush has not begun, and the text stays buffered.
        if self._timer is not None:
            await cancel_and_wait(self._timer)
            self._timer = None

    async def _flush_after(self, wait: float) -> None:
        await asyncio.sleep(wait)
        self._timer = None
        try:
            await self._flush()
        except Exception:
            logger.warning("Publishing a delta to %s failed", self.group, exc_info=True)

    async def _flush(self) -> None:
        async with self._lock:
            if not self.buffer:
                return
            delta, self.buffer = self.buffer, ""
            self.text += delta
            self._last_flush = time.monotonic()
            self.publishes += 1
            await send_now(
                self.group,
                envelope(
                    self.event_type,
                    conversation_id=self.conversation_id,
                    data={"request_id": self.request_id, "text": delta},
                ),
            )
