"""The bot's reply to a customer message, from trigger to stored answer.

Runs on the job loop (helpdesk/core/loop.py) in whatever process runs jobs. Every way it can end is
visible to the customer: an answer, a handoff to the human queue with a notice, or the bot's
fallback message and a handoff — never silence, and never a "typing" left on.

Exactly one reply per trigger: concurrent duplicates of the job are kept out by a lock in the
cache, and a redelivered job finds the trigger already answered (a bot message whose client_id
names the trigger, or a conversation no longer with the bot) and does nothing.
"""

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from helpdesk.ai.breaker import CircuitBreaker
from helpdesk.ai.context import (
    Turn,
    customer_details,
    customer_question,
    recent_turns,
    reply_request,
)
from helpdesk.ai.fallback import fallback_post, no_knowledge_post
from helpdesk.ai.grounding import Grounding, aground, citations
from helpdesk.ai.models import BotConfig, TokenUsage
from helpdesk.ai.providers.base import (
    HandoffRequested,
    ProviderError,
    TextDelta,
    Usage,
)
from helpdesk.ai.providers.registry import provider_for
from helpdesk.ai.relay import StreamRelay, bot_typing
from helpdesk.ai.reply_leases import reply_lease_renew, reply_lease_renewal_interval
from helpdesk.ai.stop_orders import stop_orders
from helpdesk.ai.tokens import counted_usage
from helpdesk.conversations.handoff_reasons import KEYWORD, NO_BOT, NO_KNOWLEDGE, handoff_reason
from helpdesk.conversations.lifecycle import (
    InvalidTransition,
    bot_stop_key,
    conversation_handoff,
)
from helpdesk.conversations.models import Conversation, Message
from helpdesk.conversations.services import Sender, message_post, message_stream_finish
from helpdesk.core import logging as log_context
from helpdesk.core import prometheus
from helpdesk.core.aio import cancel_and_wait
from helpdesk.core.asyncdb import db_call, off_loop
from helpdesk.plugins.runner import astream_filters, collect_ai_context, run_after_bot_reply
from helpdesk.realtime.events import conversation_group, send_now
from helpdesk.realtime.layers import LayerUnavailable

logger = logging.getLogger(__name__)

# The trigger's lock expires this long after its holder stopped renewing it: a worker that
# died before its reply's first delta (nothing streaming for reply_leases.py to find) frees the
# trigger within this, and a job enqueued again (helpdesk/ai/unanswered.py) takes it over. The
# holder renews it every third of this, from its claim to its end, whatever the model does.
LOCK_SECONDS = 30
# A job that finds the lock taken looks again this often, this many times (the holder may be
# dead), before leaving the trigger to the holder: long enough for a dead holder's lock to lapse.
CLAIM_RETRY_SECONDS = LOCK_SECONDS / 2
CLAIM_ATTEMPTS = 4


@dataclass
class ReplyOutcome:
    status: str  # answered | handoff | fallback | interrupted | skipped
    detail: str = ""
    publishes: int = 0


BUSY = ReplyOutcome("skipped", "another worker is answering this message")


def reply_client_id(trigger_id: int) -> str:
    return f"bot:{trigger_id}"


async def bot_reply(trigger: Message) -> ReplyOutcome:
    """Answer the burst of customer messages that ``trigger`` ends (its tenant loaded)."""
    log_context.bind(tenant=trigger.tenant_id, conversation=trigger.conversation_id)
    try:
        outcome = await _bot_reply(trigger)
    except Exception:
        # Our own failure (the database, Redis) rather than the provider's: the customer must
        # still not be left with silence or a reply that streams forever.
        logger.exception("Bot reply to message %s failed", trigger.pk)
        await _rescue(trigger)
        outcome = ReplyOutcome("fallback", "internal error")
    prometheus.BOT_REPLIES.labels(outcome.status).inc()
    return outcome


async def _rescue(trigger: Message) -> None:
    def rescue() -> None:
        client_id = reply_client_id(trigger.pk)
        replies = Message.objects.filter(
            tenant=trigger.tenant, conversation_id=trigger.conversation_id, client_id=client_id
        )
        if replies.filter(state=Message.State.COMPLETE).exists():
            # The answer was stored before the failure (Redis went away while the lock was
            # released, say): the customer has it, and needs no fallback nor a human.
            return
        for message in replies.filter(state=Message.State.STREAMING):
            message_stream_finish(
                tenant=trigger.tenant,
                message_id=message.pk,
                text=message.text,
                state=Message.State.INTERRUPTED,
            )
        fallback_post(
            tenant=trigger.tenant,
            conversation_id=trigger.conversation_id,
            client_id=f"{client_id}:fallback",
            reason="internal error",
        )

    try:
        await db_call(rescue)()
    except Exception:
        logger.exception("Could not even fall back in conversation %s", trigger.conversation_id)


