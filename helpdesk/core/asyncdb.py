"""ORM calls from async code."""

from channels.db import database_sync_to_async


def db_call(func):
    """``func`` as a coroutine function, run on the default thread pool.

    Not thread-sensitive: Channels' default runs every database call of a process on ONE
    shared thread, so thousands of sockets would queue behind each other's queries. Each pool
    thread uses its own connection (from the psycopg pool in service mode), closed after the
    call like any request's.
    """
    return database_sync_to_async(func, thread_sensitive=False)
