"""The bot's reply to a customer message, from trigger to stored answer.

Runs on the AI loop (helpdesk/ai/loop.py) in whatever process runs jobs. Every way it can end is
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
from helpdesk.ai.context import Turn, build_messages, recent_turns
from helpdesk.ai.models import DEFAULT_FALLBACK, BotConfig, TokenUsage
from helpdesk.ai.providers.base import (
    HandoffRequested,
    ProviderError,
    ReplyRequest,
    TextDelta,
    Usage,
)
from helpdesk.ai.providers.registry import provider_for
from helpdesk.ai.relay import StreamRelay
from helpdesk.ai.stop_orders import stop_orders
from helpdesk.ai.tokens import count_chat_tokens, count_tokens
from helpdesk.conversations.lifecycle import (
    InvalidTransition,
    bot_stop_key,
    conversation_handoff,
)
from helpdesk.conversations.models import Conversation, Message
from helpdesk.conversations.services import Sender, message_post, message_stream_finish
from helpdesk.core.aio import cancel_and_wait
from helpdesk.core.asyncdb import db_call, off_loop
from helpdesk.plugins.runner import astream_filters, collect_ai_context, run_after_bot_reply
from helpdesk.realtime.events import conversation_group, envelope, send_now

logger = logging.getLogger(__name__)

# Longest a reply may hold the trigger's lock; renewed while the stream runs.
LOCK_SECONDS = 120


@dataclass
class ReplyOutcome:
    status: str  # answered | handoff | fallback | interrupted | skipped
    detail: str = ""
    message_id: int | None = None
    publishes: int = 0
    first_delta_seconds: float | None = None


def reply_client_id(trigger_id: int) -> str:
    return f"bot:{trigger_id}"


async def bot_reply(conversation_id: int, trigger_message_id: int) -> ReplyOutcome:
    """Answer the burst of customer messages that ``trigger_message_id`` ends."""
    try:
        return await _bot_reply(conversation_id, trigger_message_id)
    except Exception:
        # Our own failure (the database, Redis) rather than the provider's: the customer must
        # still not be left with silence or a reply that streams forever.
        logger.exception("Bot reply to message %s failed", trigger_message_id)
        await _rescue(conversation_id, trigger_message_id)
        return ReplyOutcome("fallback", "internal error")


async def _rescue(conversation_id: int, trigger_message_id: int) -> None:
    def rescue() -> None:
        conversation = Conversation.objects.select_related("tenant", "inbox__bot").get(
            pk=conversation_id
        )
        client_id = reply_client_id(trigger_message_id)
        for message in Message.objects.filter(
            conversation=conversation, client_id=client_id, state=Message.State.STREAMING
        ):
            message_stream_finish(
                tenant=conversation.tenant,
                message_id=message.pk,
                text=message.text,
                state=Message.State.INTERRUPTED,
            )
        if conversation.status != Conversation.Status.BOT:
            return
        bot = conversation.inbox.bot
        message_post(
            tenant=conversation.tenant,
            conversation_id=conversation.pk,
            sender=Sender.bot(),
            text=bot.fallback_message if bot else DEFAULT_FALLBACK,
            client_id=f"{client_id}:fallback",
            metadata={"fallback": True},
        )
        with contextlib.suppress(InvalidTransition):
            conversation_handoff(
                tenant=conversation.tenant,
                conversation_id=conversation.pk,
                reason="bot unavailable: internal error",
            )

    try:
        await db_call(rescue)()
    except Exception:
        logger.exception("Could not even fall back in conversation %s", conversation_id)


async def _bot_reply(conversation_id: int, trigger_message_id: int) -> ReplyOutcome:
    loaded = await db_call(_load)(conversation_id, trigger_message_id)
    if isinstance(loaded, ReplyOutcome):
        return loaded
    conversation, trigger, bot = loaded
    tenant = conversation.tenant

    if bot is None:
        return await _handoff(conversation, "no bot answers this inbox")

    wait = bot.batch_window_ms / 1000 - (timezone.now() - trigger.created_at).total_seconds()
    if wait > 0:
        # Messages typed in quick succession are answered together, by the newest one's job.
        await asyncio.sleep(wait)
    if await db_call(_newer_customer_message)(conversation, trigger.seq):
        return ReplyOutcome("skipped", "a newer message will be answered with this one")

    lock_key = f"t{tenant.pk}:c{conversation.pk}:reply:{trigger.pk}"
    lock_token = uuid.uuid4().hex
    if not await off_loop(cache.add)(lock_key, lock_token, timeout=LOCK_SECONDS):
        return ReplyOutcome("skipped", "another worker is answering this message")
    try:
        still = await db_call(_load)(conversation_id, trigger_message_id)
        if isinstance(still, ReplyOutcome):
            return still
        conversation = still[0]
        turns = await db_call(recent_turns)(
            conversation, turns=bot.context_turns, up_to_seq=conversation.last_seq
        )
        keyword = _handoff_keyword(bot, turns)
        if keyword is not None:
            return await _handoff(conversation, f'the customer asked for a human ("{keyword}")')
        return await _answer(conversation, trigger, bot, turns, lock_key)
    finally:
        await off_loop(_release)(lock_key, lock_token)


def _release(lock_key: str, lock_token: str) -> None:
    if cache.get(lock_key) == lock_token:
        cache.delete(lock_key)


def _load(conversation_id: int, trigger_message_id: int):
    conversation = (
        Conversation.objects.select_related("tenant", "inbox__bot", "contact")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None:
        return ReplyOutcome("skipped", "the conversation is gone")
    trigger = Message.objects.filter(
        tenant_id=conversation.tenant_id, conversation=conversation, pk=trigger_message_id
    ).first()
    if trigger is None:
        return ReplyOutcome("skipped", "the message is gone")
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
    return conversation, trigger, bot


def _newer_customer_message(conversation: Conversation, seq: int) -> bool:
    return Message.objects.filter(
        conversation=conversation,
        seq__gt=seq,
        sender_type=Message.SenderType.CONTACT,
        kind=Message.Kind.TEXT,
    ).exists()


def _handoff_keyword(bot: BotConfig, turns: list[Turn]) -> str | None:
    burst = []
    for turn in reversed(turns):
        if turn.sender != Message.SenderType.CONTACT:
            break
        burst.append(turn.text.casefold())
    for keyword in bot.handoff_keyword_list:
        if any(keyword.casefold() in text for text in burst):
            return keyword
    return None


async def _answer(
    conversation: Conversation, trigger: Message, bot: BotConfig, turns: list[Turn], lock_key: str
) -> ReplyOutcome:
    tenant = conversation.tenant
    breaker = CircuitBreaker(
        tenant_id=tenant.pk,
        endpoint=f"{bot.provider}:{bot.base_url}",
        threshold=bot.breaker_failure_threshold,
        cooldown=bot.breaker_cooldown_seconds,
    )
    if not await breaker.allow():
        return await _fallback(conversation, trigger, bot, "the bot's service is unavailable")

    provider = await db_call(provider_for)(bot)
    extra_context = await collect_ai_context(tenant=tenant, conversation=conversation, context=[])
    messages = build_messages(bot=bot, turns=turns, extra_context=extra_context)
    request = ReplyRequest(
        messages=messages,
        max_tokens=bot.max_tokens,
        temperature=bot.temperature,
        stream=bot.streaming,
        offer_handoff_tool=True,
    )

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

    relay = StreamRelay(
        tenant_id=tenant.pk,
        conversation_id=conversation.pk,
        interval=bot.delta_interval_ms / 1000,
        filters=await astream_filters(tenant=tenant),
        open_message=open_message,
    )
    started = time.monotonic()
    usage: Usage | None = None
    handoff: HandoffRequested | None = None
    stop = asyncio.Event()
    watcher = asyncio.ensure_future(
        _watch_for_stop(tenant.pk, conversation.pk, stop, bot.delta_interval_ms / 1000)
    )

    async def consume() -> None:
        nonlocal usage, handoff
        renewed = time.monotonic()
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
            if time.monotonic() - renewed > LOCK_SECONDS / 4:
                renewed = time.monotonic()
                await off_loop(cache.touch)(lock_key, LOCK_SECONDS)

    await _typing(tenant.pk, conversation.pk, True)
    relay.start()
    streaming = asyncio.ensure_future(consume())
    stopped = asyncio.ensure_future(stop.wait())
    try:
        # Each read is bounded by the SDK's timeout; the whole reply, retries included, by this.
        deadline = bot.request_timeout_seconds * (bot.max_retries + 1) * 2
        await asyncio.wait(
            {streaming, stopped}, timeout=deadline, return_when=asyncio.FIRST_COMPLETED
        )
        if stop.is_set():
            # An agent took over (or the bot was stopped): end within one flush interval,
            # keeping what the customer has already seen.
            await cancel_and_wait(streaming)
            shown = await relay.abandon()
            message_id = await _finish(tenant, relay, shown, Message.State.INTERRUPTED)
            return _outcome("interrupted", relay, started, message_id)
        if not streaming.done():
            await cancel_and_wait(streaming)
            error = ProviderError(f"no complete reply within {deadline:.0f} s")
        else:
            error = streaming.exception()
        if error is not None:
            if not isinstance(error, ProviderError):
                logger.error("Bot reply failed", exc_info=error)
            await breaker.record_failure()
            shown = await relay.abandon()
            await _finish(tenant, relay, shown, Message.State.INTERRUPTED)
            return await _fallback(conversation, trigger, bot, str(error), relay=relay)
        await breaker.record_success()
        text = await relay.finish()
        if provider.name == BotConfig.Provider.FAQ:
            # The FAQ bot calls no API; its usage is counted, and says so.
            usage_record = (usage or _counted(messages, text), TokenUsage.Source.COUNTED, "faq")
        elif usage is not None:
            usage_record = (usage, TokenUsage.Source.API, bot.model)
        else:
            usage_record = (_counted(messages, text), TokenUsage.Source.COUNTED, bot.model)
        message_id = await _finish(tenant, relay, text, Message.State.COMPLETE, usage_record)
        if message_id is not None:
            stored = await db_call(Message.objects.get)(pk=message_id)
            await run_after_bot_reply(tenant=tenant, message=stored)
        if handoff is not None:
            await _handoff(conversation, handoff.reason)
            return _outcome("handoff", relay, started, message_id, handoff.reason)
        return _outcome("answered", relay, started, message_id)
    finally:
        await cancel_and_wait(stopped)
        await cancel_and_wait(watcher)
        await _typing(tenant.pk, conversation.pk, False)


def _counted(messages, text: str) -> Usage:
    prompt = count_chat_tokens([(m.role, m.content) for m in messages])
    return Usage(prompt_tokens=prompt, completion_tokens=count_tokens(text))


async def _finish(
    tenant, relay: StreamRelay, text: str, state: Message.State, usage: tuple | None = None
) -> int | None:
    """Store the streamed message's final text; with token usage when it completed."""
    if relay.message is None:
        return None
    message_id = relay.message[0]

    def store() -> None:
        with transaction.atomic():
            message = message_stream_finish(
                tenant=tenant, message_id=message_id, text=text, state=state
            )
            if message is None or usage is None:
                return
            counts, source, model = usage
            TokenUsage.objects.update_or_create(
                message=message,
                defaults={
                    "tenant": tenant,
                    "conversation_id": message.conversation_id,
                    "model": model[:100],
                    "prompt_tokens": counts.prompt_tokens,
                    "completion_tokens": counts.completion_tokens,
                    "source": source,
                },
            )

    await db_call(store)()
    return message_id


