"""ORM calls from async code."""

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async


def db_call(func):
    """``func`` as a coroutine function, run on the default thread pool.

    Not thread-sensitive: Channels' default runs every database call of a process on ONE
    shared thread, so thousands of sockets would queue behind each other's queries. Each pool
    thread uses its own connection (from the psycopg pool in service mode), closed after the
    call like any request's.
    """
    return database_sync_to_async(func, thread_sensitive=False)


def off_loop(func):
    """``func`` (cache or other blocking I/O, no ORM) as a coroutine function on the pool.

    Django's own ``cache.aget()`` and friends are thread-sensitive: from an event loop that is
    not a request's, they all queue on one global thread, and a busy process serialises on it.
    """
    return sync_to_async(func, thread_sensitive=False)
