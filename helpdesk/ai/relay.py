"""Streams a bot reply to screens: output filters on every piece, deltas coalesced per interval.

The provider yields tokens; screens get at most one ``message.delta`` per interval (50 ms by
default) carrying everything that arrived meanwhile — never one publish per token — and the
rest is always flushed before the final ``message.updated``.

While the reply streams, the relay also renews its message's lease (helpdesk/ai/reply_leases.py)
so that a reply whose worker died can be told from one that is merely slow.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from helpdesk.core import prometheus
from helpdesk.core.aio import cancel_and_wait
from helpdesk.plugins.runner import apply_filters, finish_filters
from helpdesk.realtime.events import conversation_group, envelope, send_now

logger = logging.getLogger(__name__)


class StreamRelay:
    def __init__(
        self,
        *,
        tenant_id: int,
        conversation_id: int,
        interval: float,
        filters: list,
        open_message: Callable[[], Awaitable[tuple[int, int]]],
        renew_lease: Callable[[int, str], Awaitable[object]] | None = None,
        renew_every: float = 10.0,
    ):
        self.group = conversation_group(tenant_id, conversation_id)
        self.conversation_id = conversation_id
        self.interval = interval
        self.filters = filters
        # Creates the streamed message on first need; returns (message id, seq).
        self.open_message = open_message
        # Called with (message id, text shown so far) every ``renew_every`` seconds.
        self.renew_lease = renew_lease
        self.renew_every = renew_every
        self.message: tuple[int, int] | None = None
        self.buffer = ""
        self.shown = ""  # everything flushed so far (filtered): the reply as screens know it
        self.publishes = 0
        self._last_flush = 0.0
        self._lock = asyncio.Lock()
        self._waiting = asyncio.Event()  # text is in the buffer for the ticker to flush
        self._ticker: asyncio.Task | None = None
        self._renewer: asyncio.Task | None = None
        self._started = time.monotonic()  # for the first-token and duration metrics

    def start(self) -> None:
        self._started = time.monotonic()
        self._ticker = asyncio.ensure_future(self._tick())
        if self.renew_lease is not None:
            self._renewer = asyncio.ensure_future(self._keep_lease())

    async def push(self, text: str) -> None:
        text = apply_filters(self.filters, text)
        if not text:
            return
        self.buffer += text
        if time.monotonic() - self._last_flush >= self.interval:
            await self.flush()
        else:
            self._waiting.set()

    async def finish(self) -> str:
        """Flush everything, the filters' held-back tails included; the full text shown."""
        await self.stop()
        self.buffer += finish_filters(self.filters)
        await self.flush()
        prometheus.BOT_REPLY_DURATION.labels("complete").observe(time.monotonic() - self._started)
        return self.shown

    async def abandon(self) -> str:
        """Stop without the filters' held-back tail (it may hide a banned word): what was shown."""
        await self.stop()
        await self.flush()
        prometheus.BOT_REPLY_DURATION.labels("interrupted").observe(
            time.monotonic() - self._started
        )
        return self.shown

    async def flush(self) -> None:
        async with self._lock:
            if not self.buffer:
                return
            if self.message is None:
                prometheus.BOT_FIRST_TOKEN.observe(time.monotonic() - self._started)
                self.message = await self.open_message()
            message_id, seq = self.message
            delta, self.buffer = self.buffer, ""
            self._last_flush = time.monotonic()
            # Shown or not, the text is the reply's: the final message carries all of it even
            # if this delta never reaches a screen.
            self.shown += delta
            self.publishes += 1
            await send_now(
                self.group,
                envelope(
                    "message.delta",
                    conversation_id=self.conversation_id,
                    seq=seq,
                    data={"id": message_id, "delta": delta, "sender": "bot"},
                ),
            )

    async def _tick(self) -> None:
        # Text that arrived just after a flush would otherwise wait for the next token. The
        # ticker wakes only when text is waiting: a hundred replies streaming at once, each
        # waking every 50 ms whatever came, kept the job loop busy with nothing to do.
        while True:
            await self._waiting.wait()
            self._waiting.clear()
            await asyncio.sleep(max(0.0, self._last_flush + self.interval - time.monotonic()))
            if self.buffer and time.monotonic() - self._last_flush >= self.interval:
                try:
                    await self.flush()
                except Exception:
                    # Screens miss this delta; the final message still carries the whole text.
                    logger.warning("Publishing a delta to %s failed", self.group, exc_info=True)

    async def _keep_lease(self) -> None:
        # On a clock of its own rather than on flushes: a model that pauses between tokens for
        # longer than the lease is slow, not dead, and must not be swept.
        while True:
            await asyncio.sleep(self.renew_every)
            if self.message is None:
                continue
            try:
                await self.renew_lease(self.message[0], self.shown)
            except Exception:
                # The next renewal may succeed; the lease outlasts a few missed ones.
                logger.warning("Renewing the lease of %s failed", self.message, exc_info=True)

    async def stop(self) -> None:
        """Stop the ticker and the lease renewals (finish and abandon do; safe to repeat)."""
        if self._renewer is not None:
            await cancel_and_wait(self._renewer)
            self._renewer = None
        if self._ticker is not None:
            async with self._lock:
                # Holding the lock, the ticker is not mid-send: cancelling a send would cost
                # the screens that delta.
                await cancel_and_wait(self._ticker)
            self._ticker = None


def bot_typing(conversation_id: int, typing: bool) -> dict:
    """The ``typing`` event that shows (or hides) the bot typing on screens."""
    return envelope(
        "typing",
        conversation_id=conversation_id,
        data={"sender": "bot", "name": "", "typing": typing},  # each screen names the bot
    )
