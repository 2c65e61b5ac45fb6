"""The one interface the rest of the bot knows a summarizer by."""

from __future__ import annotations

from typing import Protocol

from bot.models import Article, Digest

DEFAULT_SUMMARY_BULLETS = 3
DEFAULT_SECTION_BULLETS = 3


class Summarizer(Protocol):
    """Anything that turns an Article into a Digest whose bullets cite sentence ids.

    An optional `batch` attribute says how many articles one worker call may summarize in
    a row (`DigestCache`): more than 1 only for work that is all CPU and quick; without it,
    one call an article, so that network-bound ones (an LLM) wait side by side."""

    name: str

    def summarize(
        self,
        article: Article,
        summary_bullets: int = DEFAULT_SUMMARY_BULLETS,
        section_bullets: int = DEFAULT_SECTION_BULLETS,
    ) -> Digest: ...
