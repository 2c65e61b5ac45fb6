"""Forms from the command specs: the web console changes a channel through `/digest` commands.

A form is one command's arguments as fields (a choice becomes a select, a number a number
box, on/off a select, text a text box); what the browser posts is handed to the same
`CommandHandler.run` that Slack and Discord use, so the values are converted and checked in
one place (`Param.convert`) and the errors read the same as in chat. Nothing here checks a
value itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.chat.spec import Choice, Command, Number, Switch


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    widget: str  # "select", "number", "text", "textarea"
    options: tuple[tuple[str, str], ...] = ()  # (value, label) for selects
    minimum: int | None = None
    maximum: int | None = None
    required: bool = False
    only_with: tuple[str, tuple[str, ...]] | None = None

    @property
    def hint(self) -> str:
        """When the field applies, for people (the browser sends it either way)."""
        if self.only_with is None:
            return ""
        other, values = self.only_with
        return f"({other}: {', '.join(values)})"


@dataclass(frozen=True)
class Form:
    command: str
    title: str
    fields: tuple[Field, ...]


def form_for(
    command: Command[Any],
    choices: Mapping[str, Sequence[tuple[str, str]]] | None = None,
    hidden: Sequence[str] = (),
) -> Form:
    """The command's arguments as fields; `choices` turns an argument that autocompletes
    (a source's number) into a select of the channel's own values."""
    fields = []
    for p in command.params:
        if p.name in hidden:
            continue
        label = str(p.help)
        offered = (choices or {}).get(p.complete or "")
        if offered is not None:
            options = (("", "—"), *offered) if not p.required else tuple(offered)
            fields.append(Field(p.name, label, "select", tuple(options), only_with=p.only_with))
        elif isinstance(p.kind, Choice):
            options = tuple((v, v) for v in p.kind.values)
            if not p.required:
                options = (("", "—"), *options)
            fields.append(
                Field(p.name, label, "select", options, required=p.required, only_with=p.only_with)
            )
        elif isinstance(p.kind, Switch):
            fields.append(Field(p.name, label, "select", (("", "—"), ("on", "on"), ("off", "off"))))
        elif isinstance(p.kind, Number):
            fields.append(
                Field(
                    p.name,
                    label,
                    "number",
                    minimum=p.kind.minimum,
                    maximum=p.kind.maximum,
                    only_with=p.only_with,
                )
            )
        else:
            widget = "textarea" if p.multiline else "text"
            fields.append(Field(p.name, label, widget, only_with=p.only_with))
    return Form(command.name, str(command.summary), tuple(fields))


def values_from(command: Command[Any], posted: Mapping[str, str]) -> dict[str, object]:
    """The command's values from a posted form: only its own arguments, empty ones left out
    (as an option Discord's user did not fill)."""
    values: dict[str, object] = {}
    for p in command.params:
        given = posted.get(p.name)
        if given is not None and str(given).strip():
            values[p.name] = str(given)
    return values
