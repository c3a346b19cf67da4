"""Stop orders: one cache read per interval for every reply of the process."""

import asyncio
import contextlib
import time

from django.core.cache import cache

from helpdesk.ai import stop_orders as stop_orders_module
from helpdesk.ai.stop_orders import stop_orders


async def test_a_newer_order_stops_the_reply_within_the_interval():
    stop = asyncio.Event()
    async with stop_orders().watching(
        "t1:c1:bot-stop", since=time.time(), interval=0.02, stop=stop
    ):
        await asyncio.sleep(0.05)
        assert not stop.is_set()
        await asyncio.to_thread(cache.set, "t1:c1:bot-stop", time.time())
        await asyncio.wait_for(stop.wait(), 0.5)


async def test_an_order_older_than_the_reply_is_ignored():
    await asyncio.to_thread(cache.set, "t1:c2:bot-stop", time.time() - 5)
    stop = asyncio.Event()
    async with stop_orders().watching(
        "t1:c2:bot-stop", since=time.time(), interval=0.02, stop=stop
    ):
        await asyncio.sleep(0.1)
    assert not stop.is_set()


async def test_many_replies_share_one_read_per_interval(monkeypatch):
    reads = []

    class CountingCache:
        def get_many(self, keys):
            reads.append(len(keys))
            return cache.get_many(keys)

    monkeypatch.setattr(stop_orders_module, "cache", CountingCache())
    stops = [asyncio.Event() for _ in range(50)]
    orders = stop_orders()
    async with contextlib.AsyncExitStack() as stack:
        for n, stop in enumerate(stops):
            await stack.enter_async_context(
                orders.watching(f"t1:c{n}:bot-stop", since=time.time(), interval=0.05, stop=stop)
            )
        await asyncio.sleep(0.3)

    assert 3 <= len(reads) <= 10  # one per interval, not one per reply per interval
    assert max(reads) == 50
    assert orders._watches == {}
    # Nothing left to watch: the poller ends by itself (a timeout cancels it and fails).
    await asyncio.wait_for(orders._poller, 2)
    assert orders._poller.done()
