"""ORM and other blocking calls from async code."""

from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async

# One pool per process for every event loop's blocking calls. Fewer threads than the database
# pool has connections (DATABASE_POOL_MAX, 20 by default): each may hold one at a time.
BLOCKING_THREADS = 16
_executor = ThreadPoolExecutor(max_workers=BLOCKING_THREADS, thread_name_prefix="helpdesk-db")


def db_call(func):
    """``func`` as a coroutine function, run on the shared blocking-call pool.

    Not thread-sensitive: Channels' default runs every database call of a process on ONE
    shared thread, so thousands of sockets would queue behind each other's queries. Each pool
    thread uses its own connection (from the psycopg pool in service mode), closed after the
    call like any request's.
    """
    return database_sync_to_async(func, thread_sensitive=False, executor=_executor)


def off_loop(func):
    """``func`` (cache or other blocking I/O, no ORM) as a coroutine function on the pool.

    Django's own ``cache.aget()`` and friends are thread-sensitive: from an event loop that is
    not a request's, they all queue on one global thread, and a busy process serialises on it.
    """
    return sync_to_async(func, thread_sensitive=False, executor=_executor)