async def _bot_reply(trigger: Message) -> ReplyOutcome:
    loaded = await db_call(_load)(trigger)
    if isinstance(loaded, ReplyOutcome):
        return loaded
    conversation, bot = loaded
    tenant = conversation.tenant

    if bot is None:
        return await _handoff(conversation, NO_BOT)

    wait = bot.batch_window_ms / 1000 - (timezone.now() - trigger.created_at).total_seconds()
    if wait > 0:
        # Messages typed in quick succession are answered together, by the newest one's job.
        await asyncio.sleep(wait)
    lock_key = f"t{tenant.pk}:c{conversation.pk}:reply:{trigger.pk}"
    lock_token = uuid.uuid4().hex
    # An agent taking over from here on leaves a stop order dated after this; one who took
    # over before it is seen by the second load in _claim.
    since = time.time()
    for attempt in range(CLAIM_ATTEMPTS):
        if attempt:
            await asyncio.sleep(CLAIM_RETRY_SECONDS)
        claimed = await db_call(_claim)(trigger, conversation, bot, lock_key, lock_token)
        if claimed is not BUSY:
            break
    if isinstance(claimed, ReplyOutcome):
        return claimed
    keeping = asyncio.ensure_future(_keep_lock(lock_key))
    try:
        conversation, turns = claimed
        keyword = _handoff_keyword(bot, turns)
        if keyword is not None:
            return await _handoff(conversation, handoff_reason(KEYWORD, keyword))
        return await _answer(conversation, trigger, bot, turns, since)
    finally:
        await cancel_and_wait(keeping)
        await off_loop(_release)(lock_key, lock_token)


async def _keep_lock(lock_key: str) -> None:
    while True:
        await asyncio.sleep(LOCK_SECONDS / 3)
        try:
            await off_loop(cache.touch)(lock_key, LOCK_SECONDS)
        except Exception as error:  # Redis away: the reply goes on; the lock may lapse
            logger.warning("Reply lock %s not renewed: %s", lock_key, error)


def _claim(trigger, conversation, bot, lock_key: str, lock_token: str):
    """Take the reply to ``trigger``: the conversation as it is now and its recent turns, or
    the outcome that says why not. One trip to a worker thread for all of it: each trip cost
    the reply a few milliseconds before the model was even asked."""
    if _newer_customer_message(conversation, trigger.seq):
        return ReplyOutcome("skipped", "a newer message will be answered with this one")
    if not cache.add(lock_key, lock_token, timeout=LOCK_SECONDS):
        return BUSY
    try:
        still = _load(trigger)
        if isinstance(still, ReplyOutcome):
            _release(lock_key, lock_token)
            return still
        conversation = still[0]
        return conversation, recent_turns(
            conversation, turns=bot.context_turns, up_to_seq=conversation.last_seq
        )
    except BaseException:
        _release(lock_key, lock_token)
        raise


def _release(lock_key: str, lock_token: str) -> None:
    if cache.get(lock_key) == lock_token:
        cache.delete(lock_key)


def _load(trigger: Message):
    conversation = (
        Conversation.objects.select_related("tenant", "inbox__bot", "contact")
        .filter(tenant=trigger.tenant, pk=trigger.conversation_id)
        .first()
    )
    if conversation is None:
        return ReplyOutcome("skipped", "the conversation is gone")
    if conversation.status != Conversation.Status.BOT:
        # Never answer where an agent (or the queue) owns the conversation.
        return ReplyOutcome("skipped", f"the conversation is {conversation.status}")
    answered = (
        Message.objects.filter(conversation=conversation, client_id=reply_client_id(trigger.pk))
        .exclude(state=Message.State.STREAMING)
        .exists()
    )
    if answered:
        return ReplyOutcome("skipped", "already answered")
    bot = conversation.inbox.bot
    if bot is not None and not bot.is_active:
        bot = None
    return conversation, bot


def _newer_customer_message(conversation: Conversation, seq: int) -> bool:
    return Message.objects.filter(
        conversation=conversation,
        seq__gt=seq,
        sender_type=Message.SenderType.CONTACT,
        kind=Message.Kind.TEXT,
    ).exists()


def _handoff_keyword(bot: BotConfig, turns: list[Turn]) -> str | None:
    burst = customer_question(turns)[0].casefold()
    for keyword in bot.handoff_keyword_list:
        if keyword.casefold() in burst:
            return keyword
    return None


