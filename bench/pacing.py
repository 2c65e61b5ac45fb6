"""Pacing shared through PostgreSQL against pacing in memory: what a permit costs, and whether
three replicas together keep to a platform's overall limit.

    python -m bench.pacing     (PostgreSQL: NEWSDIGEST_BENCH_DATABASE_URL, else
                                NEWSDIGEST_TEST_DATABASE_URL, else a throwaway server started
                                with scripts/pg-test-server; skipped when there is none)

Everything is measured in one run, so the ratios hold on any machine:
- one statement: a permit as one autocommit upsert on the pacer's own pool, against the same
  upsert in a transaction on the store's engine (which pings on checkout);
- added latency: one sender taking its slots (channel and overall) one after another at a rate that never makes it
  wait (what pacing adds to a post that has its slot at once), shared against in memory;
- capacity: 50 waiters in one process at that rate, permits/s;
- three replicas (processes) asking for permits as fast as they can at Discord's 50/s: the
  rate they got together (from the permits' instants), shared against each pacing alone.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from bot.delivery.pacing import DISCORD_LIMITS, PaceLimits, Pacer, SharedPacer
from bot.store.db import normalize_url
from bot.store.pacing import RESERVE, PaceTable, Permit
from bot.store.repo import Store
from bot.wiring import database_threads
from bot.workers import Workers

ROOT = Path(__file__).resolve().parents[1]
UNBOUND = PaceLimits(per_channel_rate=1e6, per_channel_burst=1, global_rate=1e6)
SERIAL = 2000  # permits taken one after another
CONCURRENT = (50, 40)  # waiters, permits each
REPLICAS, PER_REPLICA = 3, 60  # at Discord's 50/s: 180 permits, about 3.7 s when shared


@contextmanager
def postgresql() -> Iterator[str | None]:
    url = os.environ.get("NEWSDIGEST_BENCH_DATABASE_URL") or os.environ.get(
        "NEWSDIGEST_TEST_DATABASE_URL"
    )
    if url:
        yield url
        return
    env = {**os.environ, "NEWSDIGEST_PG_PORT": "54338", "NEWSDIGEST_PG_DIR": "/tmp/nd-bench-pg"}
    server = ROOT / "scripts" / "pg-test-server"
    try:
        started = subprocess.run(
            [str(server), "start"], env=env, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        yield None
        return
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run([str(server), "stop"], env=env, check=False)


@contextmanager
def fresh_database(url: str) -> Iterator[str]:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalize_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{url.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def per_call(fn: Callable[[], object], n: int) -> float:
    for _ in range(100):
        fn()
    started = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - started) / n


def statements(store: Store) -> tuple[float, float]:
    table = PaceTable(store.engine)
    params = {"key": "bench:tx", "interval": 1e-6, "tolerance": 0.0, "max_wait": 60.0}

    def in_transaction() -> None:
        with store.engine.begin() as conn:
            conn.execute(RESERVE, params).one()

    own = per_call(lambda: table.reserve("bench:own", 1e-6, 0.0, 60.0), SERIAL)
    table.close()
    return own, per_call(in_transaction, SERIAL)


def pacers(store: Store, workers: Workers, scope: str) -> tuple[Pacer, SharedPacer]:
    return Pacer(UNBOUND), SharedPacer(UNBOUND, PaceTable(store.engine), workers.db, scope)


async def serial(pacer: Pacer) -> float:
    """Per post: the channel's bucket and the overall one, as a digest part takes them."""
    for n in range(50):
        await pacer.wait(f"warm{n}")
    started = time.perf_counter()
    for n in range(SERIAL):
        await pacer.wait(f"C{n}")
    return (time.perf_counter() - started) / SERIAL


async def concurrent(pacer: Pacer) -> float:
    waiters, each = CONCURRENT

    async def waiter() -> None:
        for _ in range(each):
            await pacer.wait_overall()

    started = time.perf_counter()
    await asyncio.gather(*(waiter() for _ in range(waiters)))
    return waiters * each / (time.perf_counter() - started)


