"""The few statements every post makes, awaited on the event loop itself (PostgreSQL only).

A post takes two pacing permits and marks its part as starting, then records it as sent:
four one-statement round trips, ten thousand times in a rush of 5,000 channels. Run on a
database thread, each trip wakes a worker and then the loop through its self-pipe; on this
project's machines that cost about 180 µs of CPU a statement, against a few tens of µs for
the same prepared statement awaited on an async connection (`make bench`, wakeups).
It is I/O only: the loop sends the statement and is free until the answer arrives, so
nothing slow runs on it (the rule in bot/workers.py).

The driver here is asyncpg, not the psycopg of the database threads: its protocol is
compiled, and a statement awaited on it cost about half of psycopg's async connection in
Python frames and wake-ups (`make bench`, wakeups and replicas). The SQL is the same text
(SQLAlchemy's, or the pacing table's), its `%(name)s` placeholders numbered once.

What runs here is deliberately small: single prepared statements, autocommit, their
parameters given as the driver takes them. Anything else (sessions, transactions, the
ORM, SQLite) stays on the database threads. A statement that cannot run here (the server
just dropped a connection) gets None back and its caller runs it there instead, so a
restart of the server costs nothing but a reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections import deque, namedtuple
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

import asyncpg
from sqlalchemy import JSON, URL, Engine
from sqlalchemy.dialects.postgresql import psycopg as pg_dialect

from bot import fastjson

log = logging.getLogger(__name__)

SIZE = 4  # connections a process keeps for these statements (about 1 ms each in a rush)
BACKOFF = 2.0  # seconds on the database threads alone after a connection failed
CONNECT_TIMEOUT = 5  # seconds


@dataclass(frozen=True)
class Statement:
    """A SQLAlchemy statement compiled once: the SQL is written in one place, and which
    parameters are JSON (sent as JSON text) is read from its columns."""

    sql: str
    defaults: Mapping[str, Any]
    json: frozenset[str]
    stamped: frozenset[str]  # columns stamped on every UPDATE (`onupdate`): set to now here
    named: bool = False  # it returns rows (RETURNING), read by column name

    @classmethod
    def of(cls, statement: Any) -> Statement:
        # psycopg's dialect for its `%(name)s` placeholders and explicit casts, which
        # `positional` numbers for asyncpg
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
            merged[name] = fastjson.dumps(merged.get(name))
        return merged


Rider = tuple[str, Mapping[str, Any]]
"""A write as one UPDATE's SQL and its parameters, for another statement to carry (see
`start_rider` in bot/delivery/poster.py)."""


@dataclass(frozen=True)
class Outcome:
    rows: list[Any]  # plain tuples, or named tuples for a statement read by name
    rowcount: int


_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")


@lru_cache(maxsize=128)
def positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """`sql` with its `%(name)s` placeholders numbered as asyncpg's `$1`, `$2`… (a name
    used twice keeps its number), and the names in that order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:  # `%%`, a literal percent sign
            return "%"
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _PLACEHOLDER.sub(number, sql), tuple(names)


def _rowcount(status: str | None) -> int:
    """The rows a command touched, from its tag (`UPDATE 1`, `INSERT 0 1`, `SELECT 3`)."""
    last = (status or "").rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else -1


# what psycopg called an OperationalError: the connection, the server's state or a clash
# with another transaction (08 connection, 40 rolled back, 53 resources, 54 limits,
# 55 object state, 57 operator intervention, 58 system) — worth running again elsewhere
_NOT_THE_STATEMENTS = frozenset({"08", "40", "53", "54", "55", "57", "58"})


def _not_the_statements(exc: BaseException) -> bool:
    """An error that says nothing about the statement itself: run it on the threads."""
    if isinstance(exc, asyncpg.PostgresError):
        code = str(getattr(exc, "sqlstate", "") or "")
        return code[:2] in _NOT_THE_STATEMENTS or isinstance(
            exc, asyncpg.exceptions.InvalidCachedStatementError
        )
    return isinstance(exc, OSError | TimeoutError | asyncpg.InterfaceError)


@dataclass(frozen=True)
class _Prepared:
    """A statement prepared on one connection, with what its execution needs."""

    statement: Any  # asyncpg's PreparedStatement
    names: tuple[str, ...]  # the parameters, in the order of their numbers
    row: Any  # the named tuple its rows are read as; None: plain tuples


def _row_type(columns: tuple[str, ...]) -> Any:
    """A named tuple of these columns, as SQLAlchemy's rows are read (`row.id`)."""
    return namedtuple("Row", columns, rename=True)


_PREPARED_PER_CONNECTION = 64  # the store sends about ten; anything else is forgotten


