"""PostgreSQL from the event loop itself, for the few statements on the realtime hot path.

Django's ORM is synchronous: from async code every query is a hop to a worker thread, and those
threads compete with the event loop for the GIL. At hundreds of customer messages a second the
loop starved behind them (py-spy: 73% of a server process in database threads, 8-13% left for
the loop). The statements that run for every message instead go through a psycopg async
connection pool of the running loop: no thread, one round trip each.

Only in service mode (PostgreSQL). Everything else keeps using the ORM.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import psycopg
from django.conf import settings
from django.db import connections
from django.db.models import Model
from psycopg import AsyncConnection

from helpdesk.core.aio import LoopLocal


def available() -> bool:
    return connections["default"].vendor == "postgresql"


def _conninfo() -> dict:
    # Read when a pool is made, not at import: the test runner renames the database first.
    params = connections["default"].settings_dict
    options = params.get("OPTIONS", {})
    return {
        "dbname": params["NAME"],
        "user": params.get("USER") or None,
        "password": params.get("PASSWORD") or None,
        "host": params.get("HOST") or None,
        "port": params.get("PORT") or None,
        "connect_timeout": options.get("connect_timeout", 5),
        "autocommit": True,
        # Timestamps come back in UTC, as through Django's connections.
        "options": "-c TimeZone=UTC",
    }


class Pool:
    """A bounded set of autocommit connections for one event loop.

    Not psycopg_pool: its maintenance runs in background tasks, which asyncio.run() cancels
    before a loop closes, and its close() then fails on them (every test makes and closes a
    loop). Connections here are made when needed and kept while they work; there is nothing
    to maintain.
    """

    def __init__(self, size: int):
        self._idle: list[AsyncConnection] = []
        self._slots = asyncio.Semaphore(size)

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with asyncio.timeout(settings.DATABASE_POOL_TIMEOUT):
                await self._slots.acquire()
        except TimeoutError:
            raise psycopg.OperationalError("no free connection in the async pool") from None
        try:
            connection = self._idle.pop() if self._idle else await _connect()
            reusable = False
            try:
                yield connection
                reusable = True
            except psycopg.Error:
                reusable = True  # the statement failed, the connection did not
                raise
            finally:
                # Cancelled mid-statement, or broken: the connection's state is unknown.
                if reusable and not connection.closed and not connection.broken:
                    self._idle.append(connection)
                else:
                    await connection.close()
        finally:
            self._slots.release()

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()


async def _connect() -> AsyncConnection:
    return await AsyncConnection.connect(**_conninfo())


def _make_pool(loop: asyncio.AbstractEventLoop) -> Pool:
    return Pool(settings.DATABASE_ASYNC_POOL_MAX)


async def _close_pool(pool: Pool) -> None:
    await pool.aclose()


_pools = LoopLocal(_make_pool, _close_pool)


async def fetchone(sql: str, params: dict) -> tuple | None:
    """Run one statement in its own transaction (autocommit); its first row."""
    async with _pools.get().connection() as connection:
        cursor = await connection.execute(sql, params)
        return await cursor.fetchone()


def columns(model: type[Model], alias: str) -> str:
    """Every column of ``model`` under ``alias``, in field order, for a SELECT list."""
    return ", ".join(f"{alias}.{field.column}" for field in model._meta.concrete_fields)


def take(model: type[Model], row: tuple, start: int) -> tuple[Model | None, int]:
    """The ``model`` instance whose columns() start at ``row[start]`` (None when its primary
    key is NULL: an outer join found nothing), and where the next one starts."""
    fields = model._meta.concrete_fields
    values = row[start : start + len(fields)]
    end = start + len(fields)
    if values[[f.primary_key for f in fields].index(True)] is None:
        return None, end
    return model.from_db("default", [f.attname for f in fields], values), end
