"""The few statements every post makes, awaited on the event loop itself (PostgreSQL only).

A post takes two pacing permits and marks its part as starting, then records it as sent:
four one-statement round trips, ten thousand times in a rush of 5,000 channels. Run on a
database thread, each trip wakes a worker and then the loop through its self-pipe; on this
project's machines that cost about 180 µs of CPU a statement, against about 25 µs for the
same prepared statement awaited on psycopg's own async connection (`make bench`, wakeups).
It is I/O only: the loop sends the statement and is free until the answer arrives, so
nothing slow runs on it (the rule in bot/workers.py).

What runs here is deliberately small: single prepared statements, autocommit, their
parameters given as the driver takes them. Anything else (sessions, transactions, the
ORM, SQLite) stays on the database threads. A statement that cannot run here (every
connection busy, or the server just dropped one) gets None back and its caller runs it
there instead, so a restart of the server costs nothing but a reconnect.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import namedtuple_row
from psycopg.types.json import Json
from sqlalchemy import JSON, URL
from sqlalchemy.dialects.postgresql import psycopg as pg_dialect

log = logging.getLogger(__name__)
T = TypeVar("T")

SIZE = 4  # connections a process keeps for these statements (about 1 ms each in a rush)
BACKOFF = 2.0  # seconds on the database threads alone after a connection failed
CONNECT_TIMEOUT = 5  # seconds


@dataclass(frozen=True)
class Statement:
    """A SQLAlchemy statement compiled once for psycopg: the SQL is written in one place,
    and which parameters are JSON (the driver must be told) is read from its columns."""

    sql: str
    defaults: Mapping[str, Any]
    json: frozenset[str]
    stamped: frozenset[str]  # columns stamped on every UPDATE (`onupdate`): set to now here

    @classmethod
    def of(cls, statement: Any) -> Statement:
        compiled = statement.compile(dialect=pg_dialect.dialect())  # type: ignore[no-untyped-call]
        binds = compiled.binds
        json = frozenset(name for name, bind in binds.items() if isinstance(bind.type, JSON))
        table = getattr(statement, "table", None)
        stamped = frozenset(
            c.key for c in getattr(table, "c", ()) if c.onupdate is not None and c.key in binds
        )
        return cls(str(compiled), dict(compiled.params), json, stamped)

    def params(self, values: Mapping[str, Any]) -> dict[str, Any]:
        now = datetime.now(UTC)
        merged = {**self.defaults, **dict.fromkeys(self.stamped, now), **values}
        for name in self.json:  # None too: SQLAlchemy's JSON writes it as JSON null
            merged[name] = Json(merged.get(name))
        return merged


@dataclass(frozen=True)
class Outcome:
    rows: list[tuple[Any, ...]]
    rowcount: int


@dataclass(frozen=True)
class Ran(Generic[T]):
    """What work run on the loop's connection returned (so that None can be a result)."""

    value: T


class OnLoop:
    """A small pool of psycopg async connections (autocommit) for one process's event loop."""

    def __init__(self, url: URL, size: int = SIZE) -> None:
        self.conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.size = size
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self._busy = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._resting_until = 0.0

    async def execute(self, sql: str, params: Mapping[str, Any]) -> Outcome | None:
        """Run one prepared statement; None when it did not run here (see the module)."""

        async def one(conn: psycopg.AsyncConnection[Any]) -> Outcome:
            cursor = await conn.execute(sql, params, prepare=True)
            rows = await cursor.fetchall() if cursor.description is not None else []
            return Outcome(rows, cursor.rowcount)

        ran = await self.run(one)
        return None if ran is None else ran.value

    async def run(
        self, work: Callable[[psycopg.AsyncConnection[Any]], Awaitable[T]]
    ) -> Ran[T] | None:
        """`work` on one of the loop's connections (a transaction of a few statements, say);
        None when it did not run here. Its own errors (a constraint, say) are raised."""
        if time.monotonic() < self._resting_until:
            return None
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # connections are used by one loop only
            self.close()
            self._loop = loop
        if not self._idle and self._busy >= self.size:
            return None
        self._busy += 1
        conn: psycopg.AsyncConnection[Any] | None = None
        try:
            conn = self._idle.pop() if self._idle else await self._connect()
            ran = Ran(await work(conn))
        except psycopg.OperationalError as exc:  # the connection, not the statement
            self._rest(exc)
            if conn is not None:
                conn.pgconn.finish()
            return None
        except BaseException:  # the statement's own error, or a cancel mid-statement
            if conn is not None:
                self._put_back(conn, loop)
            raise
        finally:
            self._busy -= 1
        self._put_back(conn, loop)
        return ran

    def _put_back(
        self, conn: psycopg.AsyncConnection[Any], loop: asyncio.AbstractEventLoop
    ) -> None:
        """Idle again, if it is ready for the next statement and still this loop's."""
        if self._loop is loop and conn.info.transaction_status == TransactionStatus.IDLE:
            self._idle.append(conn)
        else:
            conn.pgconn.finish()

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(
            self.conninfo,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT,
            row_factory=namedtuple_row,  # rows read by column name, as SQLAlchemy's are
        )

    def _rest(self, exc: Exception) -> None:
        """A failed connection: every idle one is suspect too (the server restarted)."""
        log.info("database connection on the loop failed (%s); using the threads", exc)
        self._resting_until = time.monotonic() + BACKOFF
        self.close()

    def close(self) -> None:
        """Drop the idle connections (those in use are dropped when they come back)."""
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.pgconn.finish()
