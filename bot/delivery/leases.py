"""One owner per delivery: leases on delivery rows, renewed together while their senders work.

A delivery row is claimed with a lease (`lease_owner`, `lease_until`). Its sender holds a
`Lease` while it sends; the `LeaseKeeper` renews every lease this process holds with one
statement, a few times per lease length, and reports a row another sender took meanwhile
as lost, so the sender stops. A sender that dies stops renewing, and its lease lapses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime, timedelta

from bot.ops.metrics import METRICS
from bot.store.async_store import AsyncStore

log = logging.getLogger(__name__)

# A sender that stops renewing for this long is presumed dead. Renewed every quarter of it
# (3 s), a lease lapses at most 12 s after its replica died, and the other replicas claim it
# at their next round (every second): a dead replica's deliveries resume within ~13 s. A live
# sender loses a row only if it cannot renew for 9 s on end (a stalled loop or database).
LEASE = timedelta(seconds=12)


class LeaseClock:
    """The engine's `now` moved on by the real time spent since, for lease deadlines.

    Decisions use the `now` a tick was given (tests drive it with a fake clock), but a lease
    must outlast the real seconds a send takes: both meet here."""

    def __init__(self, now: datetime) -> None:
        self.start, self._started = now, time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self._started)


class Lease:
    """This process's hold on one delivery row while it sends (see `LeaseKeeper`)."""

    def __init__(self, keeper: LeaseKeeper, delivery_id: int, clock: LeaseClock) -> None:
        self.keeper, self.delivery_id, self.clock = keeper, delivery_id, clock

    @property
    def lost(self) -> bool:
        return self.delivery_id in self.keeper.lost

    def until(self) -> datetime:
        return self.clock.now() + self.keeper.length

    async def __aenter__(self) -> Lease:
        self.keeper.hold(self.delivery_id, self.clock)
        return self

    async def __aexit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self.keeper.release(self.delivery_id)
        if kind is not None and issubclass(kind, Exception):
            # a failure we survived (say the database blipped): let the next tick resume it
            # now rather than after the lease lapses
            with contextlib.suppress(Exception):
                await self.keeper.store.release_lease(self.delivery_id, self.keeper.owner)


class LeaseKeeper:
    """Renews every lease this process holds with one statement, a few times per lease length.

    One UPDATE for all held rows keeps a rush of thousands of waiting deliveries from turning
    into thousands of renewals; rows another sender took meanwhile are reported as lost."""

    def __init__(self, store: AsyncStore, owner: str, length: timedelta) -> None:
        self.store, self.owner, self.length = store, owner, length
        self.held: dict[int, int] = {}
        self.lost: set[int] = set()
        self.clock = LeaseClock(datetime.now(UTC))
        self._task: asyncio.Task[None] | None = None

    def hold(self, delivery_id: int, clock: LeaseClock) -> None:
        self.clock = clock  # the engine's time (a test's fake clock, or the real one)
        self.held[delivery_id] = self.held.get(delivery_id, 0) + 1
        self.lost.discard(delivery_id)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._renew())

    def release(self, delivery_id: int) -> None:
        left = self.held.get(delivery_id, 0) - 1
        if left > 0:
            self.held[delivery_id] = left
        else:
            self.held.pop(delivery_id, None)

    async def _renew(self) -> None:
        every = max(self.length.total_seconds() / 4, 0.05)
        while self.held:
            await asyncio.sleep(every)
            ids = list(self.held)
            if not ids:
                return
            until = self.clock.now() + self.length
            try:
                kept = await self.store.renew_leases(ids, self.owner, until)
            except Exception as exc:
                log.warning("could not renew delivery leases: %s", type(exc).__name__)
                continue
            for delivery_id in set(ids) - kept:
                if delivery_id in self.held and delivery_id not in self.lost:
                    self.lost.add(delivery_id)
                    METRICS.leases_lost.inc()
                    log.error("lost the lease on digest %d; another sender took it", delivery_id)
