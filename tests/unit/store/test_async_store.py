"""The store's async face: the same methods, awaited, run on the database workers."""

from __future__ import annotations

import asyncio
import threading

from bot.store.async_store import AsyncStore
from bot.store.repo import Store
from bot.workers import Workers


class CountingStore(Store):
    """A subclass's own methods are the ones called (the test doubles rely on it)."""

    threads: list[str]

    def channels(self, platform: str | None = None):  # type: ignore[no-untyped-def]
        self.threads.append(threading.current_thread().name)
        return super().channels(platform)


def test_calls_run_on_database_threads_and_reach_overrides(store: Store) -> None:
    counting = CountingStore(store.engine)
    counting.threads = []
    workers = Workers(summarize=1, database=2)
    async_store = AsyncStore(counting, workers)

    async def main() -> None:
        channel = await async_store.channel("slack", "C1")
        assert channel is not None
        await async_store.set_channel_settings(channel.id, articles_per_digest=4)
        assert (await async_store.channel_settings(channel.id)).articles_per_digest == 4
        assert [c.id for c in await async_store.channels()] == [channel.id]

    try:
        asyncio.run(main())
    finally:
        workers.close()
    assert counting.threads and all(t.startswith("database") for t in counting.threads)
