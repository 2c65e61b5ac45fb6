"""Each stored article's digest, made once for every channel and process.

Hundreds of channels may want the same article's digest in the same minute. It is looked
up in memory, then in the database (another process may have made it), and only then
summarized — on the summarize workers, once, however many callers wait for it — and saved.
Digests never change once made, so a bounded in-process copy saves reloading them per
channel; an article that changes (a teaser that got its full text) is `forget`-ten.

The articles asked for in the same turn of the event loop (a claim round's deliveries start
together) are summarized in a few worker calls, each saved with one statement: a worker call
and a statement per article had cost the loop two wake-ups per channel in a rush (`make
bench`, replicas). A summarizer that waits on the network (an LLM) says `batch = 1`, the
default, and keeps one call per article, each caller answered as its own call ends.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

from bot import fastjson
from bot.coalesce import Coalescer
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

Made = Digest | Exception  # a digest, or why the article gave none (InputError) or could
# not be summarized


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
        # how many articles one worker call may summarize in a row (see the module)
        self.batch = max(int(getattr(summarizer, "batch", 1)), 1)
        self._queued: dict[int, Article] = {}  # asked this turn, for `_summarize_asked`
        self._summaries: Coalescer[int, Made] = Coalescer(self._summarize_asked)

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
        if self.batch == 1:  # one call an article, each caller answered when its own ends
            made = (await self._summarize_call([(article_id, article)]))[article_id]
        else:
            self._queued[article_id] = article
            made = await self._summaries.get(article_id)
        if isinstance(made, InputError):
            METRICS.articles_without_bullets.inc()
            log.warning("left article %d out of digests: %s", article_id, made.message)
            return None
        if isinstance(made, Exception):  # this article's own failure, not its batch's
            raise made
        return self._remember(article_id, made)

    async def _summarize_asked(self, article_ids: list[int]) -> dict[int, Made]:
        """The articles asked for this turn, at most `batch` to a worker call, each call's
        digests saved with one statement. Work that takes more than one a call is all CPU,
        which holds the interpreter's lock: spread over more workers, it would end no sooner."""
        asked = [(i, self._queued.pop(i)) for i in article_ids]  # each id once a turn
        calls = [asked[k : k + self.batch] for k in range(0, len(asked), self.batch)]
        made: dict[int, Made] = {}
        for done in await asyncio.gather(*(self._summarize_call(c) for c in calls)):
            made.update(done)
        return made

    async def _summarize_call(self, articles: list[tuple[int, Article]]) -> dict[int, Made]:
        # on a server database the summarize worker also turns each digest into the JSON text
        # that is stored, and the loop stores them with one statement (bot/store/on_loop.py);
        # SQLite's one writer stores them on its own thread
        encode = self.store.sync.on_loop is not None
        try:
            done = await self.store.workers.summarize(self._summarize, articles, encode)
        except Exception as exc:  # the call's own articles fail with it, no other call's
            return {i: exc for i, _ in articles}
        try:
            await self.store.save_digests(
                [(i, d, text) for i, (d, text) in done.items() if isinstance(d, Digest)]
            )
        except Exception as exc:  # a cache: the digests stand, the next process makes them
            log.warning("could not save %d digests: %s", len(done), type(exc).__name__)
        return {i: d for i, (d, _) in done.items()}

    def _summarize(
        self, articles: list[tuple[int, Article]], encode: bool
    ) -> dict[int, tuple[Made, str | None]]:
        """(On a summarize worker.) Each article's digest, or the InputError that says why it
        has none; with `encode`, each digest as the JSON text it is stored as too."""
        done: dict[int, tuple[Made, str | None]] = {}
        for article_id, article in articles:
            started = time.perf_counter()
            try:
                digest = summarize_article(
                    article, self.summarizer, self.summary_bullets, self.section_bullets
                )
                text = fastjson.dumps(digest_to_dict(digest)) if encode else None
            except Exception as exc:  # its caller's alone: the others' digests stand
                done[article_id] = (exc, None)
                continue
            METRICS.summarizer_seconds.observe(time.perf_counter() - started)
            self.summarized += 1
            done[article_id] = (digest, text)
        return done

    def _remember(self, article_id: int, digest: Digest) -> Digest:
        if len(self._digests) >= self.size:
            self._digests.pop(next(iter(self._digests)), None)
        self._digests[article_id] = digest
        return digest
