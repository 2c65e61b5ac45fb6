"""Channel filters: words on word boundaries, RE2 regexes in linear time, invalid patterns refused."""

from __future__ import annotations

import time

import pytest

from bot.curate.filters import Candidate, FilterError, FilterRule, matches, parse_pattern


def test_catastrophic_patterns_cannot_hang_the_bot() -> None:
    rule = FilterRule(1, "exclude", "(a+)+$", True)
    started = time.monotonic()
    assert matches(rule, Candidate(1, "x", "a" * 200_000 + "!")) in (True, False)
    assert time.monotonic() - started < 2.0  # RE2 is linear; a backtracking engine never ends
    for bad in ("/(?<=x)y/", r"/(a)\1/", "//"):
        with pytest.raises(FilterError):
            parse_pattern(bad)
    words = FilterRule(2, "exclude", "vote", False)
    assert matches(words, Candidate(1, "The VOTE passed", "")) and not matches(
        words, Candidate(1, "Voters queue", "")
    )


def test_words_match_in_the_articles_language_and_chinese_as_written() -> None:
    election = FilterRule(3, "exclude", "élection", False)
    french = "Les Élections municipales auront lieu en mars."
    assert matches(election, Candidate(1, "Politique", french, "fr"))
    assert not matches(election, Candidate(2, "Politique", "Une sélection de livres.", "fr"))
    phrase = FilterRule(4, "include", '"coupe du monde"', False)
    assert matches(phrase, Candidate(3, "La Coupe du Monde commence", "", "fr"))
    assert not matches(phrase, Candidate(4, "Le monde de la coupe", "", "fr"))
    german = FilterRule(5, "exclude", "Größe", False)
    assert matches(german, Candidate(5, "Die größe Frage", "", "de"))
    chinese = FilterRule(6, "exclude", "地震", False)
    assert matches(chinese, Candidate(6, "四川泸定发生6.8级地震", "", "zh"))
    assert not matches(chinese, Candidate(7, "国家统计局公布数据", "", "zh"))


def test_a_rule_for_one_source_judges_only_that_sources_items() -> None:
    from bot.curate.filters import apply_filters

    only_sport = FilterRule(7, "include", "cup", False, source_id=2, source="sport.example/feed")
    no_ads = FilterRule(8, "exclude", "sponsored", False)
    items = [
        Candidate(1, "Cup final tonight", "", sources=frozenset({2})),
        Candidate(2, "Transfer rumours", "", sources=frozenset({2})),
        Candidate(3, "Council budget", "", sources=frozenset({1})),
        Candidate(4, "Sponsored: a new car", "", sources=frozenset({1})),
        Candidate(5, "Council budget and cup", "", sources=frozenset({1, 2})),
    ]
    kept, dropped = apply_filters([only_sport, no_ads], items)
    assert [c.article_id for c in kept] == [1, 3, 5]
    assert [(c.article_id, r.id) for c, r in dropped] == [(2, 7), (4, 8)]
    assert only_sport.describe() == "include cup (from sport.example/feed only)"
