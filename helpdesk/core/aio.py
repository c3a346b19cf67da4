"""Small asyncio helpers the standard library gets subtly wrong for us, or lacks."""

import asyncio
import threading
import types
import weakref
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")

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


# Loops that run for the life of the process (the server's, the job loop): only there may work be
# left to run after the caller returns (helpdesk.realtime.events.publish). A loop that
# async_to_sync() made for one call is closed when the call ends, and would drop it.
_long_lived_loops: "weakref.WeakSet[asyncio.AbstractEventLoop]" = weakref.WeakSet()


def mark_long_lived(loop: asyncio.AbstractEventLoop) -> None:
    _long_lived_loops.add(loop)


def is_long_lived(loop: asyncio.AbstractEventLoop) -> bool:
    return loop in _long_lived_loops


def raise_if_cancelling() -> None:
    """Re-raise a cancellation that a library turned into another error.

    For ``except`` clauses that retry on timeouts: on Python < 3.12 a cancellation can come out
    of redis-py as a TimeoutError (see ``cancel_and_wait``); retried, the task outlives its
    cancellation, and whoever cancelled it once (asyncio.run() closing the loop) waits for ever.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class LoopLocal(Generic[T]):
    """One value per event loop, made on first use on that loop and closed along with it.

    For clients bound to the loop they were made on (a redis.asyncio pool, a psycopg async
    pool, a channel-layer hub). The server has one loop for its life; tests make one per test,
    and what each made must not outlive it.
    """

    def __init__(
        self,
        factory: Callable[[asyncio.AbstractEventLoop], T],
        aclose: Callable[[T], Awaitable[None]] | None = None,
    ):
        self._factory = factory
        self._aclose = aclose
        self._values: dict[asyncio.AbstractEventLoop, T] = {}
        self._lock = threading.Lock()

    def get(self) -> T:
        loop = asyncio.get_running_loop()
        value = self._values.get(loop)
        if value is not None:
            return value
        with self._lock:
            value = self._values.get(loop)
            if value is None:
                value = self._values[loop] = self._factory(loop)
                self._close_with(loop)
        return value

    def values(self) -> list[T]:
        with self._lock:
            return list(self._values.values())

    def _close_with(self, loop: asyncio.AbstractEventLoop) -> None:
        original_close = loop.close
        owner = self

        def close(self_loop, *args, **kwargs):
            with owner._lock:
                value = owner._values.pop(loop, None)
            if value is not None and owner._aclose is not None and not loop.is_closed():
                loop.run_until_complete(owner._aclose(value))
            self_loop.close = original_close
            return original_close(*args, **kwargs)

        loop.close = types.MethodType(close, loop)
