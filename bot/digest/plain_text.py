"""Text in, Article or bullets out: the shortest path through the core, for CLI and benchmarks."""

from __future__ import annotations

from bot.digest.sections import build_article
from bot.ingest.plaintext import parse_plaintext
from bot.models import Article
from bot.summarize.extractive import RankerWeights, bullet_text, summary_sentences


def article_from_text(text: str, source: str = "-") -> Article:
    return build_article(parse_plaintext(text, source))


def summarize_text(text: str, bullets: int = 3, settings: RankerWeights | None = None) -> list[str]:
    """Whole-article summary bullets for raw text (the batch `summarize` contract)."""
    article = article_from_text(text)
    chosen = summary_sentences(article, bullets, settings or RankerWeights())
    return [bullet_text(s) for s in chosen]
