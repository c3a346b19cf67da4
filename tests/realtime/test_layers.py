"""The channel layer: groups, bounded mailboxes that say what they lost, and (with Redis)
subscriptions that survive a broken connection. Runs against the configured layer: the
in-process hubs embedded, Redis pub/sub in service mode."""

import asyncio
import logging
import socket
import threading

import hiredis
import pytest
import redis
from channels.layers import get_channel_layer
from django.conf import settings

from helpdesk.realtime import layers
from helpdesk.realtime.layers import GAP_TYPE, stats
from helpdesk.realtime.redis_layer import RedisHubChannelLayer

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def event(n: int) -> dict:
    return {"type": "helpdesk.event", "event": {"n": n}}


async def receive(layer, channel: str, timeout: float = 5) -> dict:
    return await asyncio.wait_for(layer.receive(channel), timeout)


async def nothing_for(layer, channel: str, wait: float = 0.2) -> bool:
    try:
        await asyncio.wait_for(layer.receive(channel), wait)
    except TimeoutError:
        return True
    return False


async def test_a_group_message_reaches_its_members_and_nobody_else():
    layer = get_channel_layer()
    first, second, outsider = [await layer.new_channel() for _ in range(3)]
    await layer.group_add("t1.c1", first)
    await layer.group_add("t1.c1", second)
    await layer.group_add("t1.c2", outsider)

    await layer.group_send("t1.c1", event(1))

    assert (await receive(layer, first))["event"] == {"n": 1}
    assert (await receive(layer, second))["event"] == {"n": 1}
    assert await nothing_for(layer, outsider)


async def test_a_channel_that_left_its_group_gets_nothing_more():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("t1.c3", channel)
    await layer.group_discard("t1.c3", channel)

    await layer.group_send("t1.c3", event(1))

    assert await nothing_for(layer, channel)


async def test_messages_of_one_sender_arrive_in_order():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("t1.c4", channel)

    for n in range(50):
        layer.publish_nowait("t1.c4", event(n))

    assert [(await receive(layer, channel))["event"]["n"] for _ in range(50)] == list(range(50))


async def test_a_full_mailbox_trades_what_it_holds_for_one_gap_and_says_so(caplog, monkeypatch):
    """A reader that falls behind loses what is queued, is told so once, and keeps getting
    what comes after; a reader that keeps up gets everything; the loss is counted and logged."""
    monkeypatch.setattr(layers, "WARNING_INTERVAL", 0)
    layer = get_channel_layer()
    stalled, reading = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("t1.c5", stalled)
    await layer.group_add("t1.c5", reading)
    total = layer.capacity + 20
    received = []

    async def read():
        while len(received) < total:
            received.append((await layer.receive(reading))["event"]["n"])

    reader = asyncio.ensure_future(read())
    lost_before = stats.snapshot().get("lost_overflow", 0)
    with caplog.at_level(logging.WARNING, logger="helpdesk.realtime.layers"):
        for n in range(total):
            await layer.group_send("t1.c5", event(n))
            await asyncio.sleep(0)  # the reading side gets its turn, as a consumer would
        await asyncio.wait_for(reader, 10)

    assert received == list(range(total))
    assert await receive(layer, stalled) == {"type": GAP_TYPE, "reason": "overflow"}
    after_gap = []
    while not after_gap or after_gap[-1] != total - 1:
        after_gap.append((await receive(layer, stalled))["event"]["n"])
    assert after_gap == list(range(total - len(after_gap), total))
    assert len(after_gap) < layer.capacity
    assert stats.snapshot()["lost_overflow"] - lost_before == total - len(after_gap)
    assert any("lost" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)


async def test_overflow_leaves_exactly_one_gap_before_the_newer_messages():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("t1.c6", channel)
    capacity = layer.capacity

    for n in range(capacity + 3):
        layer.publish_nowait("t1.c6", event(n))
    await asyncio.sleep(0.5)  # all delivered (through Redis in service mode) before any read
    got = []
    while not got or got[-1].get("event", {}).get("n") != capacity + 2:
        got.append(await receive(layer, channel))

    assert got[0] == {"type": GAP_TYPE, "reason": "overflow"}
    assert [m["event"]["n"] for m in got[1:]] == [capacity, capacity + 1, capacity + 2]


async def test_a_message_published_right_after_group_add_from_elsewhere_arrives():
    """group_add returns once the subscription is live: long-poll and resume subscribe first
    and read the database second, and must not miss what is published in between."""
    layer = get_channel_layer()
    for n in range(20):
        channel = await layer.new_channel()
        await layer.group_add(f"t1.fresh{n}", channel)
        # From a thread with no event loop: a worker, a management command.
        thread = threading.Thread(target=layer.publish_nowait, args=(f"t1.fresh{n}", event(n)))
        thread.start()
        thread.join()
        assert (await receive(layer, channel))["event"] == {"n": n}


