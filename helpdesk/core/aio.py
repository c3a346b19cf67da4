"""Small asyncio helpers the standard library gets subtly wrong for us."""

import asyncio

# How often a task that ignored its cancellation is asked again.
RECANCEL_SECONDS = 0.01


async def cancel_and_wait(task: asyncio.Future) -> None:
    """Cancel ``task`` and return once it has finished, whatever it was awaiting.

    A single ``cancel()`` is not enough: on Python < 3.12, ``asyncio.wait_for()`` drops a
    cancellation that arrives just as the future it waits on completes, and redis-py sends
    every command through ``wait_for()`` once a socket timeout is set (the channel layer sets
    one, see settings.CHANNEL_LAYERS). A task cancelled during a Redis call then carries on:
    a stream relay's ticker, for one, kept flushing forever and its reply never finished.
    Asking again until the task ends is the only reliable stop.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=RECANCEL_SECONDS)
