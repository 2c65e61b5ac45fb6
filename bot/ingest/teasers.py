"""The article behind a feed item: most feeds carry a teaser, and a digest of a teaser is no digest.

A feed item whose own text is a teaser (short, or a single paragraph) has its
link fetched through the guarded, polite fetcher (robots.txt first) and the
page's extracted article replaces it; the feed keeps what the page lacks (title,
time, GUID, author). When the page cannot be had, or holds no more text than the
teaser (paywalls, consent walls), the teaser is kept and marked `teaser`, with
the reason, so one bad link never spoils the other items.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from bot.errors import FetchError, InputError
from bot.i18n import N_
from bot.ingest.cleanup import title_without_site
from bot.ingest.fetch import FetchOptions, allowed_by_robots, fetch
from bot.ingest.urls import canonical_url
from bot.models import BlockKind, Document
from bot.singleflight import SingleFlight
from bot.text.words import word_count

log = logging.getLogger(__name__)

TEASER_WORDS = 150  # fewer words than this is a teaser, whatever its structure
SINGLE_PARAGRAPH_WORDS = 400  # one paragraph shorter than this is a teaser too
MORE_THAN_TEASER = 1.3  # a page must carry this much more text than the teaser to replace it


def paragraph_words(doc: Document) -> tuple[int, int]:
    """(paragraphs, words) of a document's body."""
    paragraphs = [b for b in doc.blocks if b.kind is BlockKind.PARAGRAPH and b.text.strip()]
    return len(paragraphs), sum(word_count(b.text) for b in paragraphs)


def is_teaser(doc: Document) -> bool:
    """Decided from the text alone: full-content feeds keep their own text."""
    paragraphs, words = paragraph_words(doc)
    return words < TEASER_WORDS or (paragraphs <= 1 and words < SINGLE_PARAGRAPH_WORDS)


def followable(doc: Document) -> bool:
    return bool(doc.url) and str(doc.url).lower().startswith(("http://", "https://"))


def merge_page(item: Document, page: Document) -> Document:
    """The page's body with the feed's metadata wherever the page has none. The feed's date
    decides what is new: a page's date never makes a dated feed item old, and a date printed
    without a year ("04/23 06:41") is never taken over a real one."""
    return Document(
        title=title_without_site(
            page.title if page.title and page.title != page.source else item.title,
            item.outlet,
            page.outlet,
            item.url,
        ),
        blocks=page.blocks,
        source=item.source,
        published=item.published or (None if page.published_guessed else page.published),
        dateline=page.dateline or item.dateline,
        author=page.author or item.author,
        url=item.url,
        guid=item.guid,
        outlet=item.outlet or page.outlet,
        language=page.language or item.language,
    )


def teaser_only(item: Document, reason: str) -> Document:
    return replace(item, teaser=reason or N_("the article page could not be read"))


@dataclass(frozen=True)
class PageOutcome:
    """What following one link gave: the full document, or the reason the teaser stays."""

    document: Document | None
    reason: str | None = None
    retry_after: float | None = None
    status: int | None = None


class PageReader:
    """Reads article pages once per canonical URL, even when several feeds ask at the same time."""

    def __init__(self, settings: FetchOptions) -> None:
        self.settings = settings
        self._reading: SingleFlight[str, PageOutcome] = SingleFlight()

    async def read(self, url: str) -> PageOutcome:
        return await self._reading.run(canonical_url(url), lambda: self._read(url))

    async def _read(self, url: str) -> PageOutcome:
        from bot.ingest import parse_bytes

        if not await allowed_by_robots(url, self.settings):
            return PageOutcome(None, N_("robots.txt asks bots not to read the page"))
        try:
            result = await fetch(url, self.settings)
            docs = await asyncio.to_thread(
                parse_bytes,
                result.body,
                result.url,
                result.content_type,
                result.url,
                result.content_language,
            )
        except FetchError as exc:
            return PageOutcome(None, exc.message, exc.retry_after, exc.status)
        except InputError as exc:
            return PageOutcome(None, exc.message)
        except RecursionError:
            return PageOutcome(None, N_("the page is nested too deeply to read"))
        if len(docs) != 1:
            return PageOutcome(None, N_("the link leads to a feed, not an article page"))
        return PageOutcome(docs[0])


def complete(item: Document, outcome: PageOutcome) -> Document:
    """The item made whole from its page, or kept as a marked teaser."""
    if outcome.document is None:
        return teaser_only(item, outcome.reason or "")
    _, teaser_words = paragraph_words(item)
    _, page_words = paragraph_words(outcome.document)
    if page_words < max(teaser_words * MORE_THAN_TEASER, teaser_words + 20):
        return teaser_only(
            item, N_("the page shows no more than the teaser (paywall or consent wall?)")
        )
    return merge_page(item, outcome.document)


async def read_teaser_articles(
    items: Sequence[Document],
    reader: PageReader,
    max_pages: int = 20,
    deadline: float = 60.0,
    progress: Callable[[], None] | None = None,
) -> list[Document | None]:
    """Each teaser item with its article, in order; None for items left for later (budget, deadline).

    Pages are read concurrently (the reader's politeness bounds each host), so a slow host
    delays no other; what the deadline cuts off waits for the next poll."""
    wanted = [i for i, doc in enumerate(items) if followable(doc) and is_teaser(doc)]
    now_wanted, later = wanted[:max_pages], set(wanted[max_pages:])
    tasks = {i: asyncio.ensure_future(reader.read(str(items[i].url))) for i in now_wanted}
    if progress is not None:
        for task in tasks.values():
            task.add_done_callback(lambda _t: progress())
    if tasks:
        _done, pending = await asyncio.wait(tasks.values(), timeout=deadline)
        for task in pending:
            task.cancel()
    out: list[Document | None] = []
    for i, doc in enumerate(items):
        if i in later:
            out.append(None)
        elif i in tasks:
            task = tasks[i]
            out.append(
                complete(doc, task.result()) if task.done() and not task.cancelled() else None
            )
        else:
            out.append(doc)
    return out
