"""Each stored article's digest is made once, however many callers ask at the same moment."""

from __future__ import annotations

import asyncio

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