class Instants(PaceTable):
    """Keeps the instants of the overall permits it handed out."""

    def __init__(self, store: Store) -> None:
        super().__init__(store.engine)
        self.instants: list[float] = []

    def reserve(self, key: str, interval: float, tolerance: float, max_wait: float) -> Permit:
        permit = super().reserve(key, interval, tolerance, max_wait)
        if key.endswith(":*"):
            self.instants.append(permit.at)
        return permit


def replica(url: str, shared: bool, out: multiprocessing.Queue[list[float]]) -> None:
    """One replica: PER_REPLICA permits as fast as its pacer gives them; the instants back."""
    store = Store.open(url, run_migrations=False)
    workers = Workers(database=database_threads(store))
    table = Instants(store)
    pacer = (
        SharedPacer(DISCORD_LIMITS, table, workers.db, "replicas")
        if shared
        else Pacer(DISCORD_LIMITS)
    )

    async def run() -> list[float]:
        sent = []
        for n in range(PER_REPLICA):
            await pacer.wait(f"C{os.getpid()}-{n}")
            sent.append(time.time())
        return sent

    sent = asyncio.run(run())
    out.put(table.instants if shared else sent)
    table.close()
    workers.close()
    store.engine.dispose()


def together(url: str, shared: bool) -> float:
    """Permits a second that REPLICAS processes got together."""
    context = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue[list[float]] = context.Queue()
    processes = [context.Process(target=replica, args=(url, shared, out)) for _ in range(REPLICAS)]
    for process in processes:
        process.start()
    instants = sorted(t for _ in processes for t in out.get(timeout=120))
    for process in processes:
        process.join()
    return (len(instants) - 1) / (instants[-1] - instants[0])


def main() -> int:
    with postgresql() as server:
        if server is None:
            print("Pacing: skipped (no PostgreSQL: set NEWSDIGEST_BENCH_DATABASE_URL)")
            return 0
        with fresh_database(server) as url:
            report(url)
    return 0


def number(x: float) -> str:
    return f"{x:,.0f}" if x >= 1000 else f"{x:.3g}"


def report(url: str) -> None:
    store = Store.open(url)
    workers = Workers(database=database_threads(store))
    own, in_tx = statements(store)
    local, shared = pacers(store, workers, "serial")
    local_serial = asyncio.run(serial(local))
    shared_serial = asyncio.run(serial(shared))
    local, shared = pacers(store, workers, "concurrent")
    local_rate = asyncio.run(concurrent(local))
    shared_rate = asyncio.run(concurrent(shared))
    limit = DISCORD_LIMITS.global_rate
    alone = together(url, False)
    joint = together(url, True)
    workers.close()
    store.engine.dispose()
    print("Pacing: a permit shared through PostgreSQL (one row per bucket) against in memory")
    print(f"{'measure':<50}{'shared':>10}{'in memory':>11}{'ratio':>8}")
    rows = [
        ("added latency per post (two buckets), ms", shared_serial * 1e3, local_serial * 1e3),
        (f"capacity, {CONCURRENT[0]} waiters, permits/s", shared_rate, local_rate),
        (f"{REPLICAS} replicas at {limit:.0f}/s: posts/s together", joint, alone),
    ]
    for name, a, b in rows:
        print(f"{name:<50}{number(a):>10}{number(b):>11}{number(a / b):>8}")
    print(
        f"one permit statement: {own * 1e3:.3f} ms on the pacer's autocommit pool, "
        f"{in_tx * 1e3:.3f} ms in a transaction with a checkout ping ({in_tx / own:.1f}x)"
    )
    print(
        f"limit kept by {REPLICAS} replicas together: shared {joint:.1f}/s <= {limit:.0f}/s "
        f"{'yes' if joint <= limit else 'NO'}; each pacing alone {alone / limit:.1f}x the limit"
    )


if __name__ == "__main__":
    sys.exit(main())
