"""The one interface the rest of the bot knows a summarizer by."""

from __future__ import annotations

from typing import Protocol

from bot.models import Article, Digest

DEFAULT_SUMMARY_BULLETS = 3
DEFAULT_SECTION_BULLETS = 3


class Summarizer(Protocol):
    """Anything that turns an Article into a Digest whose bullets cite sentence ids."""

    name: str

    def summarize(
        self,
        article: Article,
        summary_bullets: int = DEFAULT_SUMMARY_BULLETS,
        section_bullets: int = DEFAULT_SECTION_BULLETS,
    ) -> Digest: ...
