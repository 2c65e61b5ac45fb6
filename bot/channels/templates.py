"""A channel's message templates: show, set (checked first), reset and preview.

A template is saved only once it has rendered, strictly, on the channel's latest digest and on
a sample article with every field set, through the channel's own platform renderer: a syntax
error, an unknown field, a refused construct or output over the platform's limit is an error
an admin reads, and nothing is saved.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.channels.admin import ChannelRef
from bot.delivery.poster import ChannelDigest
from bot.digest.templates import (
    KINDS,
    MAX_OUTPUT,
    PLAIN,
    Templates,
    check,
    default_template,
    header_fields,
    off_loop_for,
    render_part,
    sample_digest,
)
from bot.i18n import _
from bot.store.async_store import AsyncStore
from bot.store.repo import ChannelInfo

if TYPE_CHECKING:
    from bot.delivery.engine import Deliverer


class ChannelTemplates:
    def __init__(self, store: AsyncStore, deliverer: Deliverer) -> None:
        self.store = store
        self.deliverer = deliverer

    async def _channel(self, where: ChannelRef) -> ChannelInfo:
        channel = await self.store.channel(where.platform, where.channel_id)
        assert channel is not None
        return channel

    async def current(self, where: ChannelRef) -> Templates:
        channel = await self._channel(where)
        settings = await self.store.channel_settings(channel.id)
        return Templates(settings.header_template, settings.entry_template)

    async def show(self, where: ChannelRef) -> str:
        """Both templates as they are used here: the channel's own, or the default."""
        templates = await self.current(where)
        lines = []
        for which in KINDS:
            own = templates.get(which)
            label = (
                _("Header template") if which == "header" else _("Entry template (each article)")
            )
            state = _("custom") if own is not None else _("default")
            lines += [f"{label} ({state}):", own or default_template(where.platform, which), ""]
        lines.append(_("Change one with /digest template set header|entry TEMPLATE (admins)."))
        return "\n".join(lines)

    async def set(self, where: ChannelRef, which: str, source: str) -> str:
        """Check the template, then save it; raises TemplateError (nothing saved) when it
        cannot be used."""
        # syntax, fields, sandbox: on a sample, before any platform; off the event loop, as
        # every render of a template of the channel's own is
        await asyncio.to_thread(check, which, source)
        channel = await self._channel(where)
        candidate = replace((await self.current(where)).with_part(which, source), strict=True)
        for digest in await self._digests(channel):
            await self.deliverer.render(replace(digest, templates=candidate))
        await self.store.set_channel_settings(channel.id, **{f"{which}_template": source})
        return _("Saved the {which} template. See it with /digest template preview.").format(
            which=which
        )

    async def reset(self, where: ChannelRef, which: str | None) -> str:
        channel = await self._channel(where)
        parts = [which] if which else list(KINDS)
        await self.store.set_channel_settings(
            channel.id, **{f"{part}_template": None for part in parts}
        )
        if which:
            return _("The {which} template is the default again.").format(which=which)
        return _("Both templates are the defaults again.")

    async def preview(self, where: ChannelRef) -> ChannelDigest:
        """The channel's latest digest (or a sample) as its templates render it now."""
        channel = await self._channel(where)
        latest = await self.deliverer.latest_digest(channel)
        if latest is not None:
            return latest
        return (await self._digests(channel))[-1]

    async def _digests(self, channel: ChannelInfo) -> list[ChannelDigest]:
        """What a template is checked on: the latest digest, when there is one, and a sample."""
        latest = await self.deliverer.latest_digest(channel)
        settings = await self.store.channel_settings(channel.id)
        templates = Templates(settings.header_template, settings.entry_template)
        language = settings.language or self.deliverer.policy.language
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        sample = ChannelDigest(
            channel,
            f"now-{day}T00:00:00",
            _("News digest — {day}").format(day=day),
            (sample_digest(),),
            language=language,
            templates=templates if templates.custom else None,
        )
        return [latest, sample] if latest is not None else [sample]


async def preview_text(digest: ChannelDigest) -> str:
    """The header and entries as plain text (the console, and a fallback for notifications),
    rendered off the event loop when the channel has templates of its own."""
    return await off_loop_for(digest.templates, lambda: _preview_text(digest))


def _preview_text(digest: ChannelDigest) -> str:
    templates = digest.templates or Templates()
    entries = digest.entry_fields()
    source = replace(
        templates,
        header=templates.header or default_template("console", "header"),
        entry=templates.entry or default_template("console", "entry"),
    )
    header = render_part(
        source, "header", header_fields(digest.title, entries), PLAIN, MAX_OUTPUT
    ) or (digest.title)
    lines = [header]
    for fields in entries:
        lines.append(render_part(source, "entry", fields, PLAIN, MAX_OUTPUT) or fields["title"])
    return "\n".join(lines)
