"""Command specs: one conversion and check of each argument, for text and typed values alike."""

from __future__ import annotations

import pytest

from bot.chat.commands import COMMANDS
from bot.chat.spec import Access, ArgumentError, MissingArgument

BY_NAME = {c.name: c for c in COMMANDS}


def test_text_and_typed_values_become_the_same_typed_arguments() -> None:
    settings = BY_NAME["settings"]
    from_text = settings.build({"articles": "5", "sections": "off"})
    typed = settings.build({"articles": 5, "sections": False})
    assert from_text == typed
    assert (typed.articles, typed.bullets, typed.sections) == (5, None, False)


@pytest.mark.parametrize(
    "values, message",
    [
        ({"articles": "99"}, "Articles must be a number from 1 to 25."),
        ({"articles": 0}, "Articles must be a number from 1 to 25."),
        ({"articles": True}, "Articles must be a number from 1 to 25."),
        ({"sections": "maybe"}, "Sections are 'on' or 'off'."),
    ],
)
def test_bad_values_are_refused_with_the_rule(values: dict[str, object], message: str) -> None:
    with pytest.raises(ArgumentError, match=message):
        BY_NAME["settings"].build(values)


def test_arguments_required_only_where_they_apply() -> None:
    filter_ = BY_NAME["filter"]
    assert filter_.build({"action": "clear"}).action == "clear"
    with pytest.raises(MissingArgument, match="Give its number"):
        filter_.build({"action": "remove"})
    assert filter_.build({"action": "remove", "number": "2"}).number == 2
    built = filter_.build({"action": "include", "pattern": "solar", "number": 3})
    assert built.number is None  # not an argument of include
    with pytest.raises(MissingArgument, match="Give a link"):
        BY_NAME["url"].build({})


def test_every_command_has_help_and_access_fits_its_arguments() -> None:
    names = [c.name for c in COMMANDS]
    assert len(names) == len(set(names))
    for command in COMMANDS:
        assert command.summary and command.usage_line().startswith(command.name)
        if command.access is Access.ADMIN_TO_CHANGE:
            assert command.params  # something to change
        for param in command.params:
            assert param.help and len(param.help) <= 100  # Discord's limit for descriptions
