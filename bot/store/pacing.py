"""Platform limits shared by every replica: GCRA buckets as rows in PostgreSQL.

Each replica used to pace its posts on its own, so N replicas posted at N times a platform's
per-token rate. Here a bucket (a platform's overall limit, or one channel's) is one row
holding its theoretical arrival time (TAT): a permit is taken with one statement, an upsert
that moves the TAT on by one interval and returns it, so the row lock orders every replica's
permits and no two are closer than the interval. Time is the database server's clock, the
one clock all replicas share (theirs may disagree by more than an interval).

Every statement runs on its own autocommit connection from a small pool without a checkout
ping: one round trip a permit (a transaction and a ping would make it three or four; see
bench/pacing.py). A connection the server dropped fails one permit, which the pacer then
takes from its local bucket alone, and is replaced on the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, create_engine, text

from bot.store.on_loop import OnLoop, Rider

# the server's clock, in seconds; now() is the statement's start in autocommit, so a wait
# computed from it is, if anything, a little long (the time the row lock took)
_NOW = "EXTRACT(EPOCH FROM now())::float8"

RESERVE = text(
    f"""
    INSERT INTO pace_buckets AS b (key, tat) VALUES (:key, {_NOW} + :interval)
    ON CONFLICT (key) DO UPDATE SET tat = greatest(b.tat, {_NOW}) + :interval
        WHERE b.tat - :tolerance - {_NOW} <= :max_wait
    RETURNING b.tat, {_NOW} AS now
    """
)
# the same statement for the DBAPI cursor itself (psycopg's parameter style), prepared on
# the server: a permit is taken for every post, and SQLAlchemy's layer cost more CPU than
# the round trip (`make bench`, replicas)
RESERVE_PREPARED = (
    str(RESERVE)
    .replace(":key", "%(key)s")
    .replace(":interval", "%(interval)s")
    .replace(":tolerance", "%(tolerance)s")
    .replace(":max_wait", "%(max_wait)s")
)
# a channel's permit and the overall one in one statement (a post takes both): the overall
# row is taken only after the channel's (it reads the channel's RETURNING), so every
# statement that locks both locks them in the same order, and a channel held (no row) takes
# nothing overall. Nor does a channel whose slot is further off than `jitter`: its caller
# sleeps that wait and takes the overall slot after it. An overall slot taken before such a
# wait went unused, lost to every replica: in a rush of two-part digests those lost slots put
# the shared bucket about 0.9 s ahead of each replica's own, so every post waited there too
# and its "request starting" mark never rode (`make bench`, replicas)
_BOTH = f"""
    WITH channel AS (
        INSERT INTO pace_buckets AS b (key, tat) VALUES (%(key)s, {_NOW} + %(interval)s)
        ON CONFLICT (key) DO UPDATE SET tat = greatest(b.tat, {_NOW}) + %(interval)s
            WHERE b.tat - %(tolerance)s - {_NOW} <= %(max_wait)s
        RETURNING b.tat
    ), overall AS (
        INSERT INTO pace_buckets AS b (key, tat)
        SELECT %(overall_key)s, {_NOW} + %(overall_interval)s FROM channel
        WHERE channel.tat - %(interval)s - %(tolerance)s <= {_NOW} + %(jitter)s
        ON CONFLICT (key) DO UPDATE SET tat = greatest(b.tat, {_NOW}) + %(overall_interval)s
            WHERE b.tat - %(overall_tolerance)s - {_NOW} <= %(max_wait)s
        RETURNING b.tat
    )"""
_BOTH_SELECT = f"""
    SELECT (SELECT tat FROM channel) AS channel, (SELECT tat FROM overall) AS overall,
        {_NOW} AS now"""
# a write that rides with the permits (the part's "request starting" mark, see
# bot/delivery/poster.py): an UPDATE whose WHERE is extended so that it is made only when
# both slots are due within `jitter` (no real wait left before the request)
_RIDER = f"""
    , rider AS ({{update}} AND EXISTS (
        SELECT 1 FROM channel, overall
        WHERE channel.tat - %(interval)s - %(tolerance)s <= {_NOW} + %(jitter)s
        AND overall.tat - %(overall_interval)s - %(overall_tolerance)s <= {_NOW} + %(jitter)s
    ) RETURNING 1)"""
RESERVE_BOTH = _BOTH + _BOTH_SELECT + ", false AS rode"


@lru_cache(maxsize=16)
def reserve_both_with(update: str) -> str:
    """`RESERVE_BOTH` carrying `update` (an UPDATE … WHERE …, nothing after its WHERE)."""
    return (
        _BOTH
        + _RIDER.replace("{update}", update)
        + _BOTH_SELECT
        + (", EXISTS (SELECT 1 FROM rider) AS rode")
    )


PEEK = text(f"SELECT tat, {_NOW} AS now FROM pace_buckets WHERE key = :key")
HOLD = text(
    f"""
    INSERT INTO pace_buckets AS b (key, tat) VALUES (:key, {_NOW} + :seconds + :tolerance)
    ON CONFLICT (key) DO UPDATE SET tat = greatest(b.tat, excluded.tat)
    """
)
# rows a permit holds are left for the next sweep: a sweep that waited on one, holding others,
# could deadlock with a statement taking a channel's row and then the overall one
PRUNE = text(
    f"""
    DELETE FROM pace_buckets WHERE key IN (
        SELECT key FROM pace_buckets WHERE tat < {_NOW} - :idle FOR UPDATE SKIP LOCKED
    )
    """
)


@dataclass(frozen=True)
class Bucket:
    """A shared bucket as a permit names it: its row, and the spacing it keeps."""

    key: str
    interval: float
    tolerance: float


@dataclass(frozen=True)
class Permit:
    """A slot in a shared bucket: `at` is its instant on the database's clock, `wait` how long
    from the statement until it. `taken` is False when the bucket is held for longer than the
    caller would wait (a long Retry-After): nothing was reserved, and `wait` says how long."""

    at: float
    wait: float
    taken: bool = True


@dataclass(frozen=True)
class Permits:
    """A post's two permits taken together, and whether the write riding with them was made."""

    channel: Permit
    overall: Permit | None  # None: not taken (the bucket is held, or the channel's slot is
    # further off than the overall interval); the channel's slot is taken either way
    rode: bool