async def _ground(
    conversation: Conversation, bot: BotConfig, turns: list[Turn]
) -> Grounding | None:
    """The knowledge the reply is grounded in; None when the search failed."""
    question, earlier = customer_question(turns)
    try:
        return await aground(
            tenant=conversation.tenant, bot=bot, question=question, earlier=earlier
        )
    except Exception:
        # The knowledge search is a help, not a condition: the bot answers without it (or, if
        # it may only answer from knowledge, passes the customer to a human).
        logger.exception("Knowledge search failed in conversation %s", conversation.pk)
        return None


async def _answer(
    conversation: Conversation,
    trigger: Message,
    bot: BotConfig,
    turns: list[Turn],
    since: float,
) -> ReplyOutcome:
    tenant = conversation.tenant
    # Independent of each other: side by side rather than one after another.
    provider, extra_context, filters, grounding, customer = await asyncio.gather(
        db_call(provider_for)(bot),
        collect_ai_context(tenant=tenant, conversation=conversation, context=[]),
        astream_filters(tenant=tenant),
        _ground(conversation, bot, turns),
        db_call(customer_details)(conversation),
    )
    if bot.answer_only_from_knowledge and (grounding is None or not grounding.relevant):
        # Before the breaker: this reply makes no call, and must not take a half-open trial.
        return await _no_knowledge(conversation, trigger)
    breaker = CircuitBreaker.for_bot(bot)
    if not await breaker.allow():
        prometheus.LLM_ERRORS.labels("breaker_open").inc()
        return await _fallback(conversation, trigger, "the bot's service is unavailable")
    request = reply_request(
        bot=bot,
        turns=turns,
        extra_context=extra_context,
        grounding=grounding,
        customer=customer,
    )
    messages = request.messages

    async def open_message() -> tuple[int, int]:
        result = await db_call(message_post)(
            tenant=tenant,
            conversation_id=conversation.pk,
            sender=Sender.bot(),
            text="",
            client_id=reply_client_id(trigger.pk),
            state=Message.State.STREAMING,
        )
        return result.message.pk, result.message.seq

    async def renew_lease(message_id: int, text: str) -> None:
        await db_call(reply_lease_renew)(tenant_id=tenant.pk, message_id=message_id, text=text)

    interval = bot.delta_interval_ms / 1000
    relay = StreamRelay(
        tenant_id=tenant.pk,
        conversation_id=conversation.pk,
        interval=interval,
        filters=filters,
        open_message=open_message,
        renew_lease=renew_lease,
        renew_every=reply_lease_renewal_interval(),
    )
    usage: Usage | None = None
    handoff: HandoffRequested | None = None
    stop = asyncio.Event()

    async def consume() -> None:
        nonlocal usage, handoff
        async for event in provider.stream(request):
            if stop.is_set():
                # Normally cancelled by now; this ends it even when a Redis call swallowed the
                # cancellation (see cancel_and_wait).
                return
            if isinstance(event, TextDelta):
                await relay.push(event.text)
            elif isinstance(event, Usage):
                usage = event
            elif isinstance(event, HandoffRequested):
                handoff = event

    # Set within one flush interval of an agent taking over (an order dated after ``since``).
    stop_order = bot_stop_key(tenant.pk, conversation.pk)
    async with stop_orders().watching(stop_order, since=since, interval=interval, stop=stop):
        await _typing(tenant.pk, conversation.pk, True)
        relay.start()
        streaming = asyncio.ensure_future(consume())
        stopped = asyncio.ensure_future(stop.wait())
        try:
            # Each read is bounded by the SDK's timeout; the whole reply, retries included,
            # by this.
            deadline = bot.request_timeout_seconds * (bot.max_retries + 1) * 2
            await asyncio.wait(
                {streaming, stopped}, timeout=deadline, return_when=asyncio.FIRST_COMPLETED
            )
            if stop.is_set():
                # An agent took over (or the bot was stopped): end within one flush interval,
                # keeping what the customer has already seen.
                await cancel_and_wait(streaming)
                shown = await relay.abandon()
                await _finish(
                    tenant, relay, shown, Message.State.INTERRUPTED, _cited(grounding, shown)
                )
                return ReplyOutcome("interrupted", publishes=relay.publishes)
            if not streaming.done():
                await cancel_and_wait(streaming)
                error = ProviderError(f"no complete reply within {deadline:.0f} s")
            else:
                error = streaming.exception()
            if error is not None:
                prometheus.count_llm_error(error)
                if not isinstance(error, ProviderError):
                    logger.error("Bot reply failed", exc_info=error)
                await breaker.record_failure()
                shown = await relay.abandon()
                await _finish(
                    tenant, relay, shown, Message.State.INTERRUPTED, _cited(grounding, shown)
                )
                return await _fallback(conversation, trigger, str(error), relay=relay)
            await breaker.record_success()
            text = await relay.finish()
            stored = await _finish(
                tenant,
                relay,
                text,
                Message.State.COMPLETE,
                _cited(grounding, text),
                (usage or counted_usage(messages, text), provider.model),
            )
            if stored is not None:
                await run_after_bot_reply(tenant=tenant, message=stored)
            if handoff is not None:
                await _handoff(conversation, handoff.reason)
                return ReplyOutcome("handoff", handoff.reason, relay.publishes)
            return ReplyOutcome("answered", publishes=relay.publishes)
        finally:
            # A failure between start and finish must not leave the ticker or the lease
            # renewals running: a renewed lease would keep a dead reply from being swept.
            await relay.stop()
            await cancel_and_wait(stopped)
            await _typing(tenant.pk, conversation.pk, False)


