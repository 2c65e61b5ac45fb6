"""The channel's own commands: its latest digest, its sources, its schedule, a digest now."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.channels.admin import ChannelAdmin
from bot.chat.replies import Reply, ReplyKind, info, numbered
from bot.chat.spec import Access, Command, File, Invocation, NoArgs, Text, arg
from bot.i18n import _, lazy


@dataclass(frozen=True)
class SubscribeArgs:
    url: str | None = arg(
        Text(),
        lazy("Feed or page link"),
        metavar="URL",
        required=True,
        missing=lazy("Give a feed or page link: /digest subscribe https://…"),
    )


@dataclass(frozen=True)
class UnsubscribeArgs:
    source: str | None = arg(
        Text(),
        lazy("Number from /digest sources, or the link"),
        metavar="NUMBER|URL",
        complete="sources",
        required=True,
        missing=lazy("Which one? Give its number from /digest sources, or its link."),
    )


@dataclass(frozen=True)
class ImportArgs:
    file: str | None = arg(
        File(),
        lazy("An OPML file (attach it, or give its link)"),
        metavar="OPML-URL",
        required=True,
        missing=lazy("Attach an OPML file or give its link: /digest import https://…/feeds.opml"),
    )


@dataclass(frozen=True)
class ScheduleArgs:
    when: str | None = arg(
        Text(rest=True),
        lazy("e.g. 'weekdays 08:00', 'daily 7:30', or 'off'; empty shows it"),
        metavar="WHEN [TIMEZONE]",
    )
    timezone: str | None = arg(Text(), lazy("e.g. Europe/Berlin"), in_text=False)


def _admin(run: Invocation) -> ChannelAdmin:
    admin = run.services.admin
    assert admin is not None  # commands that need it are marked needs_bot
    return admin


async def today(run: Invocation, _args: NoArgs) -> Reply:
    digests = await _admin(run).latest(run.context.where)
    if not digests:
        return info(_("No digest has been posted in this channel yet."))
    text = "\n".join(f"• {d.article.title}" for d in digests)
    return Reply(ReplyKind.DIGESTS, _("Latest digest:") + "\n" + text, digests=digests)


async def sources(run: Invocation, _args: NoArgs) -> Reply:
    rows = await _admin(run).sources(run.context.where)
    return numbered(
        rows,
        _("This channel follows no sources yet. An admin can add one: /digest subscribe URL"),
    )


async def subscribe(run: Invocation, args: SubscribeArgs) -> Reply:
    return info(await _admin(run).subscribe(run.context.where, args.url or ""))


async def unsubscribe(run: Invocation, args: UnsubscribeArgs) -> Reply:
    return info(await _admin(run).unsubscribe(run.context.where, args.source or ""))


async def import_opml(run: Invocation, args: ImportArgs) -> Reply:
    return info(await _admin(run).import_opml(run.context.where, args.file or ""))


async def schedule(run: Invocation, args: ScheduleArgs) -> Reply:
    return info(await _admin(run).schedule(run.context.where, args.when, args.timezone))


async def digest_now(run: Invocation, _args: NoArgs) -> Reply:
    return info(await _admin(run).digest_now(run.context.where))


async def pause(run: Invocation, _args: NoArgs) -> Reply:
    admin = _admin(run)
    channel = await admin.channel(run.context.where)
    if not await admin.store.pause_channel(channel.id, "paused by an admin (/digest pause)"):
        return info(_("Scheduled digests are already paused here. Resume them: /digest resume"))
    return info(_("Paused: no scheduled digests here until an admin runs /digest resume."))


async def resume(run: Invocation, _args: NoArgs) -> Reply:
    admin = _admin(run)
    channel = await admin.channel(run.context.where)
    if not channel.paused:
        return info(_("Scheduled digests are not paused here."))
    await admin.store.resume_channel(channel.id)
    if channel.schedule:
        return info(
            _("Resumed: scheduled digests are back on ({schedule}).").format(
                schedule=channel.schedule
            )
        )
    return info(_("Resumed: scheduled digests are back on."))


CHANNEL: tuple[Command[Any], ...] = (
    Command(
        "today",
        lazy("the latest digest posted here"),
        NoArgs,
        today,
        shareable=True,
        needs_bot=True,
    ),
    Command(
        "sources",
        lazy("the sources this channel follows"),
        NoArgs,
        sources,
        shareable=True,
        needs_bot=True,
    ),
    Command(
        "subscribe",
        lazy("follow a feed or page (admins)"),
        SubscribeArgs,
        subscribe,
        access=Access.ADMIN,
        needs_bot=True,
        slow=True,
    ),
    Command(
        "unsubscribe",
        lazy("stop following a source (admins)"),
        UnsubscribeArgs,
        unsubscribe,
        access=Access.ADMIN,
        needs_bot=True,
    ),
    Command(
        "import",
        lazy("follow every feed of an OPML file (admins)"),
        ImportArgs,
        import_opml,
        access=Access.ADMIN,
        needs_bot=True,
        slow=True,
    ),
    Command(
        "schedule",
        lazy("e.g. 'weekdays 08:00 Europe/Berlin'; 'schedule off' (admins)"),
        ScheduleArgs,
        schedule,
        access=Access.ADMIN_TO_CHANGE,
        needs_bot=True,
    ),
    Command(
        "now",
        lazy("post a digest of what is new, now (admins)"),
        NoArgs,
        digest_now,
        access=Access.ADMIN,
        aliases=(("digest", "now"),),
        needs_bot=True,
        slow=True,
    ),
    Command(
        "pause",
        lazy("stop scheduled digests here until resumed (admins)"),
        NoArgs,
        pause,
        access=Access.ADMIN,
        needs_bot=True,
    ),
    Command(
        "resume",
        lazy("start scheduled digests here again (admins)"),
        NoArgs,
        resume,
        access=Access.ADMIN,
        needs_bot=True,
    ),
)
