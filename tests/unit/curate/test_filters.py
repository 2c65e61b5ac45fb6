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
