"""Administering a channel: what it follows, when it gets digests, a digest now, the latest one.

Every front end (chat commands, the web console) reaches the running bot's channels through
this one place, so a subscription made in Slack and one made in a browser are checked alike.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.channels.opml import import_feeds
from bot.delivery.polling import local_source
from bot.delivery.schedule import ScheduleError, parse_schedule
from bot.digest.sections import build_article
from bot.errors import FetchError, InputError, NewsdigestError
from bot.i18n import _, ngettext
from bot.ingest import is_url, read_source
from bot.models import Digest
from bot.store.async_store import AsyncStore
from bot.store.repo import ChannelInfo, SourceInfo

if TYPE_CHECKING:
    from bot.delivery.engine import Deliverer
    from bot.delivery.polling import SourcePoller
    from bot.digest.cache import DigestCache
    from bot.ingest.fetch import FetchOptions


@dataclass(frozen=True)
class ChannelRef:
    """A channel as a platform names it."""

    platform: str
    channel_id: str
    tenant: str | None = None  # the workspace or server, where the platform said


class ChannelAdmin:
    def __init__(
        self,
        store: AsyncStore,
        digests: DigestCache,
        deliverer: Deliverer,
        poller: SourcePoller,
        fetch_settings: FetchOptions | None,
    ) -> None:
        self.store = store
        self.digests = digests
        self.deliverer = deliverer
        self.poller = poller
        self.fetch_settings = fetch_settings

    async def channel(self, where: ChannelRef) -> ChannelInfo:
        """The channel's row, made on first use."""
        channel = await self.store.channel(where.platform, where.channel_id, tenant=where.tenant)
        assert channel is not None
        return channel

    async def first_request(self, request_key: str) -> bool:
        """False when this platform request (a replayed slash command) was handled before."""
        return await self.store.first_receipt(request_key)

    async def sources(self, where: ChannelRef) -> list[str]:
        rows = []
        for source in await self.store.channel_sources((await self.channel(where)).id):
            status = (
                _(" — paused: {error}").format(error=source.last_error)
                if source.paused
                else (
                    _(" — failing: {error}").format(error=source.last_error)
                    if source.failures
                    else ""
                )
            )
            rows.append(f"{display_source(source.url)}{status}")
        return rows

    async def subscribe(self, where: ChannelRef, url: str) -> str:
        """Follow a feed or page after checking that it can be read and holds articles; the
        operator at the console may follow local files and folders too."""
        if where.platform == "console" and not is_url(url) and Path(url).exists():
            return await self._subscribe_local(where, url)
        if not url.lower().startswith(("http://", "https://")):
            raise InputError(_("Subscribe to an http(s) link of a feed or a page."))
        from bot.ingest.teasers import followable

        try:
            docs = await read_source(url, self.fetch_settings)
        except (FetchError, InputError) as exc:
            raise NewsdigestError(
                _("Could not subscribe to {url}: {message}").format(url=url, message=exc.message)
            ) from exc
        if not any(followable(d) or build_article(d).sentences for d in docs):
            raise NewsdigestError(_("{url} has no readable articles.").format(url=url))
        channel = await self.channel(where)
        _source, created = await self.store.subscribe(channel.id, url)
        if not created:
            return _("This channel already follows {url}.").format(url=url)
        schedule_hint = (
            ""
            if channel.schedule
            else " " + _("Set a schedule with /digest schedule weekdays 08:00 Europe/Berlin.")
        )
        if len(docs) > 1 or docs[0].guid:
            followed = ngettext(
                "Following {url} (feed, {count} item now).",
                "Following {url} (feed, {count} items now).",
                len(docs),
            )
        else:
            followed = _("Following {url} (page).")
        return followed.format(url=url, count=len(docs)) + schedule_hint

    async def import_opml(self, where: ChannelRef, url: str) -> str:
        """Follow every feed an OPML file lists (read from its link: an attachment's too)."""
        from bot.channels.opml import read_opml
        from bot.ingest.fetch import fetch

        if not url.lower().startswith(("http://", "https://")):
            raise InputError(_("Attach an OPML file or give its http(s) link."))
        try:
            fetched = await fetch(url, self.fetch_settings)
        except (FetchError, InputError) as exc:
            raise NewsdigestError(
                _("Could not read {url}: {message}").format(url=url, message=exc.message)
            ) from exc
        opml = await asyncio.to_thread(read_opml, fetched.body)
        channel = await self.channel(where)
        report = await self.store.run(import_feeds, self.store.sync, channel.id, opml)
        return report.describe(_("this channel"))

    async def _subscribe_local(self, where: ChannelRef, path: str) -> str:
        channel = await self.channel(where)
        _source, created = await self.store.subscribe(channel.id, local_source(path))
        if not created:
            return _("This channel already follows {url}.").format(url=path)
        return _("Following {path}.").format(path=path)

    async def unsubscribe(self, where: ChannelRef, which: str) -> str:
        """Stop following a source given by its number in `sources` or by its link."""
        channel = await self.channel(where)
        sources = await self.store.channel_sources(channel.id)
        chosen: SourceInfo | None
        if which.isdigit() and 1 <= int(which) <= len(sources):
            chosen = sources[int(which) - 1]
        else:
            chosen = next(
                (s for s in sources if s.url == which or s.url.rstrip("/") == which.rstrip("/")),
                None,
            )
        if chosen is None:
            raise NewsdigestError(
                _("No source '{which}' here. See /digest sources for the numbers.").format(
                    which=which
                )
            )
        await self.store.unsubscribe(channel.id, chosen.id)
        return _("Stopped following {source}.").format(source=display_source(chosen.url))

    async def schedule(self, where: ChannelRef, when: str | None, timezone: str | None) -> str:
        """Show the schedule (no `when`), turn it off ("off"), or set it; setting one resumes a
        channel that was paused."""
        channel = await self.channel(where)
        if when is None:
            if not channel.schedule:
                return _("No schedule set. Example: /digest schedule weekdays 08:00 Europe/Berlin")
            if channel.paused:
                return _("Digests are posted {schedule} (paused: {reason}).").format(
                    schedule=channel.schedule, reason=channel.paused_reason
                )
            return _("Digests are posted {schedule}.").format(schedule=channel.schedule)
        if when.strip().lower() == "off":
            await self.store.set_schedule(channel.id, None, channel.timezone)
            return _("Scheduled digests are off for this channel.")
        try:
            schedule = parse_schedule(
                when, timezone or (channel.timezone if channel.schedule else None)
            )
        except ScheduleError as exc:
            raise NewsdigestError(exc.message) from exc
        await self.store.set_schedule(channel.id, schedule.describe(), schedule.timezone)
        if channel.paused:
            await self.store.resume_channel(channel.id)
        return _("Digests will be posted {schedule}.").format(schedule=schedule.describe())

    async def latest(self, where: ChannelRef) -> tuple[Digest, ...]:
        """The articles of the digest posted last in the channel."""
        channel = await self.store.channel(where.platform, where.channel_id, create=False)
        delivery = await self.store.last_sent_delivery(channel.id) if channel else None
        if delivery is None:
            return ()
        return tuple(await self.digests.get_many(delivery.article_ids))

    async def digest_now(self, where: ChannelRef) -> str:
        """Poll, then post what is new in a one-off slot of its own."""
        channel = await self.channel(where)
        if channel.platform not in self.deliverer.posters:
            raise NewsdigestError(_("This channel's platform is not connected right now."))
        await self.poller.poll_due()
        delivery = await self.deliverer.deliver_now(channel)
        if delivery is None or delivery.state == "skipped":
            return _("Nothing new since the last digest.")
        if delivery.state == "sent":
            count = len(delivery.article_ids)
            return ngettext(
                "Posted a digest of {count} article.", "Posted a digest of {count} articles.", count
            ).format(count=count)
        return _("The digest could not be posted yet ({error}); it will be retried.").format(
            error=delivery.error
        )

    async def thread_digests(self, where: ChannelRef, thread_ref: str | None) -> list[Digest]:
        """The articles of the digest posted in that thread, or the channel's latest article."""
        in_thread = await self.digest_thread(where, thread_ref) if thread_ref else None
        if in_thread:
            return in_thread
        channel = await self.store.channel(where.platform, where.channel_id, create=False)
        if channel is None:
            return []
        latest = await self.store.last_article_id(channel.id)
        ids = [latest] if latest is not None else []
        if not ids and (sent := await self.store.last_sent_delivery(channel.id)):
            ids = sent.article_ids[:1]
        return await self.digests.get_many(ids)

    async def is_digest_thread(self, where: ChannelRef, thread_ref: str) -> bool:
        """Whether a digest posted in this channel started that thread (Discord asks for each
        command in a thread: only a digest's thread speaks for the channel above it)."""
        channel = await self.store.channel(where.platform, where.channel_id, create=False)
        if channel is None:
            return False
        return await self.store.delivery_by_thread(channel.id, thread_ref) is not None

    async def digest_thread(self, where: ChannelRef, thread_ref: str) -> list[Digest] | None:
        """The articles of the digest that started that thread; None when no digest did."""
        channel = await self.store.channel(where.platform, where.channel_id, create=False)
        if channel is None:
            return None
        delivery = await self.store.delivery_by_thread(channel.id, thread_ref)
        if delivery is None or not delivery.article_ids:
            return None
        return await self.digests.get_many(delivery.article_ids)


def display_source(url: str) -> str:
    """A source as people read it: local folders without their storage prefix."""
    return url.removeprefix("path:")
