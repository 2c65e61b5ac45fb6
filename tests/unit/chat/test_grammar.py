"""The text grammar of /digest commands, derived from the specs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.paths import EXAMPLE

from bot.chat.commands import COMMANDS
from bot.chat.grammar import ParsedText, UnknownCommand, help_text, parse_text
from bot.chat.spec import ArgumentError
from bot.errors import NewsdigestError


def parse_command(text: str, local_files: bool = False) -> ParsedText:
    return parse_text(text, COMMANDS, local_files)


def test_parse_command() -> None:
    parsed = parse_command("/digest section why now https://example.com/a share")
    assert (parsed.command.name, parsed.values, parsed.share) == (
        "section",
        {"name": "why now", "url": "https://example.com/a"},
        True,
    )
    assert parse_command("").command.name == "help"
    assert parse_command('section "unbalanced').command.name == "section"


def test_paths_are_not_sources_for_chat_users() -> None:
    assert parse_command(f"summary {EXAMPLE}").values.get("url") is None
    assert parse_command(f"summary {EXAMPLE}", local_files=True).values["url"] == str(EXAMPLE)


def test_a_regex_keeps_what_was_typed_and_slack_links_are_unwrapped() -> None:
    parsed = parse_command(r'/digest filter include /\bsolar\s+"farm"\b/ share')
    assert parsed.values == {"action": "include", "pattern": r'/\bsolar\s+"farm"\b/'}
    assert parsed.share
    assert parse_command("filter remove 2").values == {"action": "remove", "number": "2"}
    assert parse_command("unsubscribe <https://example.com/feed|feed>").values == {
        "source": "https://example.com/feed"
    }


def test_a_flag_may_follow_free_text() -> None:
    parsed = parse_command(r"filter exclude /\bads?\b/ --source 2 share")
    assert parsed.values == {"action": "exclude", "pattern": r"/\bads?\b/", "source": "2"}
    assert parsed.share
    assert parse_command('filter include --source 3 "world cup"').values == {
        "action": "include",
        "source": "3",
        "pattern": '"world cup"',
    }
    with pytest.raises(ArgumentError, match="Give a value after --source"):
        parse_command("filter include cup --source")


def test_aliases_and_named_settings() -> None:
    assert parse_command("/digest digest now").command.name == "now"
    assert parse_command("settings articles 5 sections off").values == {
        "articles": "5",
        "sections": "off",
    }
    with pytest.raises(ArgumentError, match=r"Unknown setting 'artcles'\. Did you mean 'articles'"):
        parse_command("settings artcles 5")
    with pytest.raises(ArgumentError, match="Give a value"):
        parse_command("settings articles")


def test_an_unknown_command_suggests_the_closest() -> None:
    with pytest.raises(UnknownCommand) as raised:
        parse_command("sumary")
    assert raised.value.suggestion == "summary"


def test_help_lists_every_command_once() -> None:
    text = help_text(COMMANDS)
    for command in COMMANDS:
        assert text.count(f"/digest {command.name}") >= 1


@given(st.text(max_size=200))
def test_command_parser_never_raises(text: str) -> None:
    try:  # a command, or an error a user can read: never anything else
        assert parse_text(text, COMMANDS).command.name
    except NewsdigestError as exc:
        assert exc.message
