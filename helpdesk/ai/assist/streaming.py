"""The model's writing on its way to agents' screens: asked within the bot's timeout and behind
its circuit breaker (``model_write``), sent at most one event per interval (``Stream``)."""

import asyncio
import logging
import time

import httpx
from django.utils.translation import gettext

from helpdesk.ai.assist.job import AssistFailed, Work
from helpdesk.ai.breaker import CircuitBreaker
from helpdesk.ai.providers.base import ChatMessage, ProviderError, ReplyRequest, TextDelta, Usage
from helpdesk.ai.tokens import counted_usage
from helpdesk.core.aio import cancel_and_wait
from helpdesk.core.asyncdb import db_call
from helpdesk.realtime.events import envelope, send_now

logger = logging.getLogger(__name__)


class Stream:
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


async def model_write(
    work: Work,
    messages: list[ChatMessage],
    stream: Stream,
    *,
    max_tokens: int,
    temperature: float,
) -> tuple[str, Usage, str]:
    """Ask the model, streaming what it writes; (text, usage, model), or AssistFailed."""
    # Imported when a job runs: web processes never load the model clients.
    from helpdesk.ai.providers.registry import provider_for

    bot = work.bot
    # The bot's own pace for its streamed replies: agents' screens get no more events than
    # customers' do.
    stream.interval = bot.delta_interval_ms / 1000
    # The same endpoint answers the customers: its breaker is theirs too, so a model that is
    # down costs agents no wait and its customers no extra failures.
    breaker = CircuitBreaker.for_bot(bot)
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
        await breaker.record_failure()  # an allowed trial must end one way or the other
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
