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
ORM, SQLite) stays on the database threads. A statement that cannot run here (the server
just dropped a connection) gets None back and its caller runs it there instead, so a
restart of the server costs nothing but a reconnect.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.pq import ExecStatus, TransactionStatus
from psycopg.rows import namedtuple_row
from psycopg.types.json import Json
from sqlalchemy import JSON, Engine
from sqlalchemy.dialects.postgresql import psycopg as pg_dialect

log = logging.getLogger(__name__)

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
    named: bool = False  # it returns rows (RETURNING), read by column name

    @classmethod
    def of(cls, statement: Any) -> Statement:
        compiled = statement.compile(dialect=pg_dialect.dialect())  # type: ignore[no-untyped-call]
        binds = compiled.binds
        json = frozenset(name for name, bind in binds.items() if isinstance(bind.type, JSON))
        table = getattr(statement, "table", None)
        stamped = frozenset(
            c.key for c in getattr(table, "c", ()) if c.onupdate is not None and c.key in binds
        )
        named = bool(getattr(statement, "exported_columns", ()))
        return cls(str(compiled), dict(compiled.params), json, stamped, named)

    def params(self, values: Mapping[str, Any]) -> dict[str, Any]:
        now = datetime.now(UTC)
        merged = {**self.defaults, **dict.fromkeys(self.stamped, now), **values}
        for name in self.json:  # None too: SQLAlchemy's JSON writes it as JSON null
            merged[name] = Json(merged.get(name))
        return merged


Rider = tuple[str, Mapping[str, Any]]
"""A write as one UPDATE's SQL and its parameters, for another statement to carry (see
`start_rider` in bot/delivery/poster.py)."""


@dataclass(frozen=True)
class Outcome:
    rows: list[tuple[Any, ...]]
    rowcount: int


_OPEN = object()  # a waiter's answer: a place is free, open a connection in it
_THREADS = object()  # a waiter's answer: the connections failed, run on the threads


class _Connection(psycopg.AsyncConnection[Any]):
    """A connection of the pool, with the cursors its statements reuse: a new cursor per
    statement (its adapters, its state) was about a tenth of a statement's CPU in psycopg.
    Rows are plain tuples unless a statement's are read by column name (`named`): a named
    tuple's type is worked out from each result's columns. `encoding`: the connection's,
    read once, so that a statement's text is encoded once (see `_encoded`)."""

    statements: psycopg.AsyncCursor[Any]
    named: psycopg.AsyncCursor[Any]
    encoding: str


@lru_cache(maxsize=128)
def _encoded(sql: str, encoding: str) -> bytes:
    return sql.encode(encoding)


class OnLoop:
    """A small pool of psycopg async connections (autocommit) for one process's event loop.

    A statement that finds every connection busy waits for one (a wait costs less than a
    thread's wake-up, and a burst sent to the threads would open and close connections
    beyond their pool's size, a new server backend each)."""

    def __init__(self, engine: Engine, size: int = SIZE) -> None:
        # the engine's own connection arguments, as SQLAlchemy hands them to psycopg
        _args, kwargs = engine.dialect.create_connect_args(engine.url)
        kwargs.pop("context", None)  # SQLAlchemy's adapters, not a connection option
        self.conninfo = make_conninfo(**kwargs)
        self.size = size
        self._idle: list[_Connection] = []
        self._busy = 0  # connections out, being opened, or handed to a waiter
        self._waiters: deque[asyncio.Future[Any]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._resting_until = 0.0

    async def execute(
        self, sql: str, params: Mapping[str, Any], named: bool = False
    ) -> Outcome | None:
        """Run one prepared statement; None when it did not run here (see the module). Its
        own errors (a constraint, say) are raised. `named`: its rows are read by column name
        (named tuples); else they are plain tuples."""
        if time.monotonic() < self._resting_until:
            return None
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # connections are used by one loop only
            self.close()
            self._busy, self._waiters, self._loop = 0, deque(), loop
        try:
            conn = await self._acquire(loop)
        except psycopg.OperationalError:  # no connection could be opened (see `_open`)
            return None
        if conn is None:
            return None
        try:
            cursor = conn.named if named else conn.statements
            await cursor.execute(_encoded(sql, conn.encoding), params, prepare=True)
            # rows or none, from the result's status: `cursor.description` would build the
            # columns' descriptions for every statement
            result = cursor.pgresult
            rows = (
                await cursor.fetchall()
                if result is not None and result.status == ExecStatus.TUPLES_OK
                else []
            )
            outcome = Outcome(rows, cursor.rowcount)
        except psycopg.OperationalError as exc:
            if conn.closed or conn.broken:  # the connection: the others are suspect too
                conn.pgconn.finish()
                self._rest(exc)  # the waiters go to the threads too
                self._release(None, loop)
            else:  # the statement (a deadlock, a timeout): rolled back, run again there
                self._release(conn, loop)
            return None
        except BaseException:  # the statement's own error, or a cancel mid-statement
            self._release(conn, loop)
            raise
        self._release(conn, loop)
        return outcome

    async def _acquire(self, loop: asyncio.AbstractEventLoop) -> _Connection | None:
        """A connection of the pool's (an idle one, a new one, or one handed over by a
        statement that finished); None to run on the threads."""
        if self._idle:
            self._busy += 1
            return self._idle.pop()
        if self._busy < self.size:
            self._busy += 1
            return await self._open(loop)
        waiter: asyncio.Future[Any] = loop.create_future()
        self._waiters.append(waiter)
        try:
            got = await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # handed over just as it was cancelled
                handed = waiter.result()
                if handed is not _THREADS:
                    self._release(None if handed is _OPEN else handed, loop)
            raise
        if got is _THREADS:
            return None
        return await self._open(loop) if got is _OPEN else cast(_Connection, got)

    async def _open(self, loop: asyncio.AbstractEventLoop) -> _Connection:
        """A new connection in a place already counted; the place is given back if none
        opens (a refused server rests the pool first, so that the waiters go to the threads)."""
        try:
            return await self._connect()
        except BaseException as exc:
            if isinstance(exc, psycopg.OperationalError):
                self._rest(exc)
            self._release(None, loop)
            raise

    def _release(self, conn: _Connection | None, loop: asyncio.AbstractEventLoop) -> None:
        """A place in the pool is free again: its connection (None when it was dropped)
        goes to the first waiter, else back to the idle ones if it is ready for the next
        statement and still this loop's."""
        if loop is not self._loop:
            if conn is not None:
                conn.pgconn.finish()
            return
        if conn is not None and conn.info.transaction_status != TransactionStatus.IDLE:
            conn.pgconn.finish()
            conn = None
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(_OPEN if conn is None else conn)  # the place passes on
                return
        self._busy -= 1
        if conn is not None:
            self._idle.append(conn)

    async def _connect(self) -> _Connection:
        conn = await _Connection.connect(
            self.conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT
        )
        conn.statements = conn.cursor()
        conn.named = conn.cursor(row_factory=namedtuple_row)  # as SQLAlchemy's rows are read
        conn.encoding = conn.info.encoding  # nothing here ever SETs client_encoding
        return conn

    def _rest(self, exc: Exception) -> None:
        """A failed connection: every idle one is suspect too (the server restarted), and
        whoever waits for one goes to the threads."""
        log.info("database connection on the loop failed (%s); using the threads", exc)
        self._resting_until = time.monotonic() + BACKOFF
        self.close()
        waiters, self._waiters = self._waiters, deque()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(_THREADS)

    def close(self) -> None:
        """Drop the idle connections (those in use are dropped when they come back)."""
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.pgconn.finish()
