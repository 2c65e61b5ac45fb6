"""The channel's curation commands: its filters and its own settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.channels.preferences import ChannelChoices, ChannelPreferences
from bot.channels.templates import ChannelTemplates, preview_text
from bot.chat.replies import Reply, ReplyKind, info, numbered
from bot.chat.spec import (
    Access,
    Choice,
    Command,
    Invocation,
    NoArgs,
    Number,
    Role,
    Switch,
    Text,
    arg,
)
from bot.i18n import LANGUAGES, _, lazy

FILTER_HELP = lazy(
    "Use /digest filter include|exclude WORDS or /REGEX/ [--source N], filter remove NUMBER, "
    "or filter clear."
)


@dataclass(frozen=True)
class FilterArgs:
    action: str | None = arg(
        Choice(("include", "exclude", "remove", "clear")),
        lazy("include: keep only matches; exclude: drop matches; remove or clear filters"),
        required=True,
        missing=FILTER_HELP,
    )
    pattern: str | None = arg(
        Text(rest=True, raw=True),
        lazy("Words, or a /regular expression/ (include and exclude)"),
        metavar="WORDS|/REGEX/",
        only_with=("action", ("include", "exclude")),
        required=True,
        missing=FILTER_HELP,
    )
    number: int | None = arg(
        Number(1, 1000),
        lazy("Filter number to remove (see /digest filters)"),
        complete="filters",
        only_with=("action", ("remove",)),
        required=True,
        missing=lazy("Which one? Give its number from /digest filters."),
    )
    source: int | None = arg(
        Number(1, 1000),
        lazy("Only for this source's items (its number in /digest sources)"),
        metavar="N",
        complete="source numbers",
        only_with=("action", ("include", "exclude")),
        flag=True,
    )


MENTION_HELP = lazy(
    "Use /digest mention add ROLE [WORDS|/REGEX/] [--source N], mention remove NUMBER, "
    "or mention clear."
)


@dataclass(frozen=True)
class MentionArgs:
    action: str | None = arg(
        Choice(("add", "remove", "clear")),
        lazy("add a mention; remove NUMBER; clear them all"),
        required=True,
        missing=MENTION_HELP,
    )
    role: str | None = arg(
        Role(),
        lazy("The role (Discord) or user group (Slack) to mention"),
        metavar="ROLE|@GROUP",
        only_with=("action", ("add",)),
        required=True,
        missing=MENTION_HELP,
    )
    words: str | None = arg(
        Text(rest=True, raw=True),
        lazy("Mention when an article matches these words or /regex/"),
        metavar="WORDS|/REGEX/",
        only_with=("action", ("add",)),
    )
    source: int | None = arg(
        Number(1, 1000),
        lazy("Mention for this source's articles (its number in /digest sources)"),
        metavar="N",
        complete="source numbers",
        only_with=("action", ("add",)),
        flag=True,
    )
    number: int | None = arg(
        Number(1, 1000),
        lazy("Mention number to remove (see /digest mentions)"),
        only_with=("action", ("remove",)),
        required=True,
        missing=lazy("Which one? Give its number from /digest mentions."),
    )


TEMPLATE_HELP = lazy(
    "Use /digest template show, template set header|entry TEMPLATE, template reset "
    "[header|entry], or template preview."
)


@dataclass(frozen=True)
class TemplateArgs:
    action: str | None = arg(
        Choice(("show", "set", "reset", "preview")),
        lazy("show, set, reset or preview this channel's message templates"),
        required=True,
        missing=TEMPLATE_HELP,
    )
    part: str | None = arg(
        Choice(("header", "entry")),
        lazy("header: the digest's title line; entry: each article's line"),
        only_with=("action", ("set", "reset")),
    )
    template: str | None = arg(
        Text(rest=True, raw=True),
        lazy("The template, in Jinja2 (its fields are listed in the README)"),
        metavar="TEMPLATE",
        multiline=True,
        only_with=("action", ("set",)),
        required=True,
        missing=TEMPLATE_HELP,
    )


@dataclass(frozen=True)
class SettingsArgs:
    articles: int | None = arg(Number(1, 25), lazy("Articles per digest"), metavar="N")
    bullets: int | None = arg(Number(1, 10), lazy("Bullets per article"), metavar="N")
    sections: bool | None = arg(Switch(), lazy("List sections"), metavar="on|off")
    language: str | None = arg(
        Choice(LANGUAGES), lazy("The bot's language in this channel"), metavar="|".join(LANGUAGES)
    )
    translate: bool | None = arg(
        Switch(), lazy("Translate bullets into that language (needs an LLM)"), metavar="on|off"
    )


def _preferences(run: Invocation) -> ChannelPreferences:
    preferences = run.services.preferences
    assert preferences is not None  # commands that need it are marked needs_bot
    return preferences


async def list_filters(run: Invocation, _args: NoArgs) -> Reply:
    rows = await _preferences(run).list_filters(run.context.where)
    return numbered(
        rows, _("No filters here. An admin can add one: /digest filter exclude WORDS or /REGEX/")
    )


async def change_filters(run: Invocation, args: FilterArgs) -> Reply:
    preferences, where = _preferences(run), run.context.where
    if args.action in ("include", "exclude"):
        return info(
            await preferences.add_filter(where, args.action, args.pattern or "", args.source)
        )
    if args.action == "remove":
        return info(await preferences.remove_filter(where, args.number or 0))
    return info(await preferences.clear_filters(where))


async def list_mentions(run: Invocation, _args: NoArgs) -> Reply:
    rows = await _preferences(run).list_mentions(run.context.where)
    return numbered(
        rows, _("No mentions here. An admin can add one: /digest mention add ROLE WORDS")
    )


async def change_mentions(run: Invocation, args: MentionArgs) -> Reply:
    preferences, where = _preferences(run), run.context.where
    if args.action == "add":
        return info(await preferences.add_mention(where, args.role or "", args.words, args.source))
    if args.action == "remove":
        return info(await preferences.remove_mention(where, args.number or 0))
    return info(await preferences.clear_mentions(where))


def _templates(run: Invocation) -> ChannelTemplates:
    templates = run.services.templates
    assert templates is not None  # commands that need it are marked needs_bot
    return templates


async def change_template(run: Invocation, args: TemplateArgs) -> Reply:
    templates, where = _templates(run), run.context.where
    if args.action == "show":
        return info(await templates.show(where))
    if args.action == "preview":
        digest = await templates.preview(where)
        return Reply(ReplyKind.PREVIEW, await preview_text(digest), preview=digest)
    if args.action == "reset":
        return info(await templates.reset(where, args.part))
    if args.part is None:
        return info(str(TEMPLATE_HELP))
    return info(await templates.set(where, args.part, args.template or ""))


async def settings(run: Invocation, args: SettingsArgs) -> Reply:
    choices = ChannelChoices(
        args.articles, args.bullets, args.sections, args.language, args.translate
    )
    return info(await _preferences(run).settings(run.context.where, choices))


CURATION: tuple[Command[Any], ...] = (
    Command(
        "filters",
        lazy("this channel's filters, with what each dropped lately"),
        NoArgs,
        list_filters,
        shareable=True,
        needs_bot=True,
    ),
    Command(
        "filter",
        lazy("keep or drop matching items; remove NUMBER; clear (admins)"),
        FilterArgs,
        change_filters,
        access=Access.ADMIN,
        needs_bot=True,
        usage="include|exclude WORDS|/REGEX/ [--source N] | remove NUMBER | clear",
    ),
    Command(
        "mentions",
        lazy("the roles or groups this channel's digests mention, and when"),
        NoArgs,
        list_mentions,
        shareable=True,
        needs_bot=True,
    ),
    Command(
        "mention",
        lazy("mention a role or group for a source or words; remove NUMBER; clear (admins)"),
        MentionArgs,
        change_mentions,
        access=Access.ADMIN,
        needs_bot=True,
        usage="add ROLE|@GROUP [WORDS|/REGEX/] [--source N] | remove NUMBER | clear",
    ),
    Command(
        "template",
        lazy("show, set, reset or preview the digest's message templates (admins)"),
        TemplateArgs,
        change_template,
        access=Access.ADMIN,
        needs_bot=True,
        usage="show | set header|entry TEMPLATE | reset [header|entry] | preview",
    ),
    Command(
        "settings",
        lazy("show or change (admins)"),
        SettingsArgs,
        settings,
        access=Access.ADMIN_TO_CHANGE,
        needs_bot=True,
        shareable=True,
        usage="[articles N | bullets N | sections on|off | language de | translate on|off]",
        style="named",
        refusal=lazy("Only workspace or server admins can change settings."),
    ),
)
