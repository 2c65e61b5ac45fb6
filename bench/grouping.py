"""Story grouping: precision and recall on the labelled pairs, and the cost of grouping 5,000
articles (in the same run, against a plain all-pairs comparison of 500 for scale)."""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.story_eval import evaluate

from bot.curate.stories import StoryItem, features, group_stories

TOWNS = [
    "Riverton",
    "Ashford",
    "Milbrook",
    "Carrow",
    "Dunmere",
    "Eastleigh",
    "Fenwick",
    "Glenholm",
    "Kellaway",
    "Marlow",
]
TOPICS = [
    "harbour wall",
    "library hours",
    "solar farm",
    "tram line",
    "school roof",
    "bridge repair",
    "rail tender",
    "mill fire",
]
OUTLETS = [f"Outlet {n}" for n in range(40)]


SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ra",
    "ten",
    "sor",
    "vel",
    "dun",
    "ash",
    "bri",
    "cor",
    "fen",
    "gal",
    "hal",
    "mar",
    "nor",
    "pel",
    "quin",
    "ros",
    "tal",
]


def _name(rng: random.Random) -> str:
    first = "".join(rng.sample(SYLLABLES, 2)).capitalize()
    return first + " " + "".join(rng.sample(SYLLABLES, 3)).capitalize()


def synthetic(n: int, seed: int = 7) -> list[StoryItem]:
    """n articles over ten days: about one story in four told by two to four outlets (each in
    its own words), the rest alone; every story has its own people and figures, as news does."""
    rng = random.Random(seed)
    t0 = datetime(2024, 5, 1, tzinfo=UTC)
    items: list[StoryItem] = []
    while len(items) < n:
        town, topic = rng.choice(TOWNS), rng.choice(TOPICS)
        person, amount = _name(rng), rng.randint(2, 900)
        when = t0 + timedelta(hours=rng.randint(0, 240))
        versions = rng.choice([1, 1, 1, 2, 3, 4])
        for outlet in rng.sample(OUTLETS, versions):
            verb = rng.choice(["approved", "backed", "voted for", "agreed"])
            title = rng.choice(
                [
                    f"{town} council {verb} {topic} plan worth {amount} million",
                    f"{person} wins {topic} vote in {town}",
                    f"{amount} million {topic} plan goes ahead in {town}",
                ]
            )
            lead = (
                f"Councillor {person} said the {town} {topic} plan, worth {amount} million "
                f"dollars, was {verb} on {when:%A} after a long debate."
            )
            published = when + timedelta(minutes=rng.randint(0, 300))
            items.append(
                StoryItem(len(items), title, lead, outlet, None, published, rng.randint(80, 900))
            )
    return items[:n]


def truth_pairs(items: list[StoryItem]) -> set[tuple[int, int]]:
    """The synthetic stories' own pairs: same person and figure, for precision and recall."""
    key = {i.article_id: (i.lead.split(" said")[0], i.lead.split("worth ")[1][:6]) for i in items}
    return {
        (a.article_id, b.article_id)
        for x, a in enumerate(items)
        for b in items[x + 1 :]
        if key[a.article_id] == key[b.article_id]
    }


def all_pairs_seconds(items: list[StoryItem]) -> float:
    started = time.perf_counter()
    vectors = [features(i) for i in items]
    for a in range(len(vectors)):
        for b in range(a + 1, len(vectors)):
            _ = sum(v * vectors[b].get(t, 0) for t, v in vectors[a].items())
    return time.perf_counter() - started


def main() -> int:
    tp, fp, fn, pairs = evaluate()
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    print(
        "Story grouping (tests/story_pairs.py: the same event by two outlets vs. same-topic stories)"
    )
    print(
        f"  precision {precision:.2f}, recall {recall:.2f} ({tp} merged, {fp} false merges, {fn} missed; {pairs} pairs)"
    )
    for n in (500, 5000):
        items = synthetic(n)
        started = time.perf_counter()
        stories = group_stories(items)
        took = time.perf_counter() - started
        found = {
            (min(a.article_id, b.article_id), max(a.article_id, b.article_id))
            for s in stories
            for x, a in enumerate(s.items)
            for b in s.items[x + 1 :]
        }
        truth = truth_pairs(items) if n <= 500 else None
        quality = ""
        if truth is not None:
            hits = len(found & truth)
            quality = f"; pair precision {hits / max(len(found), 1):.2f}, recall {hits / max(len(truth), 1):.2f}"
        print(
            f"  grouping {n:,} synthetic articles: {took:.2f} s ({len(stories):,} stories{quality})"
        )
    base = all_pairs_seconds(synthetic(500))
    print(
        f"  (all-pairs cosine alone over 500 articles, for scale: {base:.2f} s; it grows with n²)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
