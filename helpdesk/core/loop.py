"""One asyncio event loop per process for the jobs' async work, on its own thread.

Jobs arrive on worker threads (Celery's thread pool, or the in-process job pool) and hand their
coroutine to this loop: the followers of a customer message (the plugins, the bot's reply) and
the bot's reply-lease sweeper run here. One long-lived loop is what lets one pooled AsyncOpenAI
client per endpoint serve every reply in the process (an httpx pool is bound to the loop it was
made on), and lets one channel-layer connection pool carry every delta.
"""

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from helpdesk.core.aio import mark_long_lived
from helpdesk.core.asyncdb import db_call

T = TypeVar("T")

_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()
logger = logging.getLogger(__name__)
_periodic: set[str] = set()
_periodic_lock = threading.Lock()


def job_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            # Database and cache calls leave it for the process's blocking-call pool
            # (helpdesk.core.asyncdb), shared with the server's loop where there is one.
            loop = asyncio.new_event_loop()
            mark_long_lived(loop)
            thread = threading.Thread(
                target=loop.run_forever, name="helpdesk-job-loop", daemon=True
            )
            thread.start()
            _loop = loop
        return _loop


def run_on_job_loop(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run ``coro`` on the job loop and wait for its result from the calling (worker) thread."""
    loop = job_loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        coro.close()
        raise RuntimeError("run_on_job_loop() was called from the job loop itself; await instead")
    return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)


def run_every(name: str, every: float, call: Callable[[], object]) -> None:
    """From now on, run the blocking ``call`` (database work allowed) every ``every`` seconds
    from this process's job loop: once per process and ``name``, never when ``every`` <= 0. A
    failed round is logged (the database may be away for a moment) and the next one comes."""
    if every <= 0:
        return
    with _periodic_lock:
        if name in _periodic:
            return
        _periodic.add(name)
    asyncio.run_coroutine_threadsafe(_every(name, every, call), job_loop())


async def _every(name: str, every: float, call: Callable[[], object]) -> None:
    while True:
        try:
            await db_call(call)()
        except Exception:
            logger.exception("The periodic %s failed; it runs again in %g s", name, every)
        await asyncio.sleep(every)
