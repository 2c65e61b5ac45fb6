"""Sentence splitting per language on the project's labelled sets, and speed per character.

A paragraph counts as right only when every boundary is. `dev/` is the set the splitter was
built against; `heldout/` was written independently and looked at only by its error tags.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from bot.text.sentences import split_sentences

DATA = Path(__file__).resolve().parent / "data" / "sentence-splits"


def accuracy(folder: Path) -> dict[str, tuple[int, int]]:
    scores: dict[str, tuple[int, int]] = {}
    for path in sorted(folder.glob("*.jsonl")):
        language = path.stem
        right = total = 0
        for line in path.read_text(encoding="utf-8").splitlines():
            case = json.loads(line)
            total += 1
            right += split_sentences(case["text"], language) == case["sentences"]
        scores[language] = (right, total)
    return scores


def speed(language: str, text: str, rounds: int = 200) -> float:
    """Characters a second, best of three."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(rounds):
            split_sentences(text, language)
        best = min(best, time.perf_counter() - started)
    return len(text) * rounds / best


def main() -> int:
    dev, heldout = accuracy(DATA), accuracy(DATA / "heldout")
    print("Sentence splitting: share of paragraphs split exactly right (dev | held-out)")
    print("| language | dev | held-out |")
    print("|---|---|---|")
    for language in sorted(dev):
        d, h = dev[language], heldout.get(language, (0, 0))
        held = f"{h[0] / h[1]:.2f} ({h[0]}/{h[1]})" if h[1] else "-"
        print(f"| {language} | {d[0] / d[1]:.2f} ({d[0]}/{d[1]}) | {held} |")
    samples = {
        lang: " ".join(
            json.loads(line)["text"]
            for line in (DATA / f"{lang}.jsonl").read_text(encoding="utf-8").splitlines()
        )
        for lang in ("en", "de", "zh", "ja")
    }
    rates = {lang: speed(lang, text) for lang, text in samples.items()}
    print("\nSplitting speed (characters a second, a paragraph of all the cases joined):")
    print("  " + ", ".join(f"{lang} {rate / 1e6:.1f} M" for lang, rate in rates.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
