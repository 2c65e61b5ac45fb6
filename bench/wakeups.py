"""What waking up costs on this machine: the CPU of a trip to a worker thread, of a sleep, and
of one database statement run on a thread or awaited on the event loop.

A channel's digest is mostly waiting (for the database, the platform, its pacing slot), and
every wait ends in a wake-up: a database worker woken for a statement, the event loop woken
by the answer, a paced post woken when its slot comes. On a virtual machine an idle CPU that
wakes may cost far more than the Python that then runs; this measures it, in the same run as
a pure-Python baseline, so that the replicas' CPU per channel digest can be read against it.
Process CPU (user + system, all threads) per operation:

    python -m bench.wakeups
"""

from __future__ import annotations

import asyncio
import resource
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
from sqlalchemy import create_engine

from bench.replicas import postgres
from bot.store.db import normalize_url
from bot.store.on_loop import OnLoop


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def worker_trips(count: int) -> float:
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(8) as pool:
        await loop.run_in_executor(pool, int)
        started = cpu()
        for _ in range(count):
            await loop.run_in_executor(pool, int)
        return (cpu() - started) / count


async def sleeps(count: int, seconds: float) -> float:
    started = cpu()
    for _ in range(count):
        await asyncio.sleep(seconds)
    return (cpu() - started) / count


STATEMENT = "SELECT %(n)s::int + 1"  # one prepared statement, next to no server work


async def statements_on_threads(url: str, count: int) -> float:
    """The statement on a database thread, as `Workers.db` runs one (a connection each)."""
    loop = asyncio.get_running_loop()
    local = threading.local()

    def run(n: int) -> object:
        if not hasattr(local, "conn"):
            local.conn = psycopg.connect(url, autocommit=True)
        return local.conn.execute(STATEMENT, {"n": n}, prepare=True).fetchone()

    with ThreadPoolExecutor(8) as pool:
        await asyncio.gather(*(loop.run_in_executor(pool, run, n) for n in range(50)))
        started = cpu()
        for _ in range(count // 50):  # fifty at once, as the posts of a rush
            await asyncio.gather(*(loop.run_in_executor(pool, run, n) for n in range(50)))
        return (cpu() - started) / count


async def statements_on_the_loop(url: str, count: int) -> float:
    """The statement awaited on the loop's own connections (bot/store/on_loop.py)."""
    engine = create_engine(normalize_url(url))
    on_loop = OnLoop(engine, size=8)

    async def run(n: int) -> object:
        return await on_loop.execute(STATEMENT, {"n": n})

    await asyncio.gather(*(run(n) for n in range(50)))
    started = cpu()
    for _ in range(count // 50):
        await asyncio.gather(*(run(n) for n in range(50)))
    spent = (cpu() - started) / count
    on_loop.close()
    engine.dispose()
    return spent


def python_baseline(count: int) -> float:
    """A small pure-Python job (a thousand-item sum), for scale."""
    started = cpu()
    for _ in range(count):
        sum(range(1000))
    return (cpu() - started) / count


def main() -> int:
    rows = [
        ("pure Python: sum(range(1000)), for scale", python_baseline(20_000)),
        ("a trip to a worker thread and back (no work)", asyncio.run(worker_trips(3000))),
        ("an event-loop sleep of 1 ms", asyncio.run(sleeps(1000, 0.001))),
        ("an event-loop sleep of 10 ms", asyncio.run(sleeps(200, 0.01))),
    ]
    with postgres() as url:  # a throwaway server (or NEWSDIGEST_BENCH_DATABASE_URL)
        rows += [
            (
                "a statement on a database thread (50 at once)",
                asyncio.run(statements_on_threads(url, 3000)),
            ),
            (
                "the same awaited on the event loop (50 at once)",
                asyncio.run(statements_on_the_loop(url, 3000)),
            ),
        ]
    base = rows[0][1]
    print("Wake-ups on this machine: process CPU per operation (ratio to the baseline)")
    for label, seconds in rows:
        print(f"  {label:50} {1e6 * seconds:7.1f} us  ({seconds / base:5.1f}x)")
    wall = time.perf_counter()
    asyncio.run(sleeps(100, 0.01))
    print(f"  (100 sleeps of 10 ms took {time.perf_counter() - wall:.2f} s of wall time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
