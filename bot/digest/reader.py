"""Reading a source (path, URL, feed, stdin) into articles and digests, with one configuration.

The command line calls the blocking methods from its main thread; chat lookups await
`newest_digest` on the bot's event loop, where fetching waits on the loop and parsing and
summarizing run on worker threads (never a second event loop inside a worker).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ParamSpec, Protocol, TypeVar

from bot.digest.article_digest import summarize_article
from bot.digest.sections import build_article
from bot.errors import InputError
from bot.i18n import N_, _
from bot.ingest import read_source
from bot.models import Article, Digest, Document
from bot.summarize.base import DEFAULT_SECTION_BULLETS, DEFAULT_SUMMARY_BULLETS, Summarizer

if TYPE_CHECKING:  # fetching (httpx) loads only when a URL is read
    from bot.ingest.fetch import FetchOptions
    from bot.ingest.teasers import PageReader

P = ParamSpec("P")
T = TypeVar("T")
Progress = Callable[[int], Callable[[], None]]


class Offload(Protocol):
    """Runs blocking work off the event loop: `asyncio.to_thread`, or the bot's workers."""

    def __call__(
        self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> Awaitable[T]: ...


@dataclass(frozen=True)
class Skipped:
    """A feed item that could not be digested, and why: the others go on without it."""

    title: str
    reason: str


class SourceReader:
    def __init__(
        self,
        summarizer: Summarizer,
        fetch: FetchOptions | None = None,
        pages: Callable[[], PageReader] | None = None,
        follow_deadline: float = 60.0,
        summary_bullets: int = DEFAULT_SUMMARY_BULLETS,
        section_bullets: int = DEFAULT_SECTION_BULLETS,
        offload: Offload | None = None,
    ) -> None:
        """`pages` gives the polite page reader for a feed's teaser items (None: never follow);
        `offload` runs blocking work (parsing, summarizing) off the event loop."""
        self.summarizer = summarizer
        self.fetch = fetch
        self.pages = pages
        self.follow_deadline = follow_deadline
        self.summary_bullets = summary_bullets
        self.section_bullets = section_bullets
        self._offload: Offload = offload or asyncio.to_thread
        self.skipped: list[Skipped] = []

    async def read_documents(
        self,
        source: str,
        follow: bool = True,
        limit: int | None = None,
        progress: Progress | None = None,
    ) -> list[Document]:
        """A source's documents; a feed's teaser items replaced by their articles when `follow`."""
        from bot.ingest.teasers import followable, is_teaser, read_teaser_articles, teaser_only

        docs = (await read_source(source, self.fetch))[:limit]
        if not (follow and self.pages is not None and _is_feed(docs)):
            return docs
        wanted = sum(1 for d in docs if followable(d) and is_teaser(d))
        if not wanted:
            return docs
        advance = progress(wanted) if progress else None
        done = await read_teaser_articles(
            docs, self.pages(), len(docs), self.follow_deadline, advance
        )
        return [
            d if d is not None else teaser_only(o, N_("ran out of time"))
            for d, o in zip(done, docs, strict=True)
        ]

    def documents(
        self,
        source: str,
        follow: bool = True,
        limit: int | None = None,
        progress: Progress | None = None,
    ) -> list[Document]:
        """Blocking, for the command line's main thread."""
        return asyncio.run(self.read_documents(source, follow, limit, progress))

    def articles(self, source: str, follow: bool = True) -> list[Article]:
        return [build_article(doc) for doc in self.documents(source, follow)]

    def digests(
        self,
        source: str,
        summary_bullets: int | None = None,
        section_bullets: int | None = None,
        follow: bool = True,
        limit: int | None = None,
        progress: Progress | None = None,
    ) -> list[Digest]:
        """Blocking: one digest per item; an item with no readable sentence is skipped (see
        `skipped`), unless it is the only one."""
        docs = self.documents(source, follow, limit, progress)
        digests, self.skipped = self._digests(docs, summary_bullets, section_bullets)
        return digests

    async def newest_digest(self, source: str) -> Digest:
        """For chat lookups: a feed's newest entry, or the single article of a page."""
        docs = await self.read_documents(source, limit=1)
        digests, _skipped = await self._offload(self._digests, docs, None, None)
        return digests[0]

    def _digests(
        self,
        docs: list[Document],
        summary_bullets: int | None,
        section_bullets: int | None,
    ) -> tuple[list[Digest], list[Skipped]]:
        digests, skipped = [], []
        for doc in docs:
            try:
                digests.append(
                    summarize_article(
                        build_article(doc),
                        self.summarizer,
                        summary_bullets or self.summary_bullets,
                        section_bullets or self.section_bullets,
                    )
                )
            except InputError as exc:
                if len(docs) == 1:
                    raise
                skipped.append(Skipped(doc.title, exc.message))
        if not digests:
            raise InputError(_("No article text found in any item of the feed."))
        return digests, skipped


def _is_feed(docs: list[Document]) -> bool:
    return len(docs) > 1 or any(d.guid for d in docs)