class _Connection:
    """A connection of the pool and the statements prepared on it: a statement is parsed
    and planned by the server once per connection, then only bound and run."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw  # asyncpg's Connection
        self.prepared: dict[tuple[str, bool], _Prepared] = {}

    async def run(self, sql: str, params: Mapping[str, Any], named: bool) -> Outcome:
        prepared = self.prepared.get((sql, named))
        if prepared is None:
            prepared = await self._prepare(sql, named)
        try:
            records = await prepared.statement.fetch(*[params[n] for n in prepared.names])
        except asyncpg.exceptions.InvalidCachedStatementError:
            self.prepared.pop((sql, named), None)  # the table changed: prepare it anew
            raise
        if prepared.row is not None:
            rows: list[Any] = [prepared.row._make(r) for r in records]
        else:
            rows = [tuple(r) for r in records]
        return Outcome(rows, _rowcount(prepared.statement.get_statusmsg()))

    async def _prepare(self, sql: str, named: bool) -> _Prepared:
        text, names = positional(sql)
        statement = await self.raw.prepare(text)
        row = _row_type(tuple(a.name for a in statement.get_attributes())) if named else None
        if len(self.prepared) >= _PREPARED_PER_CONNECTION:
            self.prepared.clear()
        prepared = self.prepared[(sql, named)] = _Prepared(statement, names, row)
        return prepared

    def drop(self) -> None:
        """Close the socket at once, without a goodbye to the server (as psycopg's
        `finish`): from a closed loop too."""
        with contextlib.suppress(RuntimeError):  # its loop is closed: the socket goes with it
            self.raw.terminate()


# the URL's options asyncpg reads as libpq does (`service` to `gsslib`), and the two server
# settings people put there; asyncpg sends any other to the server as a setting, which refuses
# the connection for libpq's own tuning (connect_timeout, keepalives…)
_ASYNCPG_OPTIONS = frozenset(
    {
        "service",
        "host",
        "port",
        "dbname",
        "database",
        "user",
        "password",
        "passfile",
        "sslmode",
        "sslcert",
        "sslkey",
        "sslrootcert",
        "sslnegotiation",
        "sslcrl",
        "sslpassword",
        "ssl_min_protocol_version",
        "ssl_max_protocol_version",
        "target_session_attrs",
        "krbsrvname",
        "gsslib",
        "options",
        "application_name",
    }
)


def asyncpg_dsn(url: URL) -> str:
    """The engine's server, credentials and TLS as asyncpg takes them, without the options
    only libpq knows (this pool has its own connect timeout)."""
    query = {k: v for k, v in url.query.items() if k in _ASYNCPG_OPTIONS}
    return url.set(drivername="postgresql", query=query).render_as_string(hide_password=False)


_OPEN = object()  # a waiter's answer: a place is free, open a connection in it
_THREADS = object()  # a waiter's answer: the connections failed, run on the threads


def _as_text(value: str) -> str:
    return value  # JSON parameters arrive as JSON text (`Statement.params`)


class OnLoop:
    """A small pool of asyncpg connections (autocommit) for one process's event loop.

    A statement that finds every connection busy waits for one (a wait costs less than a
    thread's wake-up, and a burst sent to the threads would open and close connections
    beyond their pool's size, a new server backend each)."""

    def __init__(self, engine: Engine, size: int = SIZE) -> None:
        self.dsn = asyncpg_dsn(engine.url)
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
        except _CouldNotConnect:
            return None
        if conn is None:
            return None
        try:
            outcome = await conn.run(sql, params, named)
        except Exception as exc:
            if not _not_the_statements(exc):  # the statement's own error: the caller's
                self._release(conn, loop)
                raise
            if conn.raw.is_closed():  # the connection: the others are suspect too
                conn.drop()
                self._rest(exc)  # the waiters go to the threads too
                self._release(None, loop)
            else:  # the statement (a deadlock, a timeout): rolled back, run again there
                self._release(conn, loop)
            return None
        except BaseException:  # a cancel mid-statement: the connection's state is unknown
            conn.drop()
            self._release(None, loop)
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
        except Exception as exc:
            self._rest(exc)
            self._release(None, loop)
            raise _CouldNotConnect from exc
        except BaseException:
            self._release(None, loop)
            raise

    def _release(self, conn: _Connection | None, loop: asyncio.AbstractEventLoop) -> None:
        """A place in the pool is free again: its connection (None when it was dropped)
        goes to the first waiter, else back to the idle ones if it is ready for the next
        statement and still this loop's."""
        if loop is not self._loop:
            if conn is not None:
                conn.drop()
            return
        if conn is not None and (conn.raw.is_closed() or conn.raw.is_in_transaction()):
            conn.drop()
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
        raw = await asyncpg.connect(self.dsn, timeout=CONNECT_TIMEOUT)
        try:
            for name in ("json", "jsonb"):  # rows' JSON as Python values, as SQLAlchemy's
                await raw.set_type_codec(
                    name, schema="pg_catalog", encoder=_as_text, decoder=fastjson.loads
                )
        except BaseException:
            raw.terminate()
            raise
        return _Connection(raw)

    def _rest(self, exc: BaseException) -> None:
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
            conn.drop()


class _CouldNotConnect(Exception):
    """No connection could be opened: the statement goes to the threads."""
