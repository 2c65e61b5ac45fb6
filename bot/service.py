"""Source → Digests: the one function the CLI, the command layer and the scheduler share."""

from __future__ import annotations

import os

from bot.digest import build_digest
from bot.ingest import load_source
from bot.ingest.fetch import FetchSettings
from bot.ingest.netguard import AddressPolicy
from bot.models import Article, Digest
from bot.sections import build_article
from bot.summarize.base import DEFAULT_SECTION_BULLETS, DEFAULT_SUMMARY_BULLETS, Summarizer


def fetch_settings_from_env() -> FetchSettings:
    """Until the settings module lands, the allow-list comes straight from the environment."""
    return FetchSettings(
        policy=AddressPolicy.from_setting(os.environ.get("NEWSDIGEST_FETCH_ALLOW"))
    )


def load_articles(source: str, fetch_settings: FetchSettings | None = None) -> list[Article]:
    return [
        build_article(doc)
        for doc in load_source(source, fetch_settings or fetch_settings_from_env())
    ]


def digest_source(
    source: str,
    summarizer: Summarizer | None = None,
    summary_bullets: int = DEFAULT_SUMMARY_BULLETS,
    section_bullets: int = DEFAULT_SECTION_BULLETS,
    fetch_settings: FetchSettings | None = None,
) -> list[Digest]:
    return [
        build_digest(article, summarizer, summary_bullets, section_bullets)
        for article in load_articles(source, fetch_settings)
    ]


def first_digest(source: str) -> Digest:
    """For lookups: a feed's newest entry, or the single article of a page."""
    return digest_source(source)[0]
