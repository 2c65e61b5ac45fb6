"""Article-body extraction quality: our ingest (trafilatura + cleanup) against plain trafilatura.

Uses the Article Extraction Benchmark's own metric: tokens are \\w+ runs, 4-gram
shingle counts give TP/FP/FN per page, precision and recall are averaged over
pages and F1 is taken from those averages. Both systems run in the same process
on the same pages, so the comparison holds on any machine.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import trafilatura

from bench.summarization import SHARED
from bot.digest.sections import build_article
from bot.errors import NewsdigestError
from bot.ingest import parse_bytes

DATA = SHARED / "data" / "extraction"
EVAL_ARCHIVE = SHARED / "data" / "trafilatura-eval.tar.gz"
_TOKEN = re.compile(r"\w+")


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text)
    return Counter(tuple(tokens[i : i + n]) for i in range(max(len(tokens) - n + 1, 1)))


def page_scores(truth: str, predicted: str) -> tuple[float, float]:
    """Precision and recall of one page, as the benchmark defines them."""
    t, p = shingles(truth), shingles(predicted)
    tp = sum((t & p).values())
    fp = sum(p.values()) - tp
    fn = sum(t.values()) - tp
    total = tp + fp + fn
    if total == 0:
        return 1.0, 1.0
    tp, fp, fn = tp / total, fp / total, fn / total
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return precision, recall


def ours(html: bytes) -> str:
    try:
        docs = parse_bytes(html, "bench")
    except NewsdigestError:
        return ""
    article = build_article(docs[0])
    lines: list[str] = []
    for section in article.sections:
        if section.titled:
            lines.append(section.heading)
        lines.extend(p.text for p in section.paragraphs)
    return "\n".join(lines)


def plain_trafilatura(html: bytes) -> str:
    return trafilatura.extract(html.decode("utf-8", "replace")) or ""


def evaluate(
    fn: Callable[[bytes], str], pages: dict[str, bytes], truth: dict[str, str]
) -> dict[str, float]:
    start = time.perf_counter()
    precisions, recalls = [], []
    for sha, html in pages.items():
        p, r = page_scores(truth[sha], fn(html))
        precisions.append(p)
        recalls.append(r)
    elapsed = time.perf_counter() - start
    precision = sum(precisions) / len(precisions)
    recall = sum(recalls) / len(recalls)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"P": precision, "R": recall, "F1": f1, "pages/s": len(pages) / elapsed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args(argv)
    truth_file = args.data / "ground-truth.json"
    if not truth_file.exists():
        print(f"no extraction data at {args.data}; set NEWSDIGEST_SHARED", file=sys.stderr)
        return 2
    truth = {sha: v["articleBody"] for sha, v in json.loads(truth_file.read_text()).items()}
    pages = {
        sha: gzip.decompress((args.data / "html" / f"{sha}.html.gz").read_bytes())
        for sha in sorted(truth)
    }
    rows = [
        ("newsdigest ingest", evaluate(ours, pages, truth)),
        ("trafilatura (default)", evaluate(plain_trafilatura, pages, truth)),
    ]
    print(f"Extraction on {len(pages)} pages (article-extraction-benchmark metric)")
    print()
    print("| system | precision | recall | F1 | pages/s |")
    print("|---|---|---|---|---|")
    for name, r in rows:
        print(f"| {name} | {r['P']:.3f} | {r['R']:.3f} | {r['F1']:.3f} | {r['pages/s']:.1f} |")
    cross_validated(pages, truth)
    if EVAL_ARCHIVE.exists():
        non_english(EVAL_ARCHIVE)
    return 0


CANDIDATE_KEEPS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 2.0)
FOLDS = 5


def cross_validated(pages: dict[str, bytes], truth: dict[str, str]) -> None:
    """The one tuned choice of extraction (how much of the default text precision mode must
    keep, `PRECISION_KEEP`) chosen on four fifths of the pages and scored on the fifth, five
    times: the figure to expect on pages nobody tuned on."""
    import bot.ingest.html as html_module
    from bot.ingest.html import extractions

    scores: dict[str, dict[float, tuple[float, float]]] = {}
    for sha, html in pages.items():
        default, precise = extractions(html.decode("utf-8", "replace"), None)
        saved = html_module.PRECISION_KEEP
        try:
            per_choice = {}
            for keep in (0.0, 2.0):  # always precise, always default
                html_module.PRECISION_KEEP = keep
                per_choice[keep] = page_scores(truth[sha], ours(html))
        finally:
            html_module.PRECISION_KEEP = saved
        ratio = _kept_share(default, precise)
        scores[sha] = {
            k: per_choice[0.0] if ratio >= k else per_choice[2.0] for k in CANDIDATE_KEEPS
        }
    shas = sorted(pages)
    folds = [shas[i::FOLDS] for i in range(FOLDS)]
    chosen, held = [], []
    for i, fold in enumerate(folds):
        train = [s for j, f in enumerate(folds) if j != i for s in f]
        best = max(CANDIDATE_KEEPS, key=lambda k: _f1([scores[s][k] for s in train]))
        chosen.append(best)
        held += [scores[s][best] for s in fold]
    p = sum(x for x, _ in held) / len(held)
    r = sum(y for _, y in held) / len(held)
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    print(
        f"Cross-validated ({FOLDS} folds; PRECISION_KEEP chosen per fold: "
        f"{', '.join(f'{k:g}' for k in chosen)}): precision {p:.3f}, recall {r:.3f}, F1 {f1:.3f}"
    )


def _kept_share(default: object, precise: object) -> float:
    body_d, body_p = getattr(default, "body", None), getattr(precise, "body", None)
    if body_p is None:
        return -1.0
    if body_d is None:
        return 9.0
    found = len(" ".join(body_d.itertext())) or 1
    return len(" ".join(body_p.itertext())) / found


def _f1(pairs: list[tuple[float, float]]) -> float:
    p = sum(x for x, _ in pairs) / len(pairs)
    r = sum(y for _, y in pairs) / len(pairs)
    return 2 * p * r / (p + r) if p + r else 0.0


def non_english(archive: Path) -> None:
    """trafilatura's own evaluation pages that are not in English, scored its way: snippets
    the article must contain (recall) and must not contain (precision). trafilatura was tuned
    on these pages, so the comparison favours it."""
    import tarfile

    from bot.text.language import detect

    with tarfile.open(archive) as tar:
        members = {m.name.split("/", 1)[-1]: m for m in tar.getmembers() if m.isfile()}
        spec = json.loads(tar.extractfile(members["evaldata.json"]).read())  # type: ignore[union-attr]
        pages: list[tuple[str, bytes, list[str], list[str]]] = []
        for entry in spec.values():
            member = members.get("html/" + entry["file"])
            if member is None:
                continue
            html = tar.extractfile(member).read()  # type: ignore[union-attr]
            sample = " ".join(entry.get("with") or [])
            if not sample or detect(sample)[0] == "en":
                continue
            pages.append((entry["file"], html, entry.get("with") or [], entry.get("without") or []))
    print(f"\nNon-English pages of trafilatura's evaluation set: {len(pages)} (snippet metric)")
    print("| system | precision | recall | F1 |")
    print("|---|---|---|---|")
    for name, fn in (("newsdigest ingest", ours), ("trafilatura (default)", plain_trafilatura)):
        tp = fn_ = fp = tn = 0
        for _file, html, wanted, unwanted in pages:
            text = " ".join(fn(html).split())
            for snippet in wanted:
                found = " ".join(snippet.split()) in text
                tp, fn_ = tp + found, fn_ + (not found)
            for snippet in unwanted:
                found = " ".join(snippet.split()) in text
                fp, tn = fp + found, tn + (not found)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn_) if tp + fn_ else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        print(f"| {name} | {precision:.3f} | {recall:.3f} | {f1:.3f} |")


if __name__ == "__main__":
    sys.exit(main())
