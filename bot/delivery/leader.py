"""Only one process runs the schedule: a PostgreSQL advisory lock, or a file lock for SQLite.

Losing the lock (the holder died, its connection dropped) frees it for another
process, which takes over at its next attempt. The unique delivery row still
stops double posts if two ever overlap.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

LOCK_KEY = 0x6E657773  # "news"


class LeaderLock:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Any = None
        self._file: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None or self._file is not None

    def try_acquire(self) -> bool:
        if self.held:
            return self.still_held()
        if self.engine.dialect.name == "postgresql":
            self._conn = try_advisory_lock(self.engine, ":k", {"k": LOCK_KEY})
            return self._conn is not None
        handle = try_file_lock(lock_path(self.engine, ".lock"))
        if handle is None:
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return True

    def still_held(self) -> bool:
        """For PostgreSQL, a dead connection means the lock is gone."""
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT 1"))
                self._conn.commit()
            except Exception:
                log.warning("lost the scheduler lock (database connection dropped)")
                self._conn = None
                return False
        return self.held

    def release(self) -> None:
        release_lock(self._conn, ":k", {"k": LOCK_KEY}, self._file)
        self._conn, self._file = None, None


def try_advisory_lock(engine: Engine, key: str, params: dict[str, int]) -> Any | None:
    """A session-level advisory lock (`key`: the SQL arguments, e.g. ":k") on a connection of
    its own, held for as long as that connection stays open; None when another session has it."""
    conn = engine.connect()
    got = bool(conn.execute(text(f"SELECT pg_try_advisory_lock({key})"), params).scalar())
    conn.commit()
    if not got:
        conn.close()
        return None
    return conn


def try_file_lock(path: Path) -> IO[str] | None:
    """An exclusive lock on `path` (SQLite's stand-in for an advisory lock), held for as long as
    the returned file stays open; None when another process has it."""
    handle = open(path, "a+")  # noqa: SIM115 - held open for as long as the lock is
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def release_lock(conn: Any, key: str, params: dict[str, int], file: IO[str] | None) -> None:
    """Give back what `try_advisory_lock` or `try_file_lock` took. The advisory lock is
    unlocked explicitly: a pooled connection would keep its session's locks."""
    if conn is not None:
        with contextlib.suppress(Exception):
            conn.execute(text(f"SELECT pg_advisory_unlock({key})"), params)
            conn.commit()
        with contextlib.suppress(Exception):
            conn.close()
    if file is not None:
        with contextlib.suppress(OSError):
            fcntl.flock(file, fcntl.LOCK_UN)
        file.close()


def lock_path(engine: Engine, suffix: str) -> Path:
    """The lock file beside a SQLite database (in /tmp for an in-memory one)."""
    database = engine.url.database or ""
    if not database or database == ":memory:":
        return Path("/tmp") / f"newsdigest-{os.getuid()}{suffix}"
    return Path(database).with_suffix(suffix)