async def test_a_message_sent_to_a_channel_of_another_loop_arrives():
    layer = get_channel_layer()
    ready, done = threading.Event(), threading.Event()
    names, received = [], []

    def other_loop():
        async def run():
            channel = await layer.new_channel()
            names.append(channel)
            ready.set()
            received.append(await asyncio.wait_for(layer.receive(channel), 5))

        asyncio.run(run())
        done.set()

    thread = threading.Thread(target=other_loop)
    thread.start()
    await asyncio.get_running_loop().run_in_executor(None, ready.wait, 5)
    await layer.send(names[0], {"type": "helpdesk.event", "event": {"to": "you"}})
    await asyncio.get_running_loop().run_in_executor(None, done.wait, 5)
    thread.join()

    assert received == [{"type": "helpdesk.event", "event": {"to": "you"}}]


async def test_an_attached_channel_is_called_back_and_takes_everything_waiting():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    calls = []
    layer.attach(channel, lambda: calls.append(1))
    await layer.group_add("t1.c7", channel)

    for n in range(3):
        await layer.group_send("t1.c7", event(n))
    for _ in range(100):
        if len(calls) == 3:
            break
        await asyncio.sleep(0.02)

    assert calls == [1, 1, 1]
    assert [m["event"]["n"] for m in layer.take_all(channel)] == [0, 1, 2]
    assert layer.take_all(channel) == []
    layer.detach(channel)


async def test_a_reader_that_gives_up_waiting_keeps_its_channel_while_in_groups():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("t1.c8", channel)
    assert await nothing_for(layer, channel)  # the wait was cancelled

    await layer.group_send("t1.c8", event(1))

    assert (await receive(layer, channel))["event"] == {"n": 1}


# --- Redis: what breaks between processes ----------------------------------------------------


def _kill_layer_connections(kind: str) -> int:
    """Close the layer's connections of ``kind`` (sub or pub) from the Redis server's side."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        killed = 0
        for entry in client.client_list():
            if entry.get("name", "").startswith(f"helpdesk-layer-{kind}"):
                killed += client.client_kill_filter(_id=entry["id"])
        return killed
    finally:
        client.close()


@pytest.mark.services
async def test_a_broken_subscription_comes_back_and_its_members_are_told_to_resume():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("t1.c9", channel)
    reconnects = stats.snapshot().get("subscriber_reconnects", 0)

    assert _kill_layer_connections("sub") >= 1

    gap = await receive(layer, channel, timeout=10)
    assert gap == {"type": GAP_TYPE, "reason": "reconnect"}
    # Subscribed again before the gap was given: what is published now arrives.
    await layer.group_send("t1.c9", event(2))
    assert (await receive(layer, channel))["event"] == {"n": 2}
    assert stats.snapshot()["subscriber_reconnects"] > reconnects


@pytest.mark.services
async def test_a_broken_publisher_connection_is_replaced_without_losing_the_message():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("t1.c10", channel)
    await layer.group_send("t1.c10", event(1))
    assert (await receive(layer, channel))["event"] == {"n": 1}

    assert _kill_layer_connections("pub") >= 1
    await layer.group_send("t1.c10", event(2))

    assert (await receive(layer, channel))["event"] == {"n": 2}


@pytest.mark.services
async def test_a_process_subscribes_once_per_group_and_leaves_with_its_last_member():
    layer = get_channel_layer()
    channels = [await layer.new_channel() for _ in range(3)]
    for channel in channels:
        await layer.group_add("t1.c11", channel)
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        name = layer.redis_name("t1.c11")
        assert client.pubsub_numsub(name) == [(name, 1)]
        for channel in channels:
            await layer.group_discard("t1.c11", channel)
        for _ in range(100):
            if client.pubsub_numsub(name) == [(name, 0)]:
                break
            await asyncio.sleep(0.02)
        assert client.pubsub_numsub(name) == [(name, 0)]
    finally:
        client.close()


async def test_a_check_that_gives_up_on_a_silent_redis_leaves_nothing_waiting():
    """Readiness probes ask every few seconds and give up after their timeout: while Redis
    does not answer, the hub must not keep a waiter for each of them."""
    with socket.socket() as silent:  # accepts connections and answers nothing: a hung server
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        layer = RedisHubChannelLayer(url=f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        hub = layer.hub()

        for _ in range(3):
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.2):
                    await layer.check()

        assert not any(hub.waiters.values())


@pytest.mark.services
async def test_an_error_reply_on_the_subscription_starts_it_again():
    """A refused SUBSCRIBE (ACL, out of memory) comes back as an error reply; the subscriber
    must treat it as a broken connection (reconnect, members told to resume), not die."""
    layer = get_channel_layer()
    await layer.new_channel()
    with pytest.raises(ConnectionError, match="OOM"):
        layer.hub()._on_reply(hiredis.ReplyError("OOM command not allowed"))
