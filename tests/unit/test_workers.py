"""Worker pools: slow work runs off the event loop, bounded, while the loop stays free."""

from __future__ import annotations

import asyncio
import threading
import time

from bot.workers import Workers


def test_work_runs_on_its_pool_and_the_loop_stays_free() -> None:
    workers = Workers(summarize=2, database=1)
    seen: list[str] = []
    running = 0
    most = 0
    lock = threading.Lock()

    def slow(name: str) -> str:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        seen.append(threading.current_thread().name)
        return name

    async def main() -> tuple[list[str], int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.005)

        beat = asyncio.create_task(ticker())
        done = await asyncio.gather(*(workers.summarize(slow, f"a{i}") for i in range(4)))
        beat.cancel()
        return list(done), ticks

    try:
        results, ticks = asyncio.run(main())
    finally:
        workers.close()
    assert results == ["a0", "a1", "a2", "a3"]  # in order, whatever ran first
    assert most <= 2  # bounded by the pool
    assert all(name.startswith("summarize") for name in seen)
    assert ticks >= 5  # the loop kept running while the work waited


def test_database_work_has_its_own_pool() -> None:
    workers = Workers(summarize=1, database=1)
    try:
        name = asyncio.run(workers.db(lambda: threading.current_thread().name))
    finally:
        workers.close()
    assert name.startswith("database")
