"""Calls made in the same turn of the event loop share one batched call.

A claim round starts many deliveries at once, and each first reads what it needs from the
database. Answered one by one, that is a worker-thread hop, a connection checkout and a few
statements per delivery; asked together, it is one of each for the whole round. Whoever
asks in the same turn waits for the same batch; a caller that gives up (cancelled) does not
cancel it for the others, and a failed batch fails each of its callers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Coalescer(Generic[K, V]):
    def __init__(self, batch: Callable[[list[K]], Awaitable[Mapping[K, V]]]) -> None:
        """`batch` answers a list of keys with a mapping that holds every one of them."""
        self.batch = batch
        self._waiting: dict[K, asyncio.Future[V]] = {}

    async def get(self, key: K) -> V:
        waiting = self._waiting.get(key)
        if waiting is None:
            loop = asyncio.get_running_loop()
            if not self._waiting:  # the first key of this turn: the batch goes after it
                loop.call_soon(self._flush)
            waiting = self._waiting[key] = loop.create_future()
        return await asyncio.shield(waiting)

    def _flush(self) -> None:
        waiting, self._waiting = self._waiting, {}
        task = asyncio.ensure_future(self._answer(waiting))
        task.add_done_callback(lambda done: done.exception() if not done.cancelled() else None)

    async def _answer(self, waiting: dict[K, asyncio.Future[V]]) -> None:
        try:
            found = await self.batch(list(waiting))
        except Exception as exc:
            for future in waiting.values():
                if not future.done():
                    future.set_exception(exc)
            return
        except BaseException:  # cancelled (the loop is stopping): so are its callers
            for future in waiting.values():
                future.cancel()
            raise
        for key, future in waiting.items():
            if not future.done():
                if key in found:
                    future.set_result(found[key])
                else:
                    future.set_exception(KeyError(key))