def _cited(grounding: Grounding | None, text: str) -> dict:
    """The metadata that lists the sources ``text`` cites (none: nothing to add)."""
    cited = citations(grounding, text) if grounding is not None else []
    return {"citations": cited} if cited else {}


async def _finish(
    tenant,
    relay: StreamRelay,
    text: str,
    state: Message.State,
    metadata: dict,
    usage: tuple[Usage, str] | None = None,
) -> Message | None:
    """Store the streamed message's final text and ``metadata`` (merged into what it has), with
    (usage, model) when it completed; the stored message, or None if there was none or it had
    been finished already."""
    if relay.message is None:
        return None
    message_id = relay.message[0]

    def store() -> Message | None:
        with transaction.atomic():
            message = message_stream_finish(
                tenant=tenant, message_id=message_id, text=text, state=state, metadata=metadata
            )
            if message is None or usage is None:
                return message
            counts, model = usage
            TokenUsage.objects.update_or_create(
                message=message,
                defaults={
                    "tenant": tenant,
                    "conversation_id": message.conversation_id,
                    "model": model[:100],
                    "prompt_tokens": counts.prompt_tokens,
                    "completion_tokens": counts.completion_tokens,
                    "source": (
                        TokenUsage.Source.COUNTED if counts.counted else TokenUsage.Source.API
                    ),
                },
            )
            return message

    return await db_call(store)()


async def _fallback(
    conversation: Conversation,
    trigger: Message,
    reason: str,
    relay: StreamRelay | None = None,
) -> ReplyOutcome:
    """The bot cannot answer: say so, and put the conversation in the human queue."""
    logger.warning("Bot fallback in conversation %s: %s", conversation.pk, reason)
    client_id = reply_client_id(trigger.pk)
    if relay is not None and relay.message is not None:
        client_id += ":fallback"
    await db_call(fallback_post)(
        tenant=trigger.tenant,
        conversation_id=trigger.conversation_id,
        client_id=client_id,
        reason=reason,
    )
    return ReplyOutcome("fallback", reason)


async def _no_knowledge(conversation: Conversation, trigger: Message) -> ReplyOutcome:
    """Nothing in the knowledge to answer from, for a bot that may answer from nothing else:
    say so and put the conversation in the human queue, without asking the model. Under the
    trigger's client_id, so a redelivered job finds it done."""
    posted = await db_call(no_knowledge_post)(
        tenant=trigger.tenant,
        conversation_id=conversation.pk,
        client_id=reply_client_id(trigger.pk),
    )
    if not posted:
        return ReplyOutcome("skipped", "the conversation left the bot meanwhile")
    return ReplyOutcome("handoff", NO_KNOWLEDGE)


async def _handoff(conversation: Conversation, reason: str) -> ReplyOutcome:
    try:
        await db_call(conversation_handoff)(
            tenant=conversation.tenant, conversation_id=conversation.pk, reason=reason
        )
    except InvalidTransition:
        # An agent got there first; the conversation is in good hands.
        return ReplyOutcome("skipped", "the conversation left the bot meanwhile")
    return ReplyOutcome("handoff", reason)


async def _typing(tenant_id: int, conversation_id: int, typing: bool) -> None:
    # Typing is ephemeral, and the layer has counted and logged the loss. Raising here, after
    # the reply was stored (Redis down), would add the fallback and a handoff to an answer.
    with contextlib.suppress(LayerUnavailable):
        await send_now(
            conversation_group(tenant_id, conversation_id), bot_typing(conversation_id, typing)
        )
