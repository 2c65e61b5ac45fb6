"""Each stored article's digest, made once for every channel and process.

Hundreds of channels may want the same article's digest in the same minute. It is looked
up in memory, then in the database (another process may have made it), and only then
summarized — on the summarize workers, once, however many callers wait for it — and saved.
Digests never change once made, so a bounded in-process copy saves reloading them per
channel; an article that changes (a teaser that got its full text) is `forget`-ten.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

from bot.digest.article_digest import summarize_article
from bot.errors import InputError
from bot.models import Article, Digest
from bot.ops.metrics import METRICS
from bot.singleflight import SingleFlight
from bot.store.async_store import AsyncStore
from bot.store.codec import digest_from_dict, digest_to_dict
from bot.summarize.base import DEFAULT_SECTION_BULLETS, DEFAULT_SUMMARY_BULLETS, Summarizer

log = logging.getLogger(__name__)

CACHE_SIZE = 2000


class DigestCache:
    def __init__(
        self,
        store: AsyncStore,
        summarizer: Summarizer,
        summary_bullets: int = DEFAULT_SUMMARY_BULLETS,
        section_bullets: int = DEFAULT_SECTION_BULLETS,
        size: int = CACHE_SIZE,
    ) -> None:
        self.store = store
        self.summarizer = summarizer
        self.summary_bullets = summary_bullets
        self.section_bullets = section_bullets
        self.size = size
        self.summarized = 0  # articles this process summarized (not found made)
        self._digests: dict[int, Digest] = {}
        self._making: SingleFlight[int, Digest | None] = SingleFlight()

    async def get(
        self,
        article_id: int,
        article: Article | None = None,
        stored: dict[str, Any] | None = None,
    ) -> Digest | None:
        """The article's digest; None when the article is gone or has no sentence. A caller
        that read the article already passes it, with the digest stored with it if any (as
        stored), and saves this cache a read."""
        known = self._digests.get(article_id)
        if known is not None:
            return known
        return await self._making.run(article_id, lambda: self._make(article_id, article, stored))

    async def get_many(self, article_ids: Sequence[int]) -> list[Digest]:
        """The digests of these articles, in order, leaving out those that have none."""
        made = await asyncio.gather(*(self.get(i) for i in article_ids))
        return [d for d in made if d is not None]

    def forget(self, article_id: int) -> None:
        """The article changed (a teaser got its full text): its digest is made again."""
        self._digests.pop(article_id, None)

    async def _make(
        self, article_id: int, article: Article | None, stored: dict[str, Any] | None
    ) -> Digest | None:
        """Database work on the database workers, summarizing on the summarize workers: with
        SQLite one writer thread means no lock contention (and no busy-wait sleeps)."""
        if article is None:
            article, cached = await self.store.article_and_digest(article_id)  # one read
        else:
            cached = digest_from_dict(article, stored) if stored else None
        if cached is not None:
            return self._remember(article_id, cached)
        if article is None or not article.has_sentences:
            return None
        # on a server database the summarize worker also turns the digest into what is stored,
        # and the loop stores it with one statement of its own (bot/store/on_loop.py); SQLite's
        # one writer stores it on its own thread
        shared = self.store.sync.on_loop is not None
        try:
            digest, stored = await self.store.workers.summarize(self._summarize, article, shared)
        except InputError as exc:
            METRICS.articles_without_bullets.inc()
            log.warning("left article %d out of digests: %s", article_id, exc.message)
            return None
        await self.store.save_digest(article_id, digest, stored)
        return self._remember(article_id, digest)

    def _summarize(self, article: Article, convert: bool) -> tuple[Digest, dict[str, Any] | None]:
        """(On a summarize worker.) With `convert`, the digest as it is stored too."""
        started = time.perf_counter()
        digest = summarize_article(
            article, self.summarizer, self.summary_bullets, self.section_bullets
        )
        METRICS.summarizer_seconds.observe(time.perf_counter() - started)
        self.summarized += 1
        return digest, digest_to_dict(digest) if convert else None

    def _remember(self, article_id: int, digest: Digest) -> Digest:
        if len(self._digests) >= self.size:
            self._digests.pop(next(iter(self._digests)), None)
        self._digests[article_id] = digest
        return digest
