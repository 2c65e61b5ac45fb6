"""The text form of `/digest` commands (Slack, the console), derived from the command specs.

"/digest section why now https://example.com/a share" → the `section` command with
name="why now", url="https://example.com/a", shared. Words are split like a shell's
(quotes group), except for `raw` arguments, which keep what was typed (a regex keeps its
backslashes). Values stay text here: the spec converts and checks them, for every front end
alike, after it has checked who may run the command.
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.chat.spec import ArgumentError, Command, Link, Text
from bot.errors import NewsdigestError
from bot.i18n import _

SHARE = "share"
_RAW = re.compile(r"^\s*(?:/?digest\s+)?\S+\s*(.*)$", re.IGNORECASE | re.DOTALL)


class UnknownCommand(NewsdigestError):
    kind = "unknown_command"

    def __init__(self, name: str, suggestion: str | None) -> None:
        message = _("Unknown command '{name}'.").format(name=name)
        if suggestion:
            message += " " + _("Did you mean '/digest {suggestion}'?").format(suggestion=suggestion)
        super().__init__(message)
        self.suggestion = suggestion


@dataclass(frozen=True)
class ParsedText:
    command: Command[Any]
    values: dict[str, str]
    share: bool


def parse_text(
    text: str, commands: Sequence[Command[Any]], local_files: bool = False
) -> ParsedText:
    """Find the command and its arguments' text; raises UnknownCommand or ArgumentError.

    Local paths count as article sources only where the operator allowed it (the console):
    a chat user must never be able to make the bot read the host's files."""
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    if words and words[0].lstrip("/").lower() == "digest":
        words = words[1:]
    share = any(w.lower() == SHARE for w in words[1:])
    words = [w for i, w in enumerate(words) if not (i > 0 and w.lower() == SHARE)]
    by_name = {c.name: c for c in commands}
    if not words:
        return ParsedText(by_name["help"], {}, share)
    command, used = _command(words, commands)
    if command is None:
        names = list(by_name)
        guess = difflib.get_close_matches(words[0].lower(), names, n=1)
        raise UnknownCommand(words[0].lower(), guess[0] if guess else None)
    rest = words[used:]
    raw = _raw_rest(text, used)
    values: dict[str, str] = {}
    for param in command.params:
        if param.flag and param.in_text:
            rest, raw, value = _take_flag(param.name, rest, raw)
            if value is not None:
                values[param.name] = value
    link = next((p for p in command.params if isinstance(p.kind, Link)), None)
    if link is not None and rest and _is_source(rest[-1], local_files):
        values[link.name] = _unwrap(rest[-1])
        rest = rest[:-1]
        raw = raw.rsplit(None, 1)[0] if len(raw.split()) > 1 else ""
    if command.style == "named":
        values.update(_named(command, rest))
    else:
        values.update(_positional(command, rest, raw))
    return ParsedText(command, values, share)


def _command(words: list[str], commands: Sequence[Command[Any]]) -> tuple[Command[Any] | None, int]:
    """The command the first words name, and how many words that took (aliases may take two)."""
    lowered = [w.lower() for w in words]
    for command in commands:
        for alias in command.aliases:
            if tuple(lowered[: len(alias)]) == alias:
                return command, len(alias)
    return next((c for c in commands if c.name == lowered[0]), None), 1


def _positional(command: Command[Any], words: list[str], raw: str) -> dict[str, str]:
    values: dict[str, str] = {}
    position = 0
    for param in command.params:
        if (
            isinstance(param.kind, Link)
            or param.flag
            or not param.in_text
            or not param.applies(values)
        ):
            continue
        if position >= len(words):
            break
        if isinstance(param.kind, Text) and param.kind.rest:
            if param.kind.raw:
                value = _drop_words(raw, position)
                value = re.sub(r"\s+share\s*$", "", value, flags=re.IGNORECASE)
            else:
                value = " ".join(words[position:])
            values[param.name] = value
            break
        values[param.name] = _unwrap(words[position])
        position += 1
    return values


def _take_flag(name: str, words: list[str], raw: str) -> tuple[list[str], str, str | None]:
    """Words and raw text without "--name VALUE", and the value (None when not given)."""
    option = "--" + name
    lowered = [w.lower() for w in words]
    if option not in lowered:
        return words, raw, None
    at = lowered.index(option)
    if at + 1 >= len(words):
        raise ArgumentError(_("Give a value after {option}.").format(option=option))
    value = words[at + 1]
    raw = re.sub(
        rf"(?:^|\s){re.escape(option)}\s+{re.escape(value)}(?=\s|$)", "", raw, count=1, flags=re.I
    )
    return words[:at] + words[at + 2 :], raw.strip(), value


def _named(command: Command[Any], words: list[str]) -> dict[str, str]:
    """NAME VALUE pairs ("settings articles 5 bullets 2")."""
    names = [p.name for p in command.params if p.in_text]
    values: dict[str, str] = {}
    for i in range(0, len(words), 2):
        name = words[i].lower()
        if name not in names:
            guess = difflib.get_close_matches(name, names, n=1)
            message = _("Unknown setting '{name}'.").format(name=name)
            if guess:
                message += " " + _("Did you mean '{suggestion}'?").format(suggestion=guess[0])
            message += " " + _("Settings: {names}.").format(names=", ".join(names))
            raise ArgumentError(message)
        if i + 1 >= len(words):
            raise ArgumentError(
                _("Give a value: /digest {command} {name} …").format(
                    command=command.name, name=name
                )
            )
        values[name] = words[i + 1]
    return values


def _raw_rest(text: str, used: int) -> str:
    match = _RAW.match(text)
    raw = match.group(1).strip() if match else ""
    return _drop_words(raw, used - 1)


def _drop_words(text: str, count: int) -> str:
    for _word in range(count):
        parts = text.split(None, 1)
        text = parts[1] if len(parts) > 1 else ""
    return text.strip()


def _is_source(word: str, local_files: bool) -> bool:
    if _unwrap(word).lower().startswith(("http://", "https://")):
        return True
    return local_files and _is_file(word)


def _unwrap(word: str) -> str:
    """Slack sends links as <https://x|label>."""
    if word.startswith("<") and word.endswith(">"):
        return word.strip("<>").split("|")[0]
    return word


def _is_file(word: str) -> bool:
    try:
        return Path(word).is_file()
    except (OSError, ValueError):
        return False


def help_text(commands: Sequence[Command[Any]]) -> str:
    """Every command's usage and summary, then how lookups find their article."""
    rows = [(f"/digest {c.usage_line()}", c.summary) for c in commands]
    width = 36
    lines = []
    for usage, summary in rows:
        if len(usage) < width:
            lines.append(f"{usage.ljust(width)}{summary!s}")
        else:  # a long argument line: the summary goes under it
            lines += [usage, f"{'':{width}}{summary!s}"]
    lines += [
        _("Without a URL, lookups use the article most recently digested in this channel."),
        _("Add the word 'share' to post the answer for everyone."),
    ]
    return "\n".join(lines)
