"""One piece of work per key at a time; a caller that gives up does not cancel it for others."""

from __future__ import annotations

import asyncio

from bot.singleflight import SingleFlight


def test_callers_share_one_run_and_a_cancelled_caller_cancels_nothing() -> None:
    flight: SingleFlight[str, int] = SingleFlight()
    runs = 0

    async def work() -> int:
        nonlocal runs
        runs += 1
        await asyncio.sleep(0.05)
        return 42

    async def main() -> list[int]:
        impatient = asyncio.create_task(flight.run("k", work))
        await asyncio.sleep(0.01)
        others = [asyncio.create_task(flight.run("k", work)) for _ in range(3)]
        impatient.cancel()
        done = await asyncio.gather(*others)
        again = await flight.run("k", work)  # after it finished: a new run
        return [*done, again]

    assert asyncio.run(main()) == [42, 42, 42, 42]
    assert runs == 2
