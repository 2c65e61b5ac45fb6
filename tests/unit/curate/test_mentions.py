"""Mentions: only a role or user group an admin named, by id; never everyone, here or channel."""

from __future__ import annotations

import pytest

from bot.curate.filters import Candidate
from bot.curate.mentions import MentionError, MentionRule, mentioned, parse_target


@pytest.mark.parametrize(
    ("platform", "text", "target"),
    [
        ("discord", "<@&123456789012345678>", "123456789012345678"),
        ("discord", "123456789012345678", "123456789012345678"),
        ("slack", "<!subteam^S0SPORTS1|@sports>", "S0SPORTS1"),
        ("slack", "!subteam^S0SPORTS1", "S0SPORTS1"),  # as the text grammar unwraps it
        ("slack", "S0SPORTS1", "S0SPORTS1"),
    ],
)
def test_a_role_or_group_is_kept_as_its_id(platform: str, text: str, target: str) -> None:
    assert parse_target(platform, text) == target


@pytest.mark.parametrize(
    ("platform", "text"),
    [
        ("discord", "@everyone"),
        ("discord", "@here"),
        ("discord", "<@123456789012345678>"),  # a person, not a role
        ("discord", "<@&1>"),
        ("slack", "<!channel>"),
        ("slack", "<!here>"),
        ("slack", "<!everyone>"),
        ("slack", "<@U0123ABCD>"),
        ("slack", "@sports"),  # a name Slack did not turn into an id
        ("console", "S0SPORTS1"),
    ],
)
def test_everyone_here_people_and_names_are_refused(platform: str, text: str) -> None:
    with pytest.raises(MentionError):
        parse_target(platform, text)


def test_each_target_once_in_the_order_configured() -> None:
    rules = [
        MentionRule(1, "B", pattern="cup"),
        MentionRule(2, "A", source_id=7),
        MentionRule(3, "B", source_id=7),
        MentionRule(4, "C", pattern="tram"),
    ]
    items = [
        Candidate(1, "Cup final tonight", "", sources=frozenset({3})),
        Candidate(2, "Budget", "", sources=frozenset({7})),
    ]
    assert mentioned(rules, items) == ["B", "A"]
    assert mentioned(rules, []) == []
