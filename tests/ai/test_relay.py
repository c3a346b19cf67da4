"""The stream relay: coalesced deltas, and an end that always comes."""

import asyncio

import pytest

from helpdesk.ai.relay import StreamRelay
from helpdesk.realtime import events


class CancelLosingLayer:
    """Sends as redis-py does on Python 3.11 with a socket timeout, at worst: a cancellation
    that arrives while a send is in flight is lost, and the send completes."""

    def __init__(self):
        self.deltas: list[str] = []
        self.sending = asyncio.Event()

    async def group_send(self, group, message):
        self.sending.set()
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            await asyncio.sleep(0.05)
        self.deltas.append(message["event"]["data"]["delta"])
        self.sending.clear()


@pytest.fixture
def layer(monkeypatch):
    layer = CancelLosingLayer()
    monkeypatch.setattr(events, "get_channel_layer", lambda: layer)
    return layer


def make_relay(interval):
    async def open_message():
        return 1, 1

    return StreamRelay(
        tenant_id=1, conversation_id=1, interval=interval, filters=[], open_message=open_message
    )


async def test_finish_ends_even_when_the_tickers_send_loses_its_cancellation(layer):
    relay = make_relay(interval=0.2)
    relay.start()
    await relay.push("Hello")  # flushed at once: the first piece never waits
    await relay.push(", world")  # within the interval: left to the ticker
    await asyncio.wait_for(layer.sending.wait(), 2)  # the ticker is sending

    text = await asyncio.wait_for(relay.finish(), 2)

    assert text == "Hello, world"
    assert layer.deltas == ["Hello", ", world"]  # the ticker's send was let finish


async def test_a_delta_the_ticker_fails_to_publish_still_ends_up_in_the_reply(monkeypatch, caplog):
    class FlakyLayer:
        def __init__(self):
            self.deltas: list[str] = []
            self.failed = asyncio.Event()

        async def group_send(self, group, message):
            if self.deltas:
                self.failed.set()
                raise ConnectionError("Redis went away")
            self.deltas.append(message["event"]["data"]["delta"])

    layer = FlakyLayer()
    monkeypatch.setattr(events, "get_channel_layer", lambda: layer)
    relay = make_relay(interval=0.05)
    relay.start()
    await relay.push("Hello")
    await relay.push(", world")
    await asyncio.wait_for(layer.failed.wait(), 2)  # the ticker has tried

    text = await asyncio.wait_for(relay.finish(), 1)

    assert layer.deltas == ["Hello"]
    assert text == "Hello, world"
    assert "Publishing a delta" in caplog.text
