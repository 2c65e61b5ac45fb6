"""Engines, sessions and migrations for SQLite (default) and PostgreSQL (by URL)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from bot import fastjson

MIGRATIONS = Path(__file__).with_name("migrations")
POOL_SIZE = 12  # PostgreSQL connections a process keeps open (see `make_engine`)
PING_IDLE = 2.0  # seconds: a pooled connection idle longer is pinged before it is handed out


def normalize_url(url: str) -> str:
    """Accept the usual postgres:// spellings and pick the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    # JSON columns (an article's body, its digest, a delivery's plan) read and written with
    # orjson on the database threads too: a rush reads every channel's article bodies
    kwargs: dict[str, Any] = {
        "future": True,
        "json_serializer": fastjson.dumps,
        "json_deserializer": fastjson.loads,
    }
    if url.startswith("sqlite"):
        path = url.split("sqlite:///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs["pool_recycle"] = 1800
        # a connection kept for each of the eight database threads and the leases, leader
        # and console beside them: with the default five, a rush kept opening and closing
        # overflow connections (a new PostgreSQL backend, TLS and auth each time)
        kwargs["pool_size"] = POOL_SIZE
        kwargs["max_overflow"] = 10
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        ping_when_idle(engine)
    return engine


def ping_when_idle(engine: Engine, idle: float = PING_IDLE) -> None:
    """Ping a pooled connection before it is handed out only when it sat idle for `idle`
    seconds or more, instead of on every checkout (SQLAlchemy's `pool_pre_ping`).

    Why: a ping is a round trip, and in a rush every delivery checks a connection out several
    times; pinging each checkout cost about as much CPU as the statements themselves. A
    connection that answered moments ago is trusted. Should the server have restarted in those
    moments, the next statement on it fails as a disconnect, SQLAlchemy then discards the whole
    pool, and the caller's retry (the next claim round) gets fresh connections; an idle
    connection that fails its ping is replaced before anyone sees it."""

    def checked_in(_dbapi: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def checked_out(dbapi: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < idle:
            return
        try:
            engine.dialect.do_ping(dbapi)
        except Exception as exc:  # the pool replaces this connection and tries again
            raise DisconnectionError(str(exc)) from exc

    event.listen(engine, "checkin", checked_in)
    event.listen(engine, "checkout", checked_out)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL skips the fsync per commit (the WAL is synced at checkpoints): a
    # process crash loses nothing, an OS crash may lose the last commits, never consistency;
    # a lost "part sent" record is reconciled with the platform on restart.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest revision; runs on every start, a no-op when current."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
