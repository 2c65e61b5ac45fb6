"""Where slow work runs, so the one event loop stays free for every platform connection.

Slack fails a slash command not acknowledged within 3 s and Discord drops a
gateway whose heartbeats stall, and both travel on the loop that also serves
/healthz. So summarizing (CPU for the extractive summarizer, seconds of network
wait for an LLM) and database calls run in bounded thread pools: the loop only
awaits them. The extractive summarizer holds the GIL while it works, but only in
slices of a few milliseconds (the interpreter's switch interval), which the loop
gets back between; an LLM call releases it entirely while it waits.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class Workers:
    def __init__(self, summarize: int = 4, database: int = 8) -> None:
        self.summarize_limit = max(summarize, 1)
        self._summarize = ThreadPoolExecutor(self.summarize_limit, thread_name_prefix="summarize")
        self._database = ThreadPoolExecutor(max(database, 1), thread_name_prefix="database")

    async def summarize(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._run(self._summarize, fn, *args, **kwargs)

    async def db(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._run(self._database, fn, *args, **kwargs)

    @staticmethod
    async def _run(
        pool: ThreadPoolExecutor, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()  # the work in hand's language goes with it
        return await loop.run_in_executor(pool, functools.partial(context.run, fn, *args, **kwargs))

    def close(self) -> None:
        self._summarize.shutdown(wait=False, cancel_futures=True)
        self._database.shutdown(wait=False, cancel_futures=True)
