"""Precision and recall of story grouping on the labelled pairs (tests and bench share it)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.curate.stories import StoryItem, group_stories
from support.story_pairs import DIFFERENT, SAME, Side

T0 = datetime(2024, 5, 1, 9, tzinfo=UTC)


def _item(n: int, side: Side) -> StoryItem:
    title, lead, outlet = side
    return StoryItem(n, title, lead, outlet, None, T0, len(lead.split()))


def evaluate() -> tuple[int, int, int, int]:
    """(true merges, false merges, misses, pairs): each pair grouped among the other topics'
    articles, as it would be in a channel's window of news."""
    labelled = [(True, a, b) for a, b in SAME] + [(False, a, b) for a, b in DIFFERENT]
    tp = fp = fn = 0
    for same, a, b in labelled:
        topic = a[0].split()[0]  # each topic's pairs open their first title with the same word
        background = [side for x, y in SAME if x[0].split()[0] != topic for side in (x, y)]
        items = [_item(0, a), _item(1, b)] + [_item(n + 2, s) for n, s in enumerate(background)]
        groups = group_stories(items)
        together = any({0, 1} <= {i.article_id for i in g.items} for g in groups)
        stray = any(
            len(g.items) > 1 and any(i.article_id in (0, 1) for i in g.items) and not together
            for g in groups
        )
        tp += same and together
        fn += same and not together
        fp += (not same and together) + stray
    return tp, fp, fn, len(labelled)
