"""One story across outlets: one event, not one topic."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

from support.paths import ROOT
from support.story_eval import evaluate

from bot.curate.stories import StoryItem, group_stories

REPORTS = ROOT / "bench" / "data" / "stories" / "reports.jsonl"


def _reports() -> list[dict[str, str]]:
    return [json.loads(line) for line in REPORTS.read_text(encoding="utf-8").splitlines()]


def _grouped(reports: list[dict[str, str]]) -> set[tuple[str, str]]:
    """Pairs of report ids put in one story, every report published within the same day."""
    t0 = datetime(2024, 5, 1, 6, tzinfo=UTC)
    items = [
        StoryItem(
            n,
            r["title"] or "",
            r["text"],
            r["outlet"],
            r["url"],
            t0 + timedelta(minutes=11 * n),
            len(r["text"].split()),
            r["language"],
        )
        for n, r in enumerate(reports)
    ]
    return {
        (reports[a.article_id]["id"], reports[b.article_id]["id"])
        for story in group_stories(items)
        for a, b in itertools.combinations(sorted(story.items, key=lambda i: i.article_id), 2)
    }


def test_the_labelled_pairs_written_for_the_project() -> None:
    true_merges, false_merges, misses, pairs = evaluate()
    # One pair merges: the library's Sunday opening and the parking fees, both out of one
    # town's budget meeting; every other same-town pair stays apart.
    assert false_merges <= 1  # a false merge hides a story: worse than a miss
    assert true_merges >= 11 and misses <= 1, (true_merges, misses, pairs)


def test_real_reports_group_by_event_not_by_topic() -> None:
    reports = _reports()
    grouped = _grouped(reports)
    event = {r["id"]: r["event"] for r in reports}
    truth = {
        (a["id"], b["id"])
        for a, b in itertools.combinations(reports, 2)
        if a["event"] == b["event"]
    }
    hits = len(grouped & truth)
    precision, recall = hits / len(grouped), hits / len(truth)
    assert precision >= 0.9 and recall >= 0.65, (precision, recall)
    # the events the issue named: two finals, two Fed rises, two Macron wins, two quakes
    for main, distractor in [
        ("wc-final-2022", "wc-final-2018"),
        ("fed-hike-2022-06", "fed-hike-2022-07"),
        ("macron-election-2022", "macron-election-2017"),
        ("luding-quake-2022", "lushan-quake-2013"),
    ]:
        assert not any({event[a], event[b]} == {main, distractor} for a, b in grouped), main


def test_an_amount_in_billions_is_the_same_however_it_is_written() -> None:
    reports = [r for r in _reports() if r["event"] == "amazon-whole-foods-2017"]
    grouped = _grouped(reports)
    assert len(grouped) >= len(reports)  # "$13.7bn" and "$13.7 billion" meet
