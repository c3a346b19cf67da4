"""One way to run background work: ``enqueue(task, *args)`` after the transaction commits.

With a broker configured (service mode) the job goes to a Celery worker; embedded, it runs on a
small in-process thread pool. Callers never care which. Jobs are Celery tasks that take ids and
are safe to run twice, so the same function body serves both modes.
"""

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from functools import partial

from celery import Task
from django.conf import settings
from django.db import close_old_connections, connections, transaction

from helpdesk.core.asyncdb import off_loop

logger = logging.getLogger(__name__)

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()
_pending: set[Future] = set()
_timers: set[threading.Timer] = set()


def uses_broker() -> bool:
    return bool(settings.CELERY_BROKER_URL)


def enqueue(task: Task, /, *args, **kwargs) -> None:
    """Run ``task(*args, **kwargs)`` once the current transaction commits (at once outside one).

    A rolled-back transaction never starts the job, so a job never sees data that was not saved.
    """
    transaction.on_commit(partial(_dispatch, task, args, kwargs), robust=True)


def _dispatch(task: Task, args: tuple, kwargs: dict) -> None:
    if uses_broker():
        task.apply_async(args=args, kwargs=kwargs)
        return
    future = _get_executor().submit(_run_in_process, task, args, kwargs)
    _pending.add(future)
    future.add_done_callback(_pending.discard)


def _get_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(
                max_workers=settings.JOBS_INPROCESS_WORKERS, thread_name_prefix="helpdesk-job"
            )
        return _executor


def _run_in_process(task: Task, args: tuple, kwargs: dict) -> None:
    close_old_connections()
    try:
        task(*args, **kwargs)
    except Exception:
        logger.exception("In-process job %s failed", task.name)
    finally:
        # Pool threads live on; their connections must not outlive the job.
        connections.close_all()


def wait_for_in_process_jobs(timeout: float = 10.0) -> bool:
    """Block until queued in-process jobs (and jobs they queue) finish. For tests and shutdown."""
    while _pending:
        done, not_done = wait(list(_pending), timeout=timeout)
        if not_done:
            return False
    return True


def enqueue_later(task: Task, delay: float, /, *args, **kwargs) -> None:
    """Like enqueue(), but the job starts ``delay`` seconds after the commit."""
    transaction.on_commit(partial(_dispatch_later, task, delay, args, kwargs), robust=True)


def _dispatch_later(task: Task, delay: float, args: tuple, kwargs: dict) -> None:
    if uses_broker():
        task.apply_async(args=args, kwargs=kwargs, countdown=delay)
        return

    def dispatch() -> None:
        _timers.discard(timer)
        _dispatch(task, args, kwargs)

    timer = threading.Timer(delay, dispatch)
    timer.daemon = True
    _timers.add(timer)
    timer.start()


def cancel_delayed_jobs() -> int:
    """Drop the in-process jobs still waiting for their time; returns how many. For shutdown
    and the end of a test run, whose database is about to go."""
    timers = list(_timers)
    for timer in timers:
        timer.cancel()
        _timers.discard(timer)
    return len(timers)


async def aenqueue(task: Task, /, *args, **kwargs) -> None:
    """Run ``task(*args, **kwargs)`` now, from async code whose data is already committed.

    Handing a job to the broker is blocking I/O, so it happens on the blocking-call pool.
    """
    await off_loop(_dispatch)(task, args, kwargs)
