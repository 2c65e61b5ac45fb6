"""The `/digest` command group for Discord, derived from the command specs.

Each spec becomes an app command whose options are its typed arguments (numbers with their
ranges, choices, on/off switches, text, links), with autocomplete where the spec names what
to offer, and a `share` option where the answer may be posted for everyone. The values reach
the command layer typed; nothing is turned back into text and parsed again.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal, Optional

import discord
from discord import app_commands

from bot.chat.spec import Choice, Command, File, Kind, Link, Number, Role, Switch, Text

Completer = Callable[[discord.Interaction[Any], str], Awaitable[list[Any]]]
Run = Callable[[discord.Interaction[Any], Command[Any], dict[str, Any], bool], Awaitable[None]]

DESCRIPTION_LIMIT = 100


def build_group(
    commands: Sequence[Command[Any]], run: Run, completer: Callable[[str], Completer]
) -> app_commands.Group:
    group = app_commands.Group(
        name="digest",
        description="News digests: summaries, sections and schedules",
        guild_only=True,
    )
    for command in commands:
        group.add_command(app_command(command, run, completer))
    return group


def app_command(
    command: Command[Any], run: Run, completer: Callable[[str], Completer]
) -> app_commands.Command[Any, ..., None]:
    """One spec as a Discord app command: its signature is built from the spec's arguments, which
    is what discord.py reads to declare the options (types, ranges, choices, required)."""

    async def callback(interaction: discord.Interaction[Any], **options: Any) -> None:
        share = bool(options.pop("share", False))
        await run(interaction, command, options, share)

    parameters = [
        inspect.Parameter(
            "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
        )
    ]
    descriptions: dict[str, str] = {}
    completers: dict[str, Completer] = {}
    for param in command.params:
        required = param.required and param.only_with is None
        annotation = _annotation(param.kind)
        parameters.append(
            inspect.Parameter(
                param.name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=annotation if required else Optional[annotation],  # noqa: UP045
                default=inspect.Parameter.empty if required else None,
            )
        )
        descriptions[param.name] = _clip(param.help)
        if param.complete:
            completers[param.name] = completer(param.complete)
    if command.shareable:
        parameters.append(
            inspect.Parameter(
                "share", inspect.Parameter.KEYWORD_ONLY, annotation=bool, default=False
            )
        )
        descriptions["share"] = "Post the answer for everyone"
    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    callback.__discord_app_commands_param_description__ = descriptions  # type: ignore[attr-defined]
    if completers:
        callback = app_commands.autocomplete(**completers)(callback)  # type: ignore[arg-type]
    return app_commands.Command(
        name=command.name, description=_clip(command.summary), callback=callback
    )


def _annotation(kind: Kind) -> Any:
    if isinstance(kind, Number):
        return app_commands.Range[int, kind.minimum, kind.maximum]
    if isinstance(kind, Switch):
        return bool
    if isinstance(kind, Choice):
        return Literal[kind.values]
    if isinstance(kind, File):
        return discord.Attachment
    if isinstance(kind, Role):
        return discord.Role
    assert isinstance(kind, Text | Link)
    return str


def _clip(text: str) -> str:
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"
