"""A bare Redis connection for the channel layer's subscription: write commands, read replies.

redis-py reads a subscription one reply per call, each under its own timeout; a burst of
published messages cost a call each, and on Python 3.11 a cancellation that met such a
timeout could be lost, leaving the task reading forever. Here one socket read hands every reply
it holds to hiredis at once, and nothing but the read itself is awaited: cancelling the reader
always stops it. Liveness comes from PING (helpdesk/realtime/redis_layer.py), not a timeout.
"""

import asyncio
import ssl

import hiredis
from redis.asyncio.connection import SSLConnection, UnixDomainSocketConnection, parse_url

READ_SIZE = 65536


class RespConnection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self._reader = reader
        self._writer = writer
        self._parser = hiredis.Reader()

    @classmethod
    async def open(cls, url: str, *, name: str, timeout: float = 5.0) -> "RespConnection":
        """Connect to the Redis server at ``url``, log in, select its database, name it."""
        options = parse_url(url)
        async with asyncio.timeout(timeout):
            if options.get("connection_class") is UnixDomainSocketConnection:
                reader, writer = await asyncio.open_unix_connection(options["path"])
            else:
                tls = ssl.create_default_context()
                reader, writer = await asyncio.open_connection(
                    options.get("host", "localhost"),
                    options.get("port", 6379),
                    ssl=tls if options.get("connection_class") is SSLConnection else None,
                )
            connection = cls(reader, writer)
            setup = []
            if options.get("password"):
                setup.append(("AUTH", options.get("username") or "default", options["password"]))
            setup.append(("SELECT", options.get("db", 0)))
            setup.append(("CLIENT", "SETNAME", name))
            connection.send(*setup)
            answers: list = []
            while len(answers) < len(setup):
                answers += await connection.read()
        refused = [answer for answer in answers if isinstance(answer, hiredis.ReplyError)]
        if refused:
            connection.close()
            raise ConnectionError(f"Redis refused the connection set-up: {refused[0]}")
        return connection

    def send(self, *commands: tuple) -> None:
        """Queue ``commands`` for sending (no round trip is awaited)."""
        self._writer.write(b"".join(hiredis.pack_command(command) for command in commands))

    async def read(self) -> list:
        """The replies the next read from the socket completes (at least one)."""
        replies = []
        while True:
            reply = self._parser.gets()
            while reply is not False:
                replies.append(reply)
                reply = self._parser.gets()
            if replies:
                return replies
            data = await self._reader.read(READ_SIZE)
            if not data:
                raise ConnectionError("Redis closed the connection")
            self._parser.feed(data)

    def close(self) -> None:
        self._writer.close()
