"""Calls in the same turn of the loop share one batch; a failure reaches each of its callers."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest

from bot.coalesce import Coalescer


def test_callers_in_one_turn_share_one_batch_and_later_ones_get_the_next() -> None:
    batches: list[list[int]] = []

    async def square(keys: list[int]) -> Mapping[int, int]:
        batches.append(keys)
        await asyncio.sleep(0.01)
        return {k: k * k for k in keys}

    coalescer: Coalescer[int, int] = Coalescer(square)

    async def main() -> tuple[list[int], int]:
        first = await asyncio.gather(*(coalescer.get(k) for k in (1, 2, 3, 2)))
        return first, await coalescer.get(4)

    assert asyncio.run(main()) == ([1, 4, 9, 4], 16)
    assert batches == [[1, 2, 3], [4]]  # a repeated key is asked once


def test_a_failed_batch_fails_each_caller_and_a_missing_key_is_an_error() -> None:
    async def broken(keys: list[int]) -> Mapping[int, int]:
        if 0 in keys:
            raise ConnectionError("database restarting")
        return {k: k for k in keys if k != 2}

    coalescer: Coalescer[int, int] = Coalescer(broken)

    async def main() -> list[BaseException | int]:
        failed = await asyncio.gather(coalescer.get(0), coalescer.get(1), return_exceptions=True)
        answered = await asyncio.gather(coalescer.get(1), coalescer.get(2), return_exceptions=True)
        return [*failed, *answered]

    zero, one, again, two = asyncio.run(main())
    assert isinstance(zero, ConnectionError) and isinstance(one, ConnectionError)
    assert again == 1 and isinstance(two, KeyError)


def test_a_cancelled_caller_does_not_cancel_the_batch_for_the_others() -> None:
    async def slow(keys: list[str]) -> Mapping[str, str]:
        await asyncio.sleep(0.05)
        return {k: k.upper() for k in keys}

    coalescer: Coalescer[str, str] = Coalescer(slow)

    async def main() -> str:
        impatient = asyncio.create_task(coalescer.get("a"))
        patient = asyncio.create_task(coalescer.get("a"))
        await asyncio.sleep(0.01)
        impatient.cancel()
        with pytest.raises(asyncio.CancelledError):
            await impatient
        return await patient

    assert asyncio.run(main()) == "A"
