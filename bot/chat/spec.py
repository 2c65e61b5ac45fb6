"""One typed specification per `/digest` command: every front end is derived from it.

A command is a name (and aliases), who may run it, a line of help, its arguments — a frozen
dataclass whose fields are declared with `arg(...)` — and the handler that receives those
arguments typed. The text grammar (Slack, the console), Discord's command group with typed
options and autocomplete, the help text and the web console's forms all read the same spec,
and one validation (`Param.convert`) serves them all, so a value is checked in one place
whichever front end typed it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from bot.errors import NewsdigestError
from bot.i18n import _

if TYPE_CHECKING:
    from bot.chat.replies import CommandContext, Reply
    from bot.chat.services import Services

A = TypeVar("A")


class Access(Enum):
    ANYONE = "anyone"
    ADMIN = "admin"
    ADMIN_TO_CHANGE = "admin to change"  # anyone may look; giving any argument is a change


# The kinds of argument ------------------------------------------------------------------------
@dataclass(frozen=True)
class Text:
    """A word, or with `rest` the rest of the line; `raw` keeps it as typed (a regex keeps its
    backslashes and quotes) instead of as shell-like words."""

    rest: bool = False
    raw: bool = False


@dataclass(frozen=True)
class Number:
    minimum: int
    maximum: int


@dataclass(frozen=True)
class Switch:
    """On or off."""


@dataclass(frozen=True)
class Choice:
    values: tuple[str, ...]


@dataclass(frozen=True)
class Link:
    """An article's link, the last word of a line (a local file where the operator allows it)."""


@dataclass(frozen=True)
class File:
    """A file the person attaches where the platform allows it (Discord); its link in text.
    The handler gets a link either way: the adapter passes an attachment's URL."""


@dataclass(frozen=True)
class Role:
    """A role (Discord, picked from the server's roles) or a user group (Slack, as Slack
    writes it in a command: <!subteam^ID|@name>); the handler gets that text either way."""


Kind = Text | Number | Switch | Choice | Link | File | Role

ON = ("on", "yes", "true")
OFF = ("off", "no", "false")


class ArgumentError(NewsdigestError):
    kind = "bad_argument"


class MissingArgument(ArgumentError):
    kind = "missing_argument"


@dataclass(frozen=True)
class Param:
    name: str
    kind: Kind
    help: str
    metavar: str
    required: bool
    complete: str | None = None  # what autocomplete offers: "sections", "sources", "filters"
    only_with: tuple[str, tuple[str, ...]] | None = (
        None  # applies when that argument is one of these
    )
    in_text: bool = True  # False: only where options are typed (Discord, web forms)
    missing: str | None = None  # the error when a required argument is absent
    flag: bool = False  # in text, given anywhere as "--name VALUE" (not by position)
    multiline: bool = False  # a form gives it a text area (a template spans lines)

    def applies(self, values: Mapping[str, object]) -> bool:
        if self.only_with is None:
            return True
        other, wanted = self.only_with
        return str(values.get(other) or "").lower() in wanted

    def convert(self, value: object) -> object:
        """A typed value from what a front end gave (typed already, or text); raises
        ArgumentError with a message a user can act on."""
        kind, label = self.kind, self.name.capitalize()
        if isinstance(kind, Number):
            number = value if isinstance(value, int) and not isinstance(value, bool) else None
            if number is None and isinstance(value, str) and value.strip().isdigit():
                number = int(value)
            if number is None or not kind.minimum <= number <= kind.maximum:
                raise ArgumentError(
                    _("{name} must be a number from {low} to {high}.").format(
                        name=label, low=kind.minimum, high=kind.maximum
                    )
                )
            return number
        if isinstance(kind, Switch):
            if isinstance(value, bool):
                return value
            word = str(value).strip().lower()
            if word not in ON + OFF:
                raise ArgumentError(_("{name} are 'on' or 'off'.").format(name=label))
            return word in ON
        text = str(value).strip()
        if isinstance(kind, Choice):
            if text.lower() not in kind.values:
                raise ArgumentError(
                    _("{name} is one of: {choices}.").format(
                        name=label, choices=", ".join(kind.values)
                    )
                )
            return text.lower()
        return text


