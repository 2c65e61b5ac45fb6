"""A replica's name, held while it runs, so that a restarted replica knows its own old claims.

A delivery's lease carries its owner: `NAME:PID:RANDOM`. A replica killed mid-rush leaves
leases that would otherwise block its deliveries until they lapse. When the same replica
comes back (the container restarted: same hostname, or the same NEWSDIGEST_REPLICA_NAME) it
takes the name's lock, a PostgreSQL advisory lock or, on SQLite, a file lock; holding it
proves that no live process uses the name, so the leases under `NAME:` that are not its own
were left by a dead predecessor, and it frees them at once instead of waiting them out.

Two live processes wanting one name (two `serve` on one host) cannot both hold it: the
second runs as `NAME+PID` and frees nothing, so it never takes a live sender's rows.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import socket
import zlib
from typing import IO, Any

from sqlalchemy import Engine

from bot.delivery.leader import lock_path, release_lock, try_advisory_lock, try_file_lock

log = logging.getLogger(__name__)

KEY_ARGS = ":space, :key"  # the two-key form: (NAME_LOCKS, a hash of the name)
NAME_LOCKS = 0x6E647270  # "ndrp": the advisory-lock space of replica names (two-key form)
MAX_NAME = 32


def clean_name(wanted: str | None) -> str:
    """A name usable in lease owners: letters, digits, `.`, `_` and `-` (the separators `:`
    and `+` can then never be part of it), at most 32 characters; the host's name by default."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", (wanted or socket.gethostname()).strip())
    return name.strip("-")[:MAX_NAME] or "replica"


class ReplicaName:
    """The lock behind a replica's name; `held` says whether leases under `NAME:` that are not
    this process's own may be taken as a dead predecessor's."""

    def __init__(
        self, name: str, held: bool, conn: Any = None, file: IO[str] | None = None
    ) -> None:
        self.name, self.held = name, held
        self._conn, self._file = conn, file

    @property
    def owner_prefix(self) -> str:
        """How this process's lease owners begin: `NAME:` when the name is held, else
        `NAME+PID:`, which no other process's prefix matches."""
        return f"{self.name}:" if self.held else f"{self.name}+{os.getpid()}:"

    @classmethod
    def hold(cls, engine: Engine, wanted: str | None) -> ReplicaName:
        name = clean_name(wanted)
        try:
            if engine.dialect.name == "postgresql":
                return cls._hold_advisory(engine, name)
            return cls._hold_file(engine, name)
        except Exception as exc:  # the name is a convenience: run without it rather than not
            log.warning("could not lock replica name %r: %s", name, type(exc).__name__)
            return cls(name, False)

    @classmethod
    def _hold_advisory(cls, engine: Engine, name: str) -> ReplicaName:
        conn = try_advisory_lock(engine, KEY_ARGS, _lock_key(name))
        if conn is None:
            log.warning("another live process runs as replica %r; this one runs apart", name)
            return cls(name, False)
        return cls(name, True, conn=conn)

    @classmethod
    def _hold_file(cls, engine: Engine, name: str) -> ReplicaName:
        digest = hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:12]
        handle = try_file_lock(lock_path(engine, f".replica-{digest}.lock"))
        if handle is None:
            log.warning("another live process runs as replica %r; this one runs apart", name)
            return cls(name, False)
        return cls(name, True, file=handle)

    def release(self) -> None:
        release_lock(self._conn, KEY_ARGS, _lock_key(self.name), self._file)
        self._conn, self._file, self.held = None, None, False


def _lock_key(name: str) -> dict[str, int]:
    key = zlib.crc32(name.encode())
    key = key - (1 << 32) if key >= 1 << 31 else key  # the int4 the two-key form takes
    return {"space": NAME_LOCKS, "key": key}
