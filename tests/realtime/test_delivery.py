"""Delivery guarantees: what a client sees after any mix of drops, resends, replays and overload
equals what the database holds."""

import asyncio
import logging
import random

import pytest
from channels.db import database_sync_to_async

from helpdesk.conversations.selectors import messages_after
from helpdesk.conversations.services import Sender, message_post
from helpdesk.realtime import layers
from helpdesk.realtime.consumers import CustomerConsumer
from helpdesk.realtime.layers import stats
from tests.realtime.clients import message_send, start_conversation

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


class ClientView:
    """What a widget keeps: messages by seq, updated from frames, deduplicated by seq."""

    def __init__(self):
        self.messages: dict[int, tuple[str, str]] = {}
        self.last_seq = 0

    def apply(self, frame: dict) -> None:
        if frame["type"] in ("message.created", "message.updated"):
            self.messages[frame["seq"]] = (frame["data"]["client_id"], frame["data"]["text"])
            self.last_seq = max(self.last_seq, frame["seq"])
        elif frame["type"] == "ack":
            # The sender's copy (no message.created echo comes to the sending connection).
            message = frame["data"]["message"]
            self.messages[frame["seq"]] = (message["client_id"], message["text"])
            if frame["seq"] == self.last_seq + 1:
                self.last_seq = frame["seq"]
        elif frame["type"] == "resumed":
            self.last_seq = max(self.last_seq, frame["seq"])


async def drain(client, view: ClientView, until_type: str | None = None) -> None:
    # receive_nothing() waits without cancelling the app, which a timed-out receive would do.
    while until_type is not None or not await client.nothing(0.2):
        frame = await client.recv()
        view.apply(frame)
        if frame["type"] == until_type:
            return


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_replaying_events_onto_stale_state_matches_a_fresh_fetch(
    inbox, issue_token, connect_customer, agent, seed
):
    rng = random.Random(seed)
    issued = await db(issue_token)()
    view = ClientView()
    client = await connect_customer(inbox, issued.token)
    await client.recv_type("welcome")
    conversation_id = await start_conversation(client, "first", "c-0")
    view.messages[1] = ("c-0", "first")
    view.last_seq = 1
    sent = 0

    for step in range(12):
        action = rng.choice(["customer", "resend", "agent", "note", "drop"])
        if action == "customer":
            sent += 1
            await client.send(message_send(f"c{sent}", f"c-{sent}", conversation_id))
        elif action == "resend":
            # Same client_id as an earlier message: must not become a new message.
            n = rng.randint(0, sent)
            await client.send(message_send("resent", f"c-{n}", conversation_id))
        elif action in ("agent", "note"):
            await db(message_post)(
                tenant=inbox.tenant,
                conversation_id=conversation_id,
                sender=Sender.agent(agent),
                text=f"{action} {step}",
                kind="text" if action == "agent" else "note",
            )
        else:
            # The socket drops; meanwhile the agent writes; the client comes back and resumes.
            await drain(client, view)
            await client.close()
            await db(message_post)(
                tenant=inbox.tenant,
                conversation_id=conversation_id,
                sender=Sender.agent(agent),
                text=f"while away {step}",
            )
            client = await connect_customer(inbox, issued.token)
            await client.recv_type("welcome")
            await client.send(
                {"type": "resume", "conversation": conversation_id, "seq": view.last_seq}
            )
            await drain(client, view, until_type="resumed")
        await drain(client, view)

    await client.send({"type": "resume", "conversation": conversation_id, "seq": view.last_seq})
    await drain(client, view, until_type="resumed")
    fresh = await db(messages_after)(
        tenant=inbox.tenant, conversation_id=conversation_id, limit=200
    )
    assert view.messages == {m.seq: (m.client_id, m.text) for m in fresh}
    assert len({client_id for client_id, _ in view.messages.values()}) == len(view.messages)


async def test_a_client_too_slow_for_its_events_resumes_and_ends_with_every_message(
    inbox, issue_token, connect_customer, agent, settings, monkeypatch, caplog
):
    """Overloaded on purpose: the customer's socket is stuck while the agent writes 40
    messages, and its mailbox holds 5. Events are dropped, but not silently: the client is told
    to resync, resumes from the last seq it has, and ends with every message; the loss is
    counted and logged at WARNING."""
    settings.CHANNEL_LAYERS = {
        "default": {
            **settings.CHANNEL_LAYERS["default"],
            "CONFIG": {**settings.CHANNEL_LAYERS["default"]["CONFIG"], "capacity": 5},
        }
    }
    monkeypatch.setattr(layers, "WARNING_INTERVAL", 0)
    unhurried = CustomerConsumer.send
    # A gate rather than a delay: on a busy machine the posts themselves may be slower than
    # any delay, and nothing would overflow.
    network = asyncio.Event()
    network.set()

    async def slow_send(self, *args, **kwargs):
        await network.wait()
        await unhurried(self, *args, **kwargs)

    monkeypatch.setattr(CustomerConsumer, "send", slow_send)
    issued = await db(issue_token)()
    client = await connect_customer(inbox, issued.token)
    await client.recv_type("welcome")
    conversation_id = await start_conversation(client, "first", "c-0")
    view = ClientView()
    view.apply({"type": "resumed", "seq": 1})
    lost_before = stats.snapshot().get("lost_overflow", 0)

    with caplog.at_level(logging.WARNING, logger="helpdesk.realtime.layers"):
        network.clear()
        for n in range(40):
            await db(message_post)(
                tenant=inbox.tenant,
                conversation_id=conversation_id,
                sender=Sender.agent(agent),
                text=f"answer {n}",
            )
        network.set()
        resyncs = 0
        while not await client.nothing(1.0):
            frame = await client.recv()
            view.apply(frame)
            if frame["type"] == "resync":
                # What the widget does: resume from the newest seq it holds.
                resyncs += 1
                await client.send(
                    {"type": "resume", "conversation": conversation_id, "seq": view.last_seq}
                )

    fresh = await db(messages_after)(
        tenant=inbox.tenant, conversation_id=conversation_id, limit=200
    )
    assert resyncs >= 1
    assert len(fresh) == 41
    assert {seq for seq in view.messages if seq > 1} == {m.seq for m in fresh if m.seq > 1}
    assert stats.snapshot()["lost_overflow"] > lost_before
    assert any(r.levelname == "WARNING" and "lost" in r.getMessage() for r in caplog.records)
