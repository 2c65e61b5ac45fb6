"""One piece of async work per key at a time: whoever asks while it runs awaits the same result.

Used where many callers want the same thing at the same moment (hundreds of channels the
same article's digest, two feeds the same article page, every 08:00 cron job a poll): it is
done once, and a caller that gives up (cancelled) does not cancel it for the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    def __init__(self) -> None:
        self._running: dict[K, asyncio.Future[V]] = {}

    async def run(self, key: K, work: Callable[[], Awaitable[V]]) -> V:
        running = self._running.get(key)
        if running is None:
            running = asyncio.ensure_future(work())
            self._running[key] = running
            running.add_done_callback(lambda _done: self._running.pop(key, None))
        return await asyncio.shield(running)
