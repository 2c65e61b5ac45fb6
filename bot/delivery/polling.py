"""Polling the sources channels follow: feeds, pages, local files and folders.

Each poll stores what is new (deduplicated by GUID, canonical URL and content
hash), backs off a failing source exponentially, honours Retry-After, and
pauses a source after repeated failures, returning a one-time notice.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.digest.sections import build_article
from bot.errors import FetchError, InputError, NewsdigestError
from bot.i18n import N_, _, using
from bot.ingest import parse_bytes
from bot.ingest.fetch import FetchOptions, fetch
from bot.ingest.teasers import PageReader, followable, is_teaser, read_teaser_articles, teaser_only
from bot.ingest.urls import canonical_url
from bot.models import Article, Document
from bot.ops.metrics import METRICS
from bot.singleflight import SingleFlight
from bot.store.async_store import AsyncStore
from bot.store.repo import SourceInfo, Store

if TYPE_CHECKING:
    from bot.delivery.poster import Poster
    from bot.digest.cache import DigestCache

log = logging.getLogger(__name__)

LOCAL_PREFIX = "path:"
POLL_INTERVAL = timedelta(minutes=15)
BACKOFF_BASE = timedelta(minutes=5)
BACKOFF_MAX = timedelta(hours=6)
REPROBE_PAUSED = timedelta(hours=12)
LOCAL_SUFFIXES = (".txt", ".text", ".md", ".html", ".htm", ".xml", ".rss", ".atom")
MAX_FOLDER_FILES = 200


@dataclass(frozen=True)
class Paused:
    """A source paused after repeated failures: its channels are told once, in their language."""

    source_id: int
    url: str
    attempts: int
    error: str

    def notice(self) -> str:
        return _(
            "Paused the source {url} after {attempts} failed attempts (last error: {error}). "
            "It will be retried every few hours."
        ).format(url=self.url, attempts=self.attempts, error=self.error)


@dataclass(frozen=True)
class PollResult:
    source_id: int
    new_articles: int
    seen_articles: int
    error: str | None = None
    paused: Paused | None = None  # for subscribed channels, once, when the source gets paused
    upgraded: tuple[int, ...] = ()  # stored teasers now holding their full article


def local_source(path: str) -> str:
    return LOCAL_PREFIX + str(Path(path).expanduser().resolve())


def content_hash(article: Article) -> str:
    text = "\n".join(s.text for s in article.sentences)
    return hashlib.sha256(" ".join(text.lower().split()).encode()).hexdigest()


def link_keys(doc: Document, source_id: int, guid_reliable: bool) -> list[str]:
    """The keys an item is known by before its text is read: GUID and canonical URL."""
    keys = []
    if doc.guid and guid_reliable:
        keys.append(f"guid:{source_id}:{doc.guid[:400]}")
    if doc.url:
        keys.append(f"url:{canonical_url(doc.url)[:480]}")
    return keys


def identity_keys(
    doc: Document, article: Article, source_id: int, guid_reliable: bool
) -> list[str]:
    """Every key an article may be recognised by; any match means 'seen before'."""
    return [*link_keys(doc, source_id, guid_reliable), f"hash:{content_hash(article)}"]


def backoff(failures: int) -> timedelta:
    wait: timedelta = BACKOFF_BASE * (2 ** min(max(failures, 0), 16))
    return min(wait, BACKOFF_MAX)


@dataclass(frozen=True)
class TeaserPages:
    """How the articles behind teaser feed items are read during a poll."""

    reader: PageReader
    max_pages: int = 20
    deadline: float = 60.0


async def poll_source(
    store: Store,
    source: SourceInfo,
    fetch_settings: FetchOptions,
    now: datetime | None = None,
    pause_after: int = 5,
    follow: TeaserPages | None = None,
) -> PollResult:
    """Fetch a source and store what is new; parsing and database work run off the event loop."""
    now = now or datetime.now(UTC)
    try:
        docs, etag, last_modified = await _read(source, fetch_settings)
    except (FetchError, InputError) as exc:
        return await asyncio.to_thread(_failed, store, source, exc, now, pause_after)
    if docs is None:  # 304 Not Modified
        await asyncio.to_thread(
            store.fetch_succeeded, source.id, etag, last_modified, now + POLL_INTERVAL
        )
        return PollResult(source.id, 0, 0)
    guid_counts = Counter(d.guid for d in docs if d.guid)
    upgraded: list[int] = []
    if follow is not None:
        docs = await _with_articles(store, source, docs, follow, now, guid_counts, upgraded)
    new, seen = await asyncio.to_thread(_store_documents, store, source, docs, guid_counts)
    was_paused = await asyncio.to_thread(
        store.fetch_succeeded, source.id, etag, last_modified, now + POLL_INTERVAL
    )
    if was_paused:
        log.info("source %s recovered", source.url)
    return PollResult(source.id, new, seen, upgraded=tuple(upgraded))


def _store_documents(
    store: Store, source: SourceInfo, docs: list[Document], guid_counts: Counter[str]
) -> tuple[int, int]:
    """One item at a time: an item with no readable sentence is skipped, never the whole poll."""
    new = seen = 0
    for doc in docs:
        article = build_article(doc)
        if not article.sentences:
            log.info("skipped an item of %s with no full sentence: %r", source.url, doc.title[:80])
            continue
        keys = identity_keys(doc, article, source.id, guid_counts.get(doc.guid or "", 0) == 1)
        published = (
            doc.published.astimezone(UTC) if doc.published and doc.published.tzinfo else None
        )
        _, is_new = store.add_article(source.id, article, keys, content_hash(article), published)
        new, seen = new + is_new, seen + (not is_new)
    return new, seen


async def _with_articles(
    store: Store,
    source: SourceInfo,
    docs: list[Document],
    follow: TeaserPages,
    now: datetime,
    guid_counts: Counter[str],
    upgraded: list[int],
) -> list[Document]:
    """Teaser items replaced by their articles; known items and those left for later dropped.
    Ids of stored teasers upgraded to their article are appended to `upgraded`."""
    own = canonical_url(source.url) if not source.url.startswith(LOCAL_PREFIX) else ""

    def triage() -> tuple[list[Document], list[Document], dict[int, int]]:
        """(items to keep as they are, teaser items whose page should be read now, and for
        stored teasers whose page is due for another try: their index → article id)."""
        keep: list[Document] = []
        wanted: list[Document] = []
        retries: dict[int, int] = {}
        for doc in docs:
            if not (followable(doc) and is_teaser(doc) and canonical_url(str(doc.url)) != own):
                keep.append(doc)
                continue
            reliable = guid_counts.get(doc.guid or "", 0) == 1
            record = store.page(canonical_url(str(doc.url)))
            known = store.find_article(link_keys(doc, source.id, reliable), source.id)
            due = (
                record is not None
                and record[0] == "teaser"
                and (record[2] is None or record[2] <= now)
            )
            if known is not None:
                if due and record is not None and record[1] < MAX_PAGE_RETRIES:
                    retries[len(wanted)] = known  # posted as a teaser: read it on the backoff
                    wanted.append(doc)
                continue  # stored before (from this feed or another): nothing to fetch
            if record and record[0] == "teaser" and not due:
                keep.append(teaser_only(doc, N_("the article page failed earlier; retrying later")))
                continue
            wanted.append(doc)
        return keep, wanted, retries

    keep, wanted, retries = await asyncio.to_thread(triage)
    if not wanted:
        return keep
    completed = await read_teaser_articles(wanted, follow.reader, follow.max_pages, follow.deadline)
    outcomes: list[tuple[str, bool, str | None]] = []
    upgrades: list[tuple[int, Document]] = []
    for n, (item, done) in enumerate(zip(wanted, completed, strict=True)):
        if done is None:
            continue  # over the page budget or the deadline: the next poll reads it
        if n in retries:
            if done.teaser is None:
                upgrades.append((retries[n], done))
        else:
            keep.append(done)
        outcomes.append((canonical_url(str(item.url)), done.teaser is None, done.teaser))
    if upgrades:
        await asyncio.to_thread(_upgrade_teasers, store, upgrades)
        upgraded.extend(article_id for article_id, _ in upgrades)
    full = sum(1 for _, ok, _ in outcomes if ok)
    METRICS.pages_fetched.labels(outcome="full").inc(full)
    METRICS.pages_fetched.labels(outcome="teaser").inc(len(outcomes) - full)
    await asyncio.to_thread(_record_pages, store, outcomes, now)
    return keep


MAX_PAGE_RETRIES = 6  # a page still unreadable after this many backed-off tries keeps its teaser


def _upgrade_teasers(store: Store, upgrades: list[tuple[int, Document]]) -> None:
    """A teaser stored earlier gets its article once the page can be read: lookups and any
    digest not yet made use the full text from then on."""
    for article_id, doc in upgrades:
        article = build_article(doc)
        if article.sentences:
            store.replace_article(article_id, article, content_hash(article))
            log.info("read the article behind an earlier teaser: %s", doc.url)


def _record_pages(
    store: Store, outcomes: list[tuple[str, bool, str | None]], now: datetime
) -> None:
    for url, full, reason in outcomes:
        if full:
            store.record_page(url, True, None, None)
            continue
        before = store.page(url)
        failures = before[1] if before and before[0] == "teaser" else 0
        if failures == 0:  # logged once per page, not on every retry
            log.warning("kept the teaser of %s: %s", url, reason)
        store.record_page(url, False, reason, now + backoff(failures))


def _failed(
    store: Store, source: SourceInfo, exc: NewsdigestError, now: datetime, pause_after: int
) -> PollResult:
    retry_after = getattr(exc, "retry_after", None)
    wait = timedelta(seconds=retry_after) if retry_after else backoff(source.failures)
    newly_paused = store.fetch_failed(source.id, exc.message, now + wait, pause_after)
    log.warning("source %s failed (%s); next try in %s", source.url, exc.message, wait)
    paused = (
        Paused(source.id, source.url, source.failures + 1, exc.message) if newly_paused else None
    )
    return PollResult(source.id, 0, 0, exc.message, paused)


async def _read(
    source: SourceInfo, settings: FetchOptions
) -> tuple[list[Document] | None, str | None, str | None]:
    if source.url.startswith(LOCAL_PREFIX):
        return await asyncio.to_thread(_read_local, source.url[len(LOCAL_PREFIX) :]), None, None
    result = await fetch(source.url, settings, etag=source.etag, last_modified=source.last_modified)
    if result.not_modified:
        return None, source.etag, source.last_modified
    return (
        parse_bytes(
            result.body, result.url, result.content_type, result.url, result.content_language
        ),
        result.etag,
        result.last_modified,
    )


def _read_local(path_text: str) -> list[Document]:
    path = Path(path_text)
    if not path.exists():
        raise InputError(_("No such file or folder: {path}").format(path=path))
    files = (
        [path]
        if path.is_file()
        else sorted(
            p for p in path.iterdir() if p.is_file() and p.suffix.lower() in LOCAL_SUFFIXES
        )[:MAX_FOLDER_FILES]
    )
    docs: list[Document] = []
    errors = []
    for file in files:
        try:
            data = file.read_bytes()
            docs.extend(parse_bytes(data, str(file)))
        except (InputError, OSError) as exc:
            errors.append(f"{file.name}: {getattr(exc, 'message', exc)}")
    if not docs and errors:
        raise InputError("; ".join(errors[:3]))
    for err in errors:
        log.warning("skipped %s", err)
    return docs


class SourcePoller:
    """Polls every due source for the running bot; callers that arrive during a poll share it.

    At 08:00 hundreds of channel jobs fire at once and each wants fresh articles: one poll
    serves them all instead of hundreds of overlapping ones. Sources are fetched concurrently
    (`concurrency` at once; per host the shared politeness of `fetch_settings` bounds it)."""

    def __init__(
        self,
        store: AsyncStore,
        fetch_settings: FetchOptions,
        posters: Mapping[str, Poster],
        digests: DigestCache,
        *,
        follow: TeaserPages | None = None,
        pause_after: int = 5,
        concurrency: int = 16,
        language: str = "en",
    ) -> None:
        self.store = store
        self.fetch_settings = fetch_settings
        self.posters = posters
        self.digests = digests
        self.follow = follow
        self.pause_after = pause_after
        self.concurrency = concurrency
        self.language = language  # of notices, where a channel has not chosen
        self._polling: SingleFlight[str, int] = SingleFlight()

    async def poll_due(self, now: datetime | None = None) -> int:
        """Every due source, once; returns how many new articles were stored."""
        return await self._polling.run("due", lambda: self._poll_due(now or datetime.now(UTC)))

    async def _poll_due(self, now: datetime) -> int:
        due = await self.store.due_sources(now, reprobe_after=REPROBE_PAUSED)
        gate = asyncio.Semaphore(self.concurrency)

        async def one(source: SourceInfo) -> int:
            async with gate:
                return await self._poll_one(source, now)

        return sum(await asyncio.gather(*(one(s) for s in due)))

    async def _poll_one(self, source: SourceInfo, now: datetime) -> int:
        started = time.perf_counter()
        try:
            result = await poll_source(
                self.store.sync,
                source,
                self.fetch_settings,
                now,
                pause_after=self.pause_after,
                follow=self.follow,
            )
        except Exception:
            log.exception("polling %s failed unexpectedly", source.url)
            return 0
        finally:
            METRICS.poll_seconds.observe(time.perf_counter() - started)
        METRICS.fetched.inc(result.new_articles)
        for article_id in result.upgraded:
            self.digests.forget(article_id)
        if result.error:
            METRICS.source_failures.inc()
        if result.paused:
            await self._tell_channels(result.paused)
        return result.new_articles

    async def _tell_channels(self, paused: Paused) -> None:
        for channel in await self.store.subscribed_channels(paused.source_id):
            poster = self.posters.get(channel.platform)
            if poster is None:
                continue
            try:
                settings = await self.store.channel_settings(channel.id)
                with using(settings.language or self.language):
                    text = paused.notice()
                await poster.notice(channel.external_id, text)
            except Exception as exc:
                log.warning("could not tell %s about a paused source: %s", channel.external_id, exc)
