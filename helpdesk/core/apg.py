"""PostgreSQL from the event loop itself, for the few statements on the realtime hot path.

Django's ORM is synchronous: from async code every query is a hop to a worker thread, and those
threads compete with the event loop for the GIL. At hundreds of customer messages a second the
loop starved behind them (py-spy: 73% of a server process in database threads, 8-13% left for
the loop). The statements that run for every message or connection instead go through asyncpg
connections of the running loop: no thread, one round trip each.

asyncpg rather than psycopg's async connections: psycopg registers and unregisters its socket
with the event loop around every query (six epoll_ctl calls per query under strace), and took
about twice the CPU per statement here (232 vs 107 µs for the same query, measured with
uvloop on this machine). asyncpg keeps one reader per connection and prepares statements
itself.

Statements are written with psycopg's ``%(name)s`` placeholders, like Django's raw SQL, and
turned into asyncpg's ``$n`` here. Only in service mode (PostgreSQL). Everything else keeps
using the ORM.
"""

import asyncio
import contextlib
import functools
import re
from collections.abc import AsyncIterator

import asyncpg
from django.conf import settings
from django.db.models import Model

from helpdesk.core import fastjson
from helpdesk.core.aio import LoopLocal

UniqueViolation = asyncpg.UniqueViolationError
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def available() -> bool:
    # From the settings, not connections["default"]: in async code that makes a database
    # wrapper per task (asgiref's Local), 4 KB for every socket that asks.
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def _connect_arguments() -> dict:
    # Read when a connection is made, not at import: the test runner renames the database.
    params = settings.DATABASES["default"]
    options = params.get("OPTIONS", {})
    return {
        "database": params["NAME"],
        "user": params.get("USER") or None,
        "password": params.get("PASSWORD") or None,
        "host": params.get("HOST") or None,
        "port": int(params["PORT"]) if params.get("PORT") else None,
        "timeout": options.get("connect_timeout", 5),
        # Timestamps in UTC, as through Django's connections.
        "server_settings": {"TimeZone": "UTC"},
    }


async def _connect() -> asyncpg.Connection:
    connection = await asyncpg.connect(**_connect_arguments())
    for name in ("json", "jsonb"):
        await connection.set_type_codec(
            name, schema="pg_catalog", encoder=fastjson.dumps_text, decoder=fastjson.loads
        )
    return connection


class Pool:
    """A bounded set of connections for one event loop.

    Connections are made when needed and kept while they work; one that failed in any other
    way than PostgreSQL refusing a statement (a unique violation, say) is closed, as is one
    whose statement was cancelled midway.
    """

    def __init__(self, size: int):
        self._idle: list[asyncpg.Connection] = []
        self._slots = asyncio.Semaphore(size)

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        try:
            async with asyncio.timeout(settings.DATABASE_POOL_TIMEOUT):
                await self._slots.acquire()
        except TimeoutError:
            raise asyncpg.TooManyConnectionsError("no free connection in the pool") from None
        try:
            connection = self._idle.pop() if self._idle else await _connect()
            reusable = False
            try:
                yield connection
                reusable = True
            except asyncpg.PostgresError:
                reusable = True  # the statement failed, the connection did not
                raise
            finally:
                if reusable and not connection.is_closed():
                    self._idle.append(connection)
                else:
                    connection.terminate()
        finally:
            self._slots.release()

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close(timeout=5)


def _make_pool(loop: asyncio.AbstractEventLoop) -> Pool:
    return Pool(settings.DATABASE_ASYNC_POOL_MAX)


async def _close_pool(pool: Pool) -> None:
    await pool.aclose()


_pools = LoopLocal(_make_pool, _close_pool)


@functools.lru_cache(maxsize=64)
def _positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """``sql`` with ``%(name)s`` placeholders as ``$n``, and the names in ``$n`` order."""
    names: list[str] = []

    def number(match: re.Match) -> str:
        if match[1] not in names:
            names.append(match[1])
        return f"${names.index(match[1]) + 1}"

    return PLACEHOLDER.sub(number, sql), tuple(names)


async def fetchone(sql: str, params: dict) -> tuple | None:
    """Run one statement in its own transaction (autocommit); its first row."""
    statement, names = _positional(sql)
    async with _pools.get().connection() as connection:
        row = await connection.fetchrow(statement, *(params[name] for name in names))
    return None if row is None else tuple(row)


def columns(model: type[Model], alias: str) -> str:
    """Every column of ``model`` under ``alias``, in field order, for a SELECT list."""
    return ", ".join(f"{alias}.{field.column}" for field in model._meta.concrete_fields)


def take(model: type[Model], row: tuple, start: int, *, shared: bool = False):
    """The ``model`` instance whose columns() start at ``row[start]`` (None when its primary
    key is NULL: an outer join found nothing), and where the next one starts.

    ``shared``: a row identical to one loaded before gives back that same instance, for rows
    thousands of sockets load alike (their tenant, their inbox) and only read. Each would
    otherwise keep its own copy for as long as it is connected.
    """
    fields = model._meta.concrete_fields
    end = start + len(fields)
    values = row[start:end]
    if values[_primary_key_index(model)] is None:
        return None, end
    if not shared:
        return model.from_db("default", [f.attname for f in fields], values), end
    key = (model, values)
    instance = _shared.get(key)
    if instance is None:
        if len(_shared) >= SHARED_MAX:
            _shared.clear()  # rows that changed leave stale keys behind; start again
        instance = _shared[key] = model.from_db("default", [f.attname for f in fields], values)
    return instance, end


SHARED_MAX = 10_000
_shared: dict[tuple, Model] = {}


@functools.cache
def _primary_key_index(model: type[Model]) -> int:
    return [field.primary_key for field in model._meta.concrete_fields].index(True)
