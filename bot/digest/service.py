"""Source → Digests: the functions the CLI, the command layer and the scheduler share."""

from __future__ import annotations

from dataclasses import replace

from bot.digest.build import build_digest
from bot.digest.sections import build_article
from bot.ingest import load_source
from bot.ingest.fetch import USER_AGENT, FetchSettings
from bot.ingest.netguard import AddressPolicy
from bot.ingest.politeness import Politeness
from bot.models import Article, Digest
from bot.ops.settings import Settings, load_settings
from bot.summarize.base import Summarizer
from bot.summarize.extractive import ExtractiveSummarizer
from bot.summarize.llm import LLMSettings, LLMSummarizer, SummaryCache


def fetch_settings(settings: Settings) -> FetchSettings:
    return FetchSettings(
        max_bytes=settings.fetch_max_bytes,
        total_timeout=settings.fetch_timeout,
        policy=AddressPolicy.from_setting(settings.fetch_allow),
        proxy=settings.fetch_proxy,
    )


def polite_fetch_settings(settings: Settings) -> FetchSettings:
    """For the running bot: every fetch shares one per-host pacing and obeys robots.txt."""
    return replace(
        fetch_settings(settings),
        politeness=Politeness(settings.fetch_per_host, settings.fetch_host_interval, USER_AGENT),
    )


def make_summarizer(settings: Settings, cache: SummaryCache | None = None) -> Summarizer:
    if settings.summarizer == "llm":
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


class DigestService:
    """Loads and summarizes sources with one configuration; shared by every front end."""

    def __init__(
        self, settings: Settings | None = None, summarizer: Summarizer | None = None
    ) -> None:
        self.settings = settings or load_settings()
        self.summarizer = summarizer or make_summarizer(self.settings)
        self.fetch = fetch_settings(self.settings)

    def articles(self, source: str) -> list[Article]:
        return [build_article(doc) for doc in load_source(source, self.fetch)]

    def digests(
        self, source: str, summary_bullets: int | None = None, section_bullets: int | None = None
    ) -> list[Digest]:
        return [
            build_digest(
                article,
                self.summarizer,
                summary_bullets or self.settings.summary_bullets,
                section_bullets or self.settings.section_bullets,
            )
            for article in self.articles(source)
        ]

    def first_digest(self, source: str) -> Digest:
        """For lookups: a feed's newest entry, or the single article of a page."""
        return self.digests(source)[0]
