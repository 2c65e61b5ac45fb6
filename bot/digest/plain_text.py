"""Text in, Article or bullets out: the shortest path through the core, for CLI and benchmarks."""

from __future__ import annotations

from bot.digest.sections import build_article
from bot.ingest.plaintext import parse_plaintext
from bot.models import Article
from bot.summarize.extractive import RankerWeights, group_text, summary_groups


def article_from_text(text: str, source: str = "-") -> Article:
    return build_article(parse_plaintext(text, source))


def summarize_text(text: str, bullets: int = 3, settings: RankerWeights | None = None) -> list[str]:
    """Whole-article summary bullets for raw text (the batch `summarize` contract)."""
    article = article_from_text(text)
    chosen = summary_groups(article, bullets, settings or RankerWeights())
    return [group_text(g) for g in chosen]
