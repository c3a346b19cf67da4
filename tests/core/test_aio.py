"""cancel_and_wait: a cancelled task really stops, even when something it awaits loses the
cancellation — as redis-py does on Python < 3.12 once a socket timeout is set."""

import asyncio
import random

import pytest
import redis.asyncio

from helpdesk.core.aio import cancel_and_wait, raise_if_cancelling


async def test_a_task_that_ignores_its_first_cancellation_is_stopped():
    ignored = 0

    async def stubborn():
        nonlocal ignored
        while True:
            try:
                await asyncio.sleep(1)
            except asyncio.CancelledError:
                if ignored:
                    raise
                ignored += 1

    task = asyncio.ensure_future(stubborn())
    await asyncio.sleep(0)

    await asyncio.wait_for(cancel_and_wait(task), 1)

    assert task.cancelled()
    assert ignored == 1


async def test_a_finished_task_is_left_as_it_is():
    task = asyncio.ensure_future(asyncio.sleep(0, result="done"))
    await task

    await cancel_and_wait(task)

    assert task.result() == "done"


@pytest.mark.services
async def test_tasks_cancelled_during_redis_calls_stop(settings):
    """The real thing: with a socket timeout (the cache's, the channel layer's reads), a bare
    cancel() of a task busy with Redis commands is lost most of the time on Python 3.11."""
    connection = redis.asyncio.Redis.from_url(settings.REDIS_URL, socket_timeout=30)

    async def busy():
        while True:
            await connection.zrange("helpdesk-test-nothing", 0, -1)

    try:
        for _ in range(50):
            task = asyncio.ensure_future(busy())
            await asyncio.sleep(random.random() * 0.003)
            # Generous: on a loaded 2-core machine the loop itself can stall for a second.
            await asyncio.wait_for(cancel_and_wait(task), 10)
            assert task.cancelled()
    finally:
        # A task left running would hang the event loop's teardown, and every test after it.
        await asyncio.wait_for(cancel_and_wait(task), 10)
        await connection.aclose()


async def test_a_cancellation_turned_into_a_timeout_is_raised_again():
    """What redis-py may do on Python < 3.12: the task is being cancelled, but the await
    raises TimeoutError. A retry loop that checks raise_if_cancelling() still stops."""
    attempts = 0

    async def retrying():
        nonlocal attempts
        while True:
            attempts += 1
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                # The library swallowed the cancellation and reported a timeout instead.
                try:
                    raise TimeoutError from None
                except TimeoutError:
                    raise_if_cancelling()

    task = asyncio.ensure_future(retrying())
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.wait({task}, timeout=1)
    assert task.cancelled()
    assert attempts == 1
