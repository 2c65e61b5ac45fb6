"""What a channel sees, measured over the 121 shared news pages (HTML, never seen in tuning)
plus the shared printable sample, and headings against the project's own labelled set.

Counts over every posted digest (bot/digest/posted.py, what Slack, Discord, the console and
Markdown show): sentences shown twice, bullets opening with a dangling connective, first
bullets opening with a pronoun, boilerplate bullets, junk section headings, and the share
of the article's words that is posted (median over articles of 300 words or more).
"""

from __future__ import annotations

import gzip
import statistics
import sys
from pathlib import Path

from bench.summarization import SHARED
from bot.digest.article_digest import summarize_article
from bot.digest.channel_view import channel_view
from bot.digest.sections import build_article
from bot.errors import NewsdigestError
from bot.ingest import parse_bytes
from bot.ingest.cleanup import is_boilerplate, is_junk_heading
from bot.models import Article, Digest
from bot.summarize.standalone import is_boilerplate_sentence, opens_with_pronoun, without_connective
from bot.text.words import content_words

PAGES = SHARED / "data" / "extraction" / "html"
SAMPLE = SHARED / "samples" / "printable-kim-putin.txt"


def articles() -> list[Article]:
    found = []
    for path in sorted(PAGES.glob("*.html.gz")):
        try:
            docs = parse_bytes(gzip.decompress(path.read_bytes()), path.name)
        except NewsdigestError:
            continue
        article = build_article(docs[0])
        if article.sentences:
            found.append(article)
    if SAMPLE.exists():
        found.append(build_article(parse_bytes(SAMPLE.read_bytes(), SAMPLE.name)[0]))
    return found


def audit(digest: Digest) -> dict[str, int]:
    view = channel_view(digest)
    bullets = [*view.summary, *(s.bullet for s in view.sections if s.bullet)]
    ids = [i for b in bullets for i in b.sentence_ids]
    texts = [b.text for b in bullets]
    headings = [s.heading for s in digest.sections]
    return {
        "repeats": len(ids) - len(set(ids)) + len(texts) - len(set(texts)),
        "dangling": sum(1 for t in texts if without_connective(t) != t),
        "pronoun_first": int(bool(view.summary) and opens_with_pronoun(view.summary[0].text)),
        "boilerplate": sum(1 for t in texts if is_boilerplate_sentence(t) or is_boilerplate(t)),
        "junk_headings": sum(1 for h in headings if is_junk_heading(h)),
        "posted_words": view.words,
    }


def heading_agreement() -> tuple[int, int]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from support.heading_articles import ARTICLES, as_printable

    from bot.digest.plain_text import article_from_text

    hits = total = 0
    for title, sections in ARTICLES:
        article = article_from_text(title + "\n\n" + as_printable(sections, keep_headings=False))
        real = [h for h, _ in sections if h]
        for heading, section in zip(real, article.sections[1:], strict=False):
            total += 1
            hits += bool(set(content_words(heading)) & set(content_words(section.heading)))
    return hits, total


def main() -> int:
    found = articles()
    totals: dict[str, int] = {}
    shares = []
    for article in found:
        digest = summarize_article(article)
        counts = audit(digest)
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
        words = sum(len(s.text.split()) for s in article.sentences)
        if words >= 300:
            shares.append(counts["posted_words"] / words)
    hits, total = heading_agreement()
    print(f"Posted digests of {len(found)} articles (121 shared pages + the printable sample)")
    print(
        f"  median share of the article's words posted (articles ≥300 words, n={len(shares)}): "
        f"{100 * statistics.median(shares):.1f}% (90th percentile {100 * sorted(shares)[int(0.9 * len(shares))]:.1f}%)"
    )
    print(
        f"  sentences shown twice: {totals['repeats']}; dangling openers: {totals['dangling']}; "
        f"first bullets opening with a pronoun: {totals['pronoun_first']}"
    )
    print(
        f"  boilerplate bullets: {totals['boilerplate']}; junk section headings: {totals['junk_headings']}"
    )
    print(
        f"Generated headings sharing a content word with the editor's: {hits}/{total} "
        f"({100 * hits / max(total, 1):.0f}%, tests/heading_articles.py)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
