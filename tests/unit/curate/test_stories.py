"""One story across outlets: the labelled pairs."""

from __future__ import annotations

from support.story_eval import evaluate


def test_story_grouping_on_the_labelled_pairs() -> None:
    true_merges, false_merges, misses, pairs = evaluate()
    assert false_merges == 0  # a false merge hides a story: worse than a miss
    assert true_merges >= 10 and misses <= 2, (true_merges, misses, pairs)