@dataclass(frozen=True)
class _ArgInfo:
    kind: Kind
    help: str
    metavar: str | None
    complete: str | None
    only_with: tuple[str, tuple[str, ...]] | None
    in_text: bool
    missing: str | None
    required: bool
    flag: bool
    multiline: bool


def arg(
    kind: Kind,
    help: str,
    *,
    metavar: str | None = None,
    complete: str | None = None,
    only_with: tuple[str, tuple[str, ...]] | None = None,
    in_text: bool = True,
    missing: str | None = None,
    required: bool = False,
    flag: bool = False,
    multiline: bool = False,
) -> Any:
    """Declare a command argument as a dataclass field. Arguments default to None; `required`
    ones must be given (where `only_with` applies); a `flag` is written "--name VALUE" in text,
    anywhere on the line, so that it can follow free text such as a filter's words."""
    info = _ArgInfo(
        kind, help, metavar, complete, only_with, in_text, missing, required, flag, multiline
    )
    return field(default=None, metadata={"arg": info})


@cache
def params_of(args_type: Any) -> tuple[Param, ...]:
    """The arguments a command's dataclass declares, in order."""
    params = []
    for f in dataclasses.fields(args_type):
        info: _ArgInfo = f.metadata["arg"]
        params.append(
            Param(
                f.name,
                info.kind,
                info.help,
                info.metavar or f.name.upper(),
                info.required,
                info.complete,
                info.only_with,
                info.in_text,
                info.missing,
                info.flag,
                info.multiline,
            )
        )
    return tuple(params)


@dataclass(frozen=True)
class NoArgs:
    """For commands that take no argument."""


@dataclass(frozen=True)
class Invocation:
    """What a handler gets besides its arguments: who asked where, and the bot's services."""

    context: CommandContext
    services: Services
    commands: Sequence[Command[Any]]


Handler = Callable[[Invocation, A], Awaitable["Reply"]]


@dataclass(frozen=True)
class Command(Generic[A]):
    name: str
    summary: str  # one line of help
    args: type[A]
    handler: Handler[A]
    access: Access = Access.ANYONE
    aliases: tuple[tuple[str, ...], ...] = ()  # other words that name it ("digest now")
    shareable: bool = False  # the answer may be posted for everyone ("share")
    needs_bot: bool = False  # needs the running bot's database (not the bare console)
    slow: bool = False  # may take longer than a platform waits for a first answer
    usage: str | None = None  # the argument line in help, when the derived one reads badly
    style: str = "positional"  # or "named": NAME VALUE pairs ("settings articles 5")
    refusal: str | None = None  # the answer to someone who may not run it

    @property
    def params(self) -> tuple[Param, ...]:
        spec: Any = self.args
        return params_of(spec)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def usage_line(self) -> str:
        if self.usage is not None:
            return f"{self.name} {self.usage}".strip()
        words = []
        for p in self.params:
            if not p.in_text:
                continue
            shown = (
                "|".join(p.kind.values)
                if isinstance(p.kind, Choice)
                else ("URL" if isinstance(p.kind, Link) else p.metavar)
            )
            words.append(shown if p.required and p.only_with is None else f"[{shown}]")
        return " ".join([self.name, *words])

    def build(self, values: Mapping[str, object]) -> A:
        """The typed arguments from what was given: each converted and checked, required ones
        present; raises ArgumentError."""
        typed: dict[str, object] = {}
        for p in self.params:
            value = values.get(p.name)
            if value is None or (isinstance(value, str) and not value.strip()):
                if p.required and p.applies(values):
                    raise MissingArgument(
                        str(p.missing)
                        if p.missing
                        else _("Give {what}: /digest {usage}").format(
                            what=p.metavar, usage=self.usage_line()
                        )
                    )
                continue
            if p.applies(values):
                typed[p.name] = p.convert(value)
        return self.args(**typed)

    def is_change(self, values: Mapping[str, object]) -> bool:
        return any(v is not None and v != "" for v in values.values())
