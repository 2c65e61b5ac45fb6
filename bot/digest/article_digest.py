"""Article → Digest, and the one place that guarantees what a digest may contain.

Summarizers choose; this module checks. Whatever backend produced the bullets,
a digest never carries an empty summary for an article that has text, and every
section of the article is present with its id, index and heading.
"""

from __future__ import annotations

from bot.errors import InputError
from bot.i18n import _
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
    """Summarize an article; refuse, with a message a user can act on, an article with no
    text and one whose text gives no bullet (never a digest of a title alone)."""
    if not article.sentences:
        raise InputError(_("No article text found: the page has no readable sentences."))
    summary_bullets = max(1, min(summary_bullets, MAX_BULLETS))
    section_bullets = max(1, min(section_bullets, MAX_BULLETS))
    digest = (summarizer or ExtractiveSummarizer()).summarize(
        article, summary_bullets, section_bullets
    )
    if not digest.summary:
        raise NoBulletsError(
            _(
                "No bullet could be made of this article: its {count} sentences are cut off or "
                "too short to stand alone."
            ).format(count=len(article.sentences))
        )
    return digest


class NoBulletsError(InputError):
    """An article with text but no sentence fit to be a bullet: left out, never posted bare."""

    kind = "no_bullets"