class PaceTable:
    """The `pace_buckets` rows, on a pool of autocommit connections of its own."""

    def __init__(self, engine: Engine, on_loop: OnLoop | None = None) -> None:
        # the same server and credentials as the store's engine; no pre-ping (a round trip on
        # every checkout) and no transaction: each permit is one statement, one round trip.
        # Two connections, and two more at a pinch: permits come here only when the loop's
        # own connections cannot take them (`on_loop`, a server restart) or there are none,
        # and every replica's connections count against the server's max_connections
        self.engine = create_engine(
            engine.url,
            isolation_level="AUTOCOMMIT",
            pool_size=2,
            max_overflow=2,
            pool_recycle=1800,
        )
        self.on_loop = on_loop

    async def reserve_on_loop(
        self, key: str, interval: float, tolerance: float, max_wait: float
    ) -> Permit | None:
        """`reserve`, awaited on the event loop (bot/store/on_loop.py); None when it did not
        run there, or the bucket is held (the caller then calls `reserve` on a thread)."""
        if self.on_loop is None:
            return None
        params = {"key": key, "interval": interval, "tolerance": tolerance, "max_wait": max_wait}
        done = await self.on_loop.execute(RESERVE_PREPARED, params)
        if done is None or not done.rows:
            return None
        return _permit(done.rows[0], interval, tolerance)

    async def reserve_both_on_loop(
        self,
        channel: Bucket,
        overall: Bucket,
        max_wait: float,
        rider: Rider | None = None,
    ) -> Permits | None:
        """A post's two permits, the channel's and the overall one, in one statement awaited
        on the loop; None when it did not run there or the channel is held (the caller then
        takes them one by one, as `reserve` on a thread). No overall slot is taken while the
        channel's is further off than the overall interval (`Permits.overall` is None: the
        caller takes it after that wait). `rider`: a write (an UPDATE's SQL, its parameters)
        made in the same statement when both slots are due at once, within the overall
        interval (`Permits.rode` says whether it was)."""
        if self.on_loop is None:
            return None
        sql = reserve_both_with(rider[0]) if rider else RESERVE_BOTH
        params: dict[str, Any] = {**rider[1]} if rider else {}
        params |= {
            "jitter": overall.interval,
            "key": channel.key,
            "interval": channel.interval,
            "tolerance": channel.tolerance,
            "overall_key": overall.key,
            "overall_interval": overall.interval,
            "overall_tolerance": overall.tolerance,
            "max_wait": max_wait,
        }
        done = await self.on_loop.execute(sql, params)
        if done is None or not done.rows:
            return None
        [(channel_tat, overall_tat, now, rode)] = done.rows
        if channel_tat is None:
            return None  # the channel is held: nothing was taken
        return Permits(
            _permit((channel_tat, now), channel.interval, channel.tolerance),
            None
            if overall_tat is None
            else _permit((overall_tat, now), overall.interval, overall.tolerance),
            bool(rode),
        )

    def reserve(self, key: str, interval: float, tolerance: float, max_wait: float) -> Permit:
        """Take the bucket's next slot unless it is further off than `max_wait`."""
        params = {"key": key, "interval": interval, "tolerance": tolerance, "max_wait": max_wait}
        raw = self.engine.raw_connection()  # autocommit, as the engine's every connection
        try:  # psycopg's own connection: its `execute` takes `prepare`
            driver: Any = raw.driver_connection
            row = driver.execute(RESERVE_PREPARED, params, prepare=True).fetchone()
        except Exception:
            if getattr(driver, "closed", False):  # the server went away: so do the others
                raw.invalidate()
                self.engine.pool.dispose()
            raise
        finally:
            raw.close()  # back to the pool (an invalidated one is discarded)
        if row is not None:
            return _permit(row, interval, tolerance)
        with self.engine.connect() as conn:
            held = conn.execute(PEEK, {"key": key}).one()
        at = held.tat - tolerance
        return Permit(at, max(at - held.now, 0.0), taken=False)

    def hold(self, key: str, seconds: float, tolerance: float) -> None:
        """The platform asked for a pause (Retry-After): no permit before it ends, anywhere."""
        with self.engine.connect() as conn:
            conn.execute(HOLD, {"key": key, "seconds": seconds, "tolerance": tolerance})

    def prune(self, idle: float) -> int:
        """Forget buckets unused for `idle` seconds (a channel posted to once a day)."""
        with self.engine.connect() as conn:
            return int(getattr(conn.execute(PRUNE, {"idle": idle}), "rowcount", 0) or 0)

    def close(self) -> None:
        self.engine.dispose()


def _permit(row: Any, interval: float, tolerance: float) -> Permit:
    """The slot a RESERVE statement's row (the new TAT, the server's now) stands for."""
    tat, now = row
    at = tat - interval - tolerance
    return Permit(at, max(at - now, 0.0))
