"""Source → Digests: the functions the CLI, the command layer and the scheduler share."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot.digest.build import build_digest
from bot.digest.sections import build_article
from bot.errors import InputError
from bot.ingest import load_source
from bot.ingest.netguard import AddressPolicy
from bot.models import Article, Digest, Document
from bot.ops.settings import Settings, load_settings
from bot.summarize.base import Summarizer
from bot.summarize.extractive import ExtractiveSummarizer

if TYPE_CHECKING:  # fetching (httpx) and the LLM client (openai) load only when used
    from bot.ingest.fetch import FetchSettings
    from bot.summarize.llm import SummaryCache


def fetch_settings(settings: Settings) -> FetchSettings:
    from bot.ingest.fetch import FetchSettings

    return FetchSettings(
        max_bytes=settings.fetch_max_bytes,
        total_timeout=settings.fetch_timeout,
        policy=AddressPolicy.from_setting(settings.fetch_allow),
        proxy=settings.fetch_proxy,
    )


def polite_fetch_settings(settings: Settings) -> FetchSettings:
    """For the running bot: every fetch shares one per-host pacing and obeys robots.txt."""
    from bot.ingest.fetch import USER_AGENT
    from bot.ingest.politeness import Politeness

    return replace(
        fetch_settings(settings),
        politeness=Politeness(settings.fetch_per_host, settings.fetch_host_interval, USER_AGENT),
    )


def make_summarizer(settings: Settings, cache: SummaryCache | None = None) -> Summarizer:
    if settings.summarizer == "llm":
        from bot.summarize.llm import LLMSettings, LLMSummarizer

        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        return LLMSummarizer(
            LLMSettings(
                model=settings.llm_model,
                base_url=settings.openai_base_url,
                api_key=key,
                timeout=settings.llm_timeout,
                max_retries=settings.llm_max_retries,
                max_tokens=settings.llm_max_tokens,
                temperature=settings.llm_temperature,
            ),
            cache=cache,
        )
    return ExtractiveSummarizer()


@dataclass(frozen=True)
class Skipped:
    """A feed item that could not be digested, and why: the others go on without it."""

    title: str
    reason: str


class DigestService:
    """Loads and summarizes sources with one configuration; shared by every front end."""

    def __init__(
        self, settings: Settings | None = None, summarizer: Summarizer | None = None
    ) -> None:
        self.settings = settings or load_settings()
        self.summarizer = summarizer or make_summarizer(self.settings)
        self.fetch = fetch_settings(self.settings)
        self.skipped: list[Skipped] = []

    def documents(
        self,
        source: str,
        follow: bool = True,
        limit: int | None = None,
        progress: Callable[[int], Callable[[], None]] | None = None,
    ) -> list[Document]:
        """A source's documents; a feed's teaser items replaced by their articles when `follow`."""
        from bot.ingest.follow import PageReader, follow_items, followable, is_teaser, teaser_only

        docs = load_source(source, self.fetch)[:limit]
        if not (follow and self.settings.follow_links and _is_feed(docs)):
            return docs
        wanted = sum(1 for d in docs if followable(d) and is_teaser(d))
        if not wanted:
            return docs
        reader = PageReader(polite_fetch_settings(self.settings))
        advance = progress(wanted) if progress else None
        done = asyncio.run(
            follow_items(docs, reader, len(docs), self.settings.follow_deadline, advance)
        )
        return [
            d if d is not None else teaser_only(o, "ran out of time")
            for d, o in zip(done, docs, strict=True)
        ]

    def articles(self, source: str, follow: bool = True) -> list[Article]:
        return [build_article(doc) for doc in self.documents(source, follow)]

    def digests(
        self,
        source: str,
        summary_bullets: int | None = None,
        section_bullets: int | None = None,
        follow: bool = True,
        limit: int | None = None,
        progress: Callable[[int], Callable[[], None]] | None = None,
    ) -> list[Digest]:
        """One digest per item; an item with no readable sentence is skipped (see `skipped`)."""
        self.skipped = []
        docs = self.documents(source, follow, limit, progress)
        digests = []
        for doc in docs:
            try:
                digests.append(
                    build_digest(
                        build_article(doc),
                        self.summarizer,
                        summary_bullets or self.settings.summary_bullets,
                        section_bullets or self.settings.section_bullets,
                    )
                )
            except InputError as exc:
                if len(docs) == 1:
                    raise
                self.skipped.append(Skipped(doc.title, exc.message))
        if not digests:
            raise InputError("No article text found in any item of the feed.")
        return digests

    def first_digest(self, source: str) -> Digest:
        """For lookups: a feed's newest entry, or the single article of a page."""
        return self.digests(source, limit=1)[0]


def _is_feed(docs: list[Document]) -> bool:
    return len(docs) > 1 or any(d.guid for d in docs)