async def _fallback(
    conversation: Conversation,
    trigger: Message,
    bot: BotConfig,
    reason: str,
    relay: StreamRelay | None = None,
) -> ReplyOutcome:
    """The bot cannot answer: say so, and put the conversation in the human queue."""
    logger.warning("Bot fallback in conversation %s: %s", conversation.pk, reason)
    client_id = reply_client_id(trigger.pk)
    if relay is not None and relay.message is not None:
        client_id += ":fallback"
    await db_call(message_post)(
        tenant=conversation.tenant,
        conversation_id=conversation.pk,
        sender=Sender.bot(),
        text=bot.fallback_message,
        client_id=client_id,
        metadata={"fallback": True},
    )
    await _handoff(conversation, f"bot unavailable: {reason}"[:200])
    return ReplyOutcome("fallback", reason)


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
    await send_now(
        conversation_group(tenant_id, conversation_id),
        envelope(
            "typing",
            conversation_id=conversation_id,
            data={"sender": "bot", "name": "Bot", "typing": typing},
        ),
    )


async def _watch_for_stop(
    tenant_id: int, conversation_id: int, stop: asyncio.Event, interval: float
) -> None:
    """Set ``stop`` within one flush interval of an order to stop issued after we started."""
    started = time.time()
    # Taken over between the checks before the reply and now?
    if not await db_call(_still_with_bot)(conversation_id):
        stop.set()
        return
    key = bot_stop_key(tenant_id, conversation_id)
    async with stop_orders().watching(key, since=started, interval=interval, stop=stop):
        await stop.wait()


def _still_with_bot(conversation_id: int) -> bool:
    return Conversation.objects.filter(pk=conversation_id, status=Conversation.Status.BOT).exists()


def _outcome(
    status: str, relay: StreamRelay, started: float, message_id: int | None, detail: str = ""
) -> ReplyOutcome:
    first = relay.first_publish_at - started if relay.first_publish_at is not None else None
    return ReplyOutcome(status, detail, message_id, relay.publishes, first)
