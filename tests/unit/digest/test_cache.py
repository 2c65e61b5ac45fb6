"""Each stored article's digest is made once, however many callers ask at the same moment."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from support.paths import EXAMPLE

from bot.delivery.polling import content_hash
from bot.digest.cache import DigestCache
from bot.digest.sections import build_article
from bot.ingest.plaintext import parse_plaintext
from bot.models import Article, Digest
from bot.store.async_store import AsyncStore
from bot.store.repo import Store
from bot.summarize.extractive import ExtractiveSummarizer
from bot.workers import Workers


class CountingSummarizer(ExtractiveSummarizer):
    """Counts its own calls (per instance, so parametrized runs do not add up)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def summarize(
        self, article: Article, summary_bullets: int = 3, section_bullets: int = 3
    ) -> Digest:
        self.calls += 1
        return super().summarize(article, summary_bullets, section_bullets)


def test_made_once_saved_for_other_processes_and_forgotten_on_change(store: Store) -> None:
    article = build_article(parse_plaintext(EXAMPLE.read_text(), str(EXAMPLE)))
    source = store.source("https://example.org/feed")
    article_id, _ = store.add_article(source.id, article, ["k"], content_hash(article), None)
    workers = Workers(summarize=2, database=1)
    summarizer = CountingSummarizer()
    cache = DigestCache(AsyncStore(store, workers), summarizer)

    async def main() -> None:
        made = await asyncio.gather(*(cache.get(article_id) for _ in range(20)))
        assert all(d is not None and d is made[0] for d in made)
        assert summarizer.calls == 1
        assert store.cached_digest(article_id) is not None  # another process finds it saved
        other = DigestCache(AsyncStore(store, workers), summarizer)
        assert await other.get(article_id) is not None and summarizer.calls == 1
        cache.forget(article_id)
        assert await cache.get(article_id) is not None  # reloaded from the database
        assert await cache.get(99999) is None
        assert await cache.get_many([article_id, 99999]) == [made[0]]

    try:
        asyncio.run(main())
    finally:
        workers.close()


class CountingWorkers(Workers):
    """Counts the calls made to the summarize workers."""

    def __init__(self) -> None:
        super().__init__(summarize=2, database=1)
        self.summarize_calls = 0

    async def summarize(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        self.summarize_calls += 1
        return await super().summarize(fn, *args, **kwargs)


class Breaking(ExtractiveSummarizer):
    """Fails on one article only; takes `batch` articles a worker call."""

    def __init__(self, batch: int, breaks_on: str) -> None:
        super().__init__()
        self.batch, self.breaks_on = batch, breaks_on

    def summarize(
        self, article: Article, summary_bullets: int = 3, section_bullets: int = 3
    ) -> Digest:
        if article.title == self.breaks_on:
            raise RuntimeError("the summarizer broke on this one")
        return super().summarize(article, summary_bullets, section_bullets)


@pytest.mark.parametrize(("batch", "worker_calls"), [(3, 3), (1, 7)])
def test_articles_asked_together_share_worker_calls_and_one_failure_stays_its_own(
    store: Store, batch: int, worker_calls: int
) -> None:
    """Seven articles asked in one turn: at most `batch` a worker call (3 + 3 + 1), or one
    call each for a summarizer that takes one at a time (an LLM). The article the
    summarizer breaks on fails its own caller only; every other digest is made and saved."""
    base = build_article(parse_plaintext(EXAMPLE.read_text(), str(EXAMPLE)))
    source = store.source("https://example.org/feed")
    ids, articles = [], []
    for n in range(7):
        articles.append(replace(base, title=f"Story {n}"))
        ids.append(store.add_article(source.id, articles[-1], [f"k{n}"], f"h{n}", None)[0])
    workers = CountingWorkers()
    cache = DigestCache(AsyncStore(store, workers), Breaking(batch, "Story 4"))

    async def main() -> list[Any]:
        # as a claim round's deliveries ask, with the articles they read already
        asked = (cache.get(i, a) for i, a in zip(ids, articles, strict=True))
        return await asyncio.gather(*asked, return_exceptions=True)

    try:
        made = asyncio.run(main())
    finally:
        workers.close()
    assert workers.summarize_calls == worker_calls
    assert isinstance(made[4], RuntimeError)
    for n, article_id in enumerate(ids):
        if n != 4:
            assert isinstance(made[n], Digest)
            assert store.cached_digest(article_id) == made[n]  # saved, as made
    assert store.cached_digest(ids[4]) is None
