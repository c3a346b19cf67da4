"""Redis restarted ten times while customers keep writing to a bot.

Everything is real: a daphne process and a Celery worker on a Redis server of the test's own
(restarted without persistence, so every queued job goes with it), PostgreSQL, and an
OpenAI-compatible server as the bot's model. Customers write one message at a time and wait for
the bot; a message refused while Redis is down is sent again, and a socket that drops or is
told to resync is reconnected and resumed, as the widget does. At the end every message the
server acknowledged has its bot reply (or the bot's fallback) in the database and on its
customer's socket, and the worker that started the test is still the one running.
"""

import asyncio
import itertools
import statistics
import time
from dataclasses import dataclass, field

import pytest
from channels.db import database_sync_to_async
from django.db.models import Q

from helpdesk.ai.pipeline import reply_client_id
from helpdesk.conversations.models import Message
from helpdesk.widget.services import visitor_token_issue
from tests.factories import InboxFactory, ModelBotFactory
from tests.realtime.clients import WebSocketCustomer, message_send
from tests.realtime.conftest import ORIGIN

pytestmark = [
    pytest.mark.services,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(120),
]

db = database_sync_to_async

CUSTOMERS = 6
RESTARTS = 10
DOWN_SECONDS = 1.0
UP_SECONDS = 3.0
# Longest a customer waits for one reply, outages included, before the test fails.
REPLY_WAIT = 30.0
VISITS = itertools.count()


@dataclass
class Sent:
    message_id: int
    acked_at: float
    replied_at: float | None = None
    fallback: bool = False
    # Written after the conversation had left the bot (a fallback is followed by a handoff,
    # which the customer may learn of only after writing again): the agents answer it.
    handed_off: bool = False


@dataclass
class Customer:
    """One widget: a visitor who writes, waits for the bot, and writes again."""

    web: str
    inbox: object
    number: int
    sent: list[Sent] = field(default_factory=list)
    socket: WebSocketCustomer | None = None
    conversation: int | None = None
    seq: int = 0
    streaming: set[int] = field(default_factory=set)
    reconnects: int = 0

    async def new_visitor(self) -> None:
        issued = await db(visitor_token_issue)(
            # An address of its own each time: new visitors come often, past the per-address
            # limit on visitor tokens, which is not under test.
            inbox_key=self.inbox.public_key,
            origin=ORIGIN,
            client_ip=f"10.{self.number}.{next(VISITS) // 256 % 256}.{next(VISITS) % 256}",
        )
        self.token, self.conversation, self.seq = issued.token, None, 0
        self.streaming.clear()
        await self.drop()

    async def drop(self) -> None:
        if self.socket is not None:
            await self.socket.ws.close()
            self.socket = None

    async def connected(self) -> WebSocketCustomer:
        """The socket, connected again (and resumed) if it dropped."""
        while self.socket is None:
            try:
                socket = await WebSocketCustomer.connect(self.web, self.inbox, self.token)
                await socket.next("welcome")
                self.socket = socket
                if self.conversation is not None:
                    await self.resume()
            except Exception:
                self.socket = None
                self.reconnects += 1
                await asyncio.sleep(0.3)
        return self.socket

    async def resume(self) -> None:
        await self.socket.send(
            # From before a reply still streaming: its final update may be among what was lost.
            {
                "type": "resume",
                "conversation": self.conversation,
                "seq": min([self.seq, *(seq - 1 for seq in self.streaming)]),
            }
        )

    async def send(self, text: str, client_id: str) -> Sent:
        """Send until the server acknowledges the message (the same client_id each time)."""
        while True:
            socket = await self.connected()
            try:
                await socket.send(message_send(text, client_id, self.conversation))
                deadline = time.monotonic() + 3
                while time.monotonic() < deadline:
                    frame = await socket.receive(timeout=deadline - time.monotonic())
                    if frame["type"] == "ack" and frame["data"]["client_id"] == client_id:
                        self.conversation = frame["conversation"]
                        return Sent(frame["data"]["id"], time.monotonic())
                    if frame["type"] == "error":
                        break  # refused while Redis is down: try again shortly
                    self.note(frame)
            except Exception:
                await self.drop()
            await asyncio.sleep(0.3)

    def note(self, frame: dict) -> None:
        if frame["type"] in ("message.created", "message.updated") and frame.get("seq"):
            if frame["data"]["state"] == "streaming":
                self.streaming.add(frame["seq"])
            else:
                self.streaming.discard(frame["seq"])
        if frame["type"] in ("message.created", "resumed") and frame.get("seq"):
            self.seq = max(self.seq, frame["seq"])

    async def reply(self, sent: Sent) -> None:
        """Wait for the bot's complete reply (or fallback) to ``sent`` on the socket."""
        expected = {
            reply_client_id(sent.message_id),
            f"{reply_client_id(sent.message_id)}:fallback",
        }
        deadline = time.monotonic() + REPLY_WAIT
        while time.monotonic() < deadline:
            socket = await self.connected()
            try:
                frame = await socket.receive(timeout=min(5, deadline - time.monotonic()))
            except TimeoutError:
                continue
            except Exception:
                await self.drop()
                continue
            if frame["type"] == "resync":
                await self.resume()
                continue
            self.note(frame)
            data = frame.get("data") or {}
            if frame["type"] == "conversation.updated" and data.get("status") != "bot":
                sent.handed_off = True
                return
            if (
                frame["type"] in ("message.created", "message.updated")
                and data.get("client_id") in expected
                # A reply cut short by the outage is kept "interrupted"; the fallback follows.
                and data.get("state") == "complete"
            ):
                sent.replied_at = time.monotonic()
                sent.fallback = bool((data.get("metadata") or {}).get("fallback"))
                return
        stored = await db(conversation_log)(self.conversation)
        pytest.fail(f"customer {self.number}: no reply to message {sent.message_id}: {stored}")

    async def chat(self, stop: asyncio.Event) -> None:
        await self.new_visitor()
        for n in itertools.count():
            if stop.is_set():
                return
            sent = await self.send(f"Question {n} from customer {self.number}", f"c-{n}")
            self.sent.append(sent)
            await self.reply(sent)
            if sent.fallback or sent.handed_off:
                # The conversation went to the human queue: the bot answers a new one.
                await self.new_visitor()
        await self.drop()


