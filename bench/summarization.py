"""ROUGE and throughput of our summarizer against Lead-3 and sumy on the shared dev set.

Run from the project root (`make bench`). Everything is measured in the same run
so the ratios hold on any machine; absolute speeds are only indicative.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rouge_score import rouge_scorer

from bot.digest.plain_text import summarize_text

SHARED = Path(
    os.environ.get("NEWSDIGEST_SHARED", Path(__file__).resolve().parents[1].parent / "shared")
)
DEV = SHARED / "data" / "summarization" / "dev.jsonl"
WARM_UP = 10
TIMED_PASSES = 3
SLOW_PASS = 5.0  # seconds


def load(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def regex_split(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


class _PysbdTokenizer:
    """sumy's own Tokenizer needs NLTK data downloads; give it pysbd and a plain word split."""

    def __init__(self) -> None:
        import pysbd

        self._seg = pysbd.Segmenter(language="en", clean=False)

    def to_sentences(self, text: str) -> list[str]:
        return [s.strip() for s in self._seg.segment(text) if s.strip()]

    def to_words(self, sentence: str) -> list[str]:
        return re.findall(r"\w+", sentence)


def sumy_method(kind: str) -> Callable[[str, int], list[str]]:
    from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
    from sumy.nlp.stemmers import Stemmer
    from sumy.summarizers.lex_rank import LexRankSummarizer
    from sumy.summarizers.text_rank import TextRankSummarizer
    from sumy.utils import get_stop_words

    tokenizer = _PysbdTokenizer()
    cls = LexRankSummarizer if kind == "lexrank" else TextRankSummarizer
    summarizer = cls(Stemmer("english"))
    summarizer.stop_words = get_stop_words("english")

    def run(text: str, k: int) -> list[str]:
        sentences = [Sentence(s, tokenizer) for s in tokenizer.to_sentences(text)]
        doc = ObjectDocumentModel([Paragraph(sentences)])
        return [str(s) for s in summarizer(doc, k)]

    return run


def lead_pysbd() -> Callable[[str, int], list[str]]:
    tokenizer = _PysbdTokenizer()
    return lambda text, k: tokenizer.to_sentences(text)[:k]


def evaluate(
    name: str, fn: Callable[[str, int], list[str]], rows: Sequence[dict[str, str]], k: int
) -> dict[str, float | str]:
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True)
    for row in rows[
        :WARM_UP
    ]:  # every system gets the same warm-up: steady state is what a bot runs in
        fn(row["article"], k)
    elapsed = float("inf")
    for _ in range(TIMED_PASSES):  # best of N: the least disturbed pass; slow systems get one
        start = time.perf_counter()
        outputs = [fn(row["article"], k) for row in rows]
        elapsed = min(elapsed, time.perf_counter() - start)
        if elapsed > SLOW_PASS:
            break
    totals = {"rouge1": 0.0, "rouge2": 0.0, "rougeLsum": 0.0}
    words = 0
    for row, bullets in zip(rows, outputs, strict=True):
        words += sum(len(b.split()) for b in bullets)
        scores = scorer.score(row["reference"], "\n".join(bullets))
        for key in totals:
            totals[key] += scores[key].fmeasure
    n = len(rows)
    return {
        "system": name,
        "R-1": 100 * totals["rouge1"] / n,
        "R-2": 100 * totals["rouge2"] / n,
        "R-Lsum": 100 * totals["rougeLsum"] / n,
        "words": words / n,
        "articles/s": n / elapsed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEV)
    parser.add_argument("--bullets", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="ours and Lead-3 only")
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"no dev data at {args.data}; set NEWSDIGEST_SHARED", file=sys.stderr)
        return 2
    rows = load(args.data)
    k = args.bullets
    systems: list[tuple[str, Callable[[str, int], list[str]]]] = [
        ("newsdigest", lambda t, n: summarize_text(t, n)),
        ("Lead-3 (regex split)", lambda t, n: regex_split(t)[:n]),
    ]
    if not args.quick:
        systems += [
            ("Lead-3 (pysbd)", lead_pysbd()),
            ("sumy TextRank (pysbd)", sumy_method("textrank")),
            ("sumy LexRank (pysbd)", sumy_method("lexrank")),
        ]
    results = [evaluate(name, fn, rows, k) for name, fn in systems]
    leads = [r for r in results if str(r["system"]).startswith("Lead-3")]
    best_lead = max(leads, key=lambda r: float(r["R-1"]) + float(r["R-2"]) + float(r["R-Lsum"]))
    lexrank = next((r for r in results if "LexRank" in str(r["system"])), None)
    print(
        f"Summaries of {len(rows)} articles, {k} sentences each ({args.data.name}); "
        f"ratios against {best_lead['system']}" + (" and sumy LexRank" if lexrank else "")
    )
    print()
    print(
        "| system | R-1 | R-2 | R-Lsum | words | articles/s | R-1/Lead | R-2/Lead "
        "| R-Lsum/Lead | words/Lead | speed/LexRank |"
    )
    print("|" + "|".join(["---"] * 11) + "|")
    for r in results:
        ratios = [
            float(r[key]) / float(best_lead[key]) for key in ("R-1", "R-2", "R-Lsum", "words")
        ]
        speed = f"{float(r['articles/s']) / float(lexrank['articles/s']):.1f}x" if lexrank else "-"
        print(
            f"| {r['system']} | {r['R-1']:.2f} | {r['R-2']:.2f} | {r['R-Lsum']:.2f} | {r['words']:.1f} "
            f"| {r['articles/s']:.0f} | {ratios[0]:.3f} | {ratios[1]:.3f} | {ratios[2]:.3f} "
            f"| {ratios[3]:.2f} | {speed} |"
        )
    print(
        f"\nPeak memory of `newsdigest summarize` over the same file: {peak_memory_mb(args.data):.0f} MB"
    )
    print(cjk_throughput())
    return 0


def cjk_throughput() -> str:
    """Chinese and Japanese are measured per character (their words have no spaces): the test
    pages, read and summarized end to end, as the bot does with a page it fetched."""
    from bot.digest.article_digest import summarize_article
    from bot.digest.sections import build_article
    from bot.ingest import load_source

    pages = Path(__file__).resolve().parents[1] / "tests" / "data" / "pages"
    rates = []
    for name in ("zh-harbour.html", "ja-library.html"):
        [doc] = load_source(str(pages / name))
        chars = sum(len(b.text) for b in doc.blocks)
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            for _ in range(50):
                summarize_article(build_article(doc))
            best = min(best, time.perf_counter() - started)
        rates.append(f"{name.split('-')[0]} {chars * 50 / best / 1000:.0f}k characters/s")
    return "Chinese and Japanese pages, sections and summary from parsed text: " + ", ".join(rates)


def peak_memory_mb(data: Path) -> float:
    """Max RSS of a separate summarizer process, so the benchmark's own imports do not count."""
    import resource
    import subprocess

    subprocess.run(
        [sys.executable, "-m", "bot.cli", "summarize", "--input", str(data)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


if __name__ == "__main__":
    sys.exit(main())