def conversation_log(conversation_id: int) -> list[tuple]:
    """The conversation as stored, for a failure's message."""
    return list(
        Message.objects.filter(conversation_id=conversation_id)
        .order_by("seq")
        .values_list("seq", "sender_type", "client_id", "state", "created_at")
    )


def replies_in_database(sent: list[Sent]) -> dict[int, list[str]]:
    """Each message's complete bot replies (fallbacks included), by the message's id."""
    triggers = {s.message_id for s in sent}
    client_ids = {reply_client_id(i) for i in triggers} | {
        f"{reply_client_id(i)}:fallback" for i in triggers
    }
    replies: dict[int, list[str]] = {}
    for client_id in Message.objects.filter(
        sender_type=Message.SenderType.BOT,
        client_id__in=client_ids,
        state=Message.State.COMPLETE,
    ).values_list("client_id", flat=True):
        replies.setdefault(int(client_id.split(":")[1]), []).append(client_id)
    return replies


def left_the_bot_before(message_id: int) -> bool:
    """Whether the message's conversation had been handed off before it was written."""
    message = Message.objects.get(pk=message_id)
    return (
        Message.objects.filter(conversation_id=message.conversation_id, seq__lt=message.seq)
        .filter(Q(sender_type=Message.SenderType.SYSTEM) | Q(metadata__fallback=True))
        .exists()
    )


async def test_every_acknowledged_message_is_answered_through_ten_redis_restarts(
    tenant, fake_llm, fault_redis, fault_worker, fault_web
):
    fake_llm.script(reply="Happy to help with that.", tokens_per_second=200)
    bot = await db(ModelBotFactory)(
        tenant=tenant,
        base_url=fake_llm.base_url,
    )
    inbox = await db(InboxFactory)(tenant=tenant, bot=bot)
    customers = [Customer(fault_web, inbox, n) for n in range(CUSTOMERS)]
    stop = asyncio.Event()
    chats = [asyncio.ensure_future(c.chat(stop)) for c in customers]

    back_at = []
    await asyncio.sleep(UP_SECONDS)
    for _ in range(RESTARTS):
        back_at.append(await asyncio.to_thread(fault_redis.restart, DOWN_SECONDS))
        await asyncio.sleep(UP_SECONDS)
        for chat in chats:
            if chat.done():
                chat.result()  # a customer that failed fails the test now
    stop.set()
    await asyncio.gather(*chats)

    sent = [s for c in customers for s in c.sent]
    assert fault_worker.alive(), fault_worker.output()[-3000:]
    assert fault_worker.process.pid == fault_worker.pid
    assert "Unrecoverable error" not in fault_worker.output()
    replies = await db(replies_in_database)(sent)
    for s in sent:
        if s.handed_off and len(replies.get(s.message_id, [])) != 1:
            # The customer saw the conversation leave the bot before any reply to this message:
            # it was written after the handoff (left to the agents). A handoff this message
            # caused (the bot unavailable) comes with its fallback reply, counted as answered;
            # under load the status change can reach the socket before that reply.
            assert await db(left_the_bot_before)(s.message_id), (s, replies.get(s.message_id))
        else:
            # Exactly one: an answer, or the fallback, never both.
            assert len(replies.get(s.message_id, [])) == 1, (s, replies.get(s.message_id))

    # How long a message caught by an outage waited for its reply once Redis was back.
    delays = []
    for s in sent:
        outages = [t for t in back_at if s.acked_at - DOWN_SECONDS <= t <= s.replied_at]
        if outages:
            delays.append(s.replied_at - outages[-1])
    fallbacks = sum(s.fallback for s in sent)
    handed_off = sum(s.handed_off for s in sent)
    print(
        f"\n{len(sent)} messages acknowledged, all answered ({fallbacks} by the fallback, "
        f"{handed_off} written just after a handoff, left to the agents); "
        f"{len(delays)} waited across a restart: after Redis was back, median "
        f"{statistics.median(delays) if delays else 0:.1f} s, max {max(delays, default=0):.1f} s; "
        f"{sum(c.reconnects for c in customers)} reconnect attempts; the sweep enqueued "
        f"{fault_worker.output().count('Enqueued again')} time(s)"
    )
    assert len(sent) > RESTARTS * CUSTOMERS
