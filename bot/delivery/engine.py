"""Posting each channel's digest exactly once per slot, across crashes and processes.

The (channel, slot) delivery row is claimed before anything is posted; each
posted part is recorded with its platform message id; a restart continues from
the first unrecorded part, asking the platform first whether that part already
went out (Slack: message metadata; Discord: the nonce makes a resend return the
first message). So a crash before the post posts once, a crash between post and
record does not post twice. Where a platform cannot answer that question the
guarantee is at-least-once for that one part.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.curate.selection import Curated, also_outlets, curate
from bot.delivery.leases import LEASE, Lease, LeaseClock, LeaseKeeper
from bot.delivery.poster import ChannelDigest, Poster, PostError, part_key
from bot.delivery.schedule import Schedule, ScheduleError, parse_schedule, slots_between
from bot.digest.cache import DigestCache
from bot.digest.templates import Templates
from bot.i18n import _, using
from bot.models import Digest
from bot.ops.metrics import METRICS
from bot.store.async_store import AsyncStore
from bot.store.repo import (
    FAILED,
    SENDING,
    SKIPPED,
    ChannelInfo,
    ChannelSettings,
    DeliveryInfo,
)
from bot.summarize.translate import Translator

log = logging.getLogger(__name__)

MAX_CATCH_UP = timedelta(days=7)
MAX_ATTEMPTS = 8
CANDIDATES = 300  # new articles looked at per digest, before filters, grouping and ranking
MAX_INLINE_WAIT = 60.0  # a Retry-After up to this is waited out in place; longer go to retry_at
# channel deliveries in flight: enough to keep the platforms busy, few enough that the first
# posts start at once
CHANNEL_CONCURRENCY = 200


@dataclass(frozen=True)
class DeliveryPolicy:
    """When a slot may still be posted, how far back a digest reaches, how many stories."""

    grace: timedelta = timedelta(hours=2)
    lookback: timedelta = timedelta(hours=48)
    max_articles: int = 10
    language: str = "en"  # of the bot's own words, where a channel has not chosen


@dataclass
class DeliveryStats:
    posted: int = 0
    skipped: int = 0
    failed: int = 0
    rate_limited: int = 0


class Deliverer:
    def __init__(
        self,
        store: AsyncStore,
        digests: DigestCache,
        posters: Mapping[str, Poster],
        policy: DeliveryPolicy = DeliveryPolicy(),
        *,
        lease: timedelta = LEASE,
        concurrency: int = CHANNEL_CONCURRENCY,
        translator: Translator | None = None,
    ) -> None:
        self.store = store
        self.digests = digests
        self.translator = translator  # with an LLM: bullets in the channel's language on request
        self.posters = posters
        self.policy = policy
        self.lease = lease
        self.concurrency = max(concurrency, 1)
        self.owner = f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self.leases = LeaseKeeper(store, self.owner, lease)
        self.stats = DeliveryStats()

    @property
    def grace(self) -> timedelta:
        return self.policy.grace

    async def deliver_now(
        self, channel: ChannelInfo, now: datetime | None = None
    ) -> DeliveryInfo | None:
        """`/digest now`: a one-off slot of its own, claimed and posted like a scheduled one."""
        now = now or datetime.now(UTC)
        return await self.deliver(channel, digest_now_slot(now), now)

    async def preview(
        self, channel: ChannelInfo, now: datetime | None = None
    ) -> tuple[ChannelDigest | None, int]:
        """What the channel's next digest would hold if it were posted now, and how many
        messages it would take on its platform; nothing is claimed, recorded or sent (the web
        console's preview). (None, 0) when nothing new would be posted."""
        now = now or datetime.now(UTC)
        candidates = await self.store.new_articles_for(
            channel.id, now - self.policy.lookback, CANDIDATES
        )
        if not candidates:
            return None, 0
        curated = await self.store.run(self._curate, channel, candidates, now, False)
        if not curated.stories:
            return None, 0
        digest = await self._channel_digest(
            channel, digest_now_slot(now), curated.shown, curated.stories, curated.mentions
        )
        if not digest.digests:
            return None, 0
        poster = self.posters.get(channel.platform)
        return digest, len(poster.render(digest)) if poster is not None else 0

    # the periodic entry point ---------------------------------------------------------------
    async def tick(self, now: datetime | None = None) -> None:
        """Finish interrupted deliveries, then post or skip every slot that fell due.

        Channels are served concurrently (bounded), so a rush of due channels drains at the
        platforms' pace rather than one whole digest after another."""
        now = now or datetime.now(UTC)
        unfinished = await self.store.unfinished_deliveries()
        channels = await self.store.channels()
        jobs: list[Awaitable[None]] = [
            self._guarded(self._resume(d, now), f"resume digest {d.id}")
            for d in unfinished
            if d.lease_until is None or d.lease_until <= now
        ]
        jobs += [
            self._guarded(self.run_channel(c, now), f"digest for {c.platform}:{c.external_id}")
            for c in channels
            if c.schedule and not c.paused and c.platform in self.posters
        ]
        await self._bounded(jobs)

    async def _bounded(self, jobs: Sequence[Awaitable[None]]) -> None:
        gate = asyncio.Semaphore(self.concurrency)

        async def one(job: Awaitable[None]) -> None:
            async with gate:
                await job

        await asyncio.gather(*(one(job) for job in jobs))

    @staticmethod
    async def _guarded(job: Awaitable[Any], what: str) -> None:
        try:
            await job
        except Exception:
            log.exception("%s failed; will retry on the next tick", what)

    async def run_channel(self, channel: ChannelInfo, now: datetime) -> None:
        try:
            schedule = parse_schedule(channel.schedule or "", channel.timezone)
        except ScheduleError as exc:
            log.error(
                "channel %s has an unusable schedule %r: %s",
                channel.external_id,
                channel.schedule,
                exc,
            )
            return
        pending = await self.store.run(self._pending_slots, channel, schedule, now)
        if not pending:
            return
        *missed, (latest_slot, latest_at) = pending
        for slot, _at in missed:
            await self._skip(channel, slot, "a later digest replaced it", now)
        if now - latest_at <= self.policy.grace:
            await self.deliver(channel, latest_slot, now)
        elif await self._skip(channel, latest_slot, "the bot was not running when it was due", now):
            await self._notice(
                channel,
                lambda: _(
                    "The {slot} digest was skipped because the bot was not running when it was "
                    "due; the next one will include those articles."
                ).format(slot=latest_slot.replace("T", " ")),
            )

    def _pending_slots(
        self, channel: ChannelInfo, schedule: Schedule, now: datetime
    ) -> list[tuple[str, datetime]]:
        start = max(channel.schedule_since, now - MAX_CATCH_UP)
        return [
            (slot, at)
            for slot, at in slots_between(schedule, start, now)
            if self.store.sync.delivery(channel.id, slot) is None
        ]

    async def _skip(self, channel: ChannelInfo, slot: str, why: str, now: datetime) -> bool:
        claimed = (
            await self.store.claim_delivery(channel.id, slot, state=SKIPPED, error=why, now=now)
            is not None
        )
        if claimed:
            self.stats.skipped += 1
            log.info(
                "skipped digest for %s:%s slot %s: %s",
                channel.platform,
                channel.external_id,
                slot,
                why,
            )
        return claimed

    # one delivery --------------------------------------------------------------------------------
    async def deliver(
        self, channel: ChannelInfo, slot: str, now: datetime | None = None
    ) -> DeliveryInfo | None:
        """Claim the slot, then post; None when another process or an earlier run owns it."""
        now = now or datetime.now(UTC)
        clock = LeaseClock(now)
        delivery = await self.store.claim_delivery(
            channel.id,
            slot,
            now=now,
            lease_owner=self.owner,
            lease_until=now + self.lease,
        )
        if delivery is None:
            return None
        async with Lease(self.leases, delivery.id, clock) as lease:
            planned = await self._plan(channel, delivery.id, slot, now)
            if planned is None:
                return await self.store.delivery_by_id(delivery.id)
            _shown, parts = planned
            started = time.monotonic()
            await self._send_parts(channel, delivery.id, parts, 0, None, False, clock, lease)
        return await self._posted(channel, delivery.id, now, clock, started, len(parts))

    async def _posted(
        self,
        channel: ChannelInfo,
        delivery_id: int,
        now: datetime,
        clock: LeaseClock,
        started: float,
        parts: int,
        resumed: bool = False,
    ) -> DeliveryInfo | None:
        """Log and count a digest that went out, first try or resumed after a crash alike."""
        final = await self.store.delivery_by_id(delivery_id)
        if final and final.state == "sent":
            METRICS.slot_delay.observe(
                max((clock.now() - _slot_time(final.slot, now)).total_seconds(), 0.0)
            )
            log.info(
                "posted digest to %s:%s slot=%s articles=%d parts=%d in %.2fs%s",
                channel.platform,
                channel.external_id,
                final.slot,
                len(final.article_ids),
                parts,
                time.monotonic() - started,
                " (resumed)" if resumed else "",
            )
        return final

    async def _resume(self, delivery: DeliveryInfo, now: datetime) -> None:
        if delivery.retry_at and delivery.retry_at > now:
            return
        channel = await self.store.channel_by_id(delivery.channel_id)
        if channel is None or channel.platform not in self.posters or channel.paused:
            return
        if not await self.store.take_lease(delivery.id, self.owner, now, now + self.lease):
            return  # its sender is still at work (this process or another)
        clock = LeaseClock(now)
        if delivery.parts_sent == 0 and now - delivery.created_at > self.policy.grace:
            await self.store.set_delivery_state(
                delivery.id,
                SKIPPED,
                "not posted within the grace period",
            )
            self.stats.skipped += 1
            log.info(
                "skipped digest for %s:%s slot %s: interrupted and past the grace period",
                channel.platform,
                channel.external_id,
                delivery.slot,
            )
            await self._notice(
                channel,
                lambda: _(
                    "The {slot} digest was skipped: it was interrupted and is now too late to post."
                ).format(slot=delivery.slot.replace("T", " ")),
            )
            return
        started = time.monotonic()
        async with Lease(self.leases, delivery.id, clock) as lease:
            if not delivery.article_ids:  # crashed before planning: plan now
                planned = await self._plan(channel, delivery.id, delivery.slot, now)
                if planned is None:
                    return
                parts = planned[1]
            else:  # planned before the crash: the very same stories, so the very same parts
                plan = delivery.plan or {}
                digest = await self._channel_digest(
                    channel,
                    delivery.slot,
                    delivery.article_ids,
                    plan.get("stories"),
                    plan.get("mentions") or (),
                )
                if "templates" in plan:  # the templates it was planned with, not newer ones
                    digest = replace(digest, templates=Templates.from_plan(plan["templates"]))
                parts = self._render(digest)
            await self._send_parts(
                channel,
                delivery.id,
                parts,
                delivery.parts_sent,
                delivery.thread_ref,
                # a part may be out without its record only if the parts were planned: a
                # delivery that crashed before planning sent nothing, so no platform lookup
                bool(delivery.article_ids),
                clock,
                lease,
            )
        await self._posted(channel, delivery.id, now, clock, started, len(parts), resumed=True)

    async def _plan(
        self, channel: ChannelInfo, delivery_id: int, slot: str, now: datetime
    ) -> tuple[list[int], Sequence[Any]] | None:
        """Curate the channel's new articles into this delivery's parts and store the plan;
        None when nothing is left to post (the delivery is then settled as skipped, and what
        filters dropped is marked handled)."""
        candidates = await self.store.new_articles_for(
            channel.id, now - self.policy.lookback, CANDIDATES
        )
        curated = (
            await self.store.run(self._curate, channel, candidates, now) if candidates else None
        )
        if curated is None or not curated.stories:
            why = "nothing new" if curated is None else "every new article was filtered out"
            if curated is not None:
                await self.store.plan_delivery(delivery_id, [], 0, curated.as_plan())
            await self.store.finish_delivery(delivery_id, SKIPPED, why)
            log.info("%s for %s:%s slot %s", why, channel.platform, channel.external_id, slot)
            return None
        digest = await self._channel_digest(
            channel, slot, curated.shown, curated.stories, curated.mentions
        )
        if not digest.digests:  # every new article had text but gave no bullet: never post empty
            why = "no new article gave a bullet"
            await self.store.plan_delivery(delivery_id, [], 0, curated.as_plan())
            await self.store.finish_delivery(delivery_id, SKIPPED, why)
            log.info("%s for %s:%s slot %s", why, channel.platform, channel.external_id, slot)
            return None
        parts = self._render(digest)
        plan: dict[str, Any] = dict(curated.as_plan())
        if digest.templates is not None:
            plan["templates"] = digest.templates.as_plan()
        await self.store.plan_delivery(delivery_id, curated.shown, len(parts), plan)
        return curated.shown, parts

    async def _send_parts(
        self,
        channel: ChannelInfo,
        delivery_id: int,
        parts: Sequence[Any],
        first: int,
        thread_ref: str | None,
        reconcile: bool,
        clock: LeaseClock,
        lease: Lease,
    ) -> None:
        """Send from `first` on; a short Retry-After is waited out here, exactly, holding the lease."""
        poster = self.posters[channel.platform]
        index = first
        waits = 0
        while index < len(parts):
            if lease.lost:
                return
            key = part_key(delivery_id, index)
            try:
                sent = (
                    await poster.find(channel.external_id, key, thread_ref) if reconcile else None
                )
                if sent is None:
                    sent = await poster.send(channel.external_id, parts[index], key, thread_ref)
            except PostError as exc:
                if exc.retry_after is not None:
                    self.stats.rate_limited += 1
                    METRICS.rate_limited.labels(platform=channel.platform).inc()
                if (
                    not exc.permanent
                    and exc.retry_after is not None
                    and exc.retry_after <= MAX_INLINE_WAIT
                    and waits < MAX_ATTEMPTS
                ):
                    waits += 1
                    log.info(
                        "%s asked digest %d to wait %.2fs; waiting",
                        channel.platform,
                        delivery_id,
                        exc.retry_after,
                    )
                    await asyncio.sleep(exc.retry_after)
                    reconcile = reconcile or exc.maybe_sent
                    continue
                await self._post_failed(channel, delivery_id, exc, clock.now())
                return
            except Exception as exc:
                await self._post_failed(
                    channel, delivery_id, PostError(f"{type(exc).__name__}: {exc}"), clock.now()
                )
                return
            reconcile = False
            thread_ref = thread_ref or sent.thread_ref or sent.message_ref
            await self.store.part_sent(
                delivery_id,
                index,
                sent.message_ref,
                thread_ref,
                lease.until(),
            )
            index += 1
        await self.store.finish_delivery(delivery_id)
        self.stats.posted += 1
        METRICS.digest_posted(channel.platform)

    async def _post_failed(
        self, channel: ChannelInfo, delivery_id: int, exc: PostError, now: datetime
    ) -> None:
        delivery = await self.store.delivery_by_id(delivery_id)
        attempts = (delivery.attempts if delivery else 0) + 1
        if exc.permanent:
            await self.store.delivery_attempt(delivery_id, str(exc), None, FAILED)
            self.stats.failed += 1
            METRICS.failed.labels(platform=channel.platform).inc()
            if await self.store.pause_channel(channel.id, str(exc)):
                log.error(
                    "paused %s:%s: %s. An admin must fix access, then run '/digest schedule' again.",
                    channel.platform,
                    channel.external_id,
                    exc,
                )
            return
        if attempts >= MAX_ATTEMPTS:
            await self.store.delivery_attempt(delivery_id, str(exc), None, FAILED)
            self.stats.failed += 1
            METRICS.failed.labels(platform=channel.platform).inc()
            log.error(
                "gave up on digest %d for %s:%s after %d attempts: %s",
                delivery_id,
                channel.platform,
                channel.external_id,
                attempts,
                exc,
            )
            return
        wait = exc.retry_after if exc.retry_after is not None else 30 * 2**attempts
        retry_at = now + timedelta(seconds=wait)
        await self.store.delivery_attempt(delivery_id, str(exc), retry_at, SENDING)
        log.warning(
            "digest %d for %s:%s not posted (%s); retrying in %.0fs",
            delivery_id,
            channel.platform,
            channel.external_id,
            exc,
            wait,
        )

    def _render(self, digest: ChannelDigest) -> Sequence[Any]:
        """The platform's payloads, with the bot's words in the channel's language."""
        with using(digest.language):
            return self.posters[digest.channel.platform].render(digest)

    def render(self, digest: ChannelDigest) -> Sequence[Any] | None:
        """The payloads a digest would be sent as, or None when its platform is not connected
        (checking a template against the platform's limits, previews)."""
        if digest.channel.platform not in self.posters:
            return None
        return self._render(digest)

    async def latest_digest(self, channel: ChannelInfo) -> ChannelDigest | None:
        """The channel's last posted digest as it would be rendered now, with the channel's
        current settings and templates; None when nothing was posted yet."""
        delivery = await self.store.last_sent_delivery(channel.id)
        if delivery is None or not delivery.article_ids:
            return None
        plan = delivery.plan or {}
        digest = await self._channel_digest(
            channel, delivery.slot, delivery.article_ids, plan.get("stories")
        )
        return digest if digest.digests else None

    async def _notice(self, channel: ChannelInfo, text: Callable[[], str]) -> None:
        """Tell the channel, in its language (`text` is worded once the language is set)."""
        try:
            settings = await self.store.channel_settings(channel.id)
            with using(settings.language or self.policy.language):
                worded = text()
            await self.posters[channel.platform].notice(channel.external_id, worded)
        except Exception as exc:
            log.warning(
                "could not send a notice to %s:%s: %s", channel.platform, channel.external_id, exc
            )

    # building the content ---------------------------------------------------------------------------
    def _curate(
        self, channel: ChannelInfo, candidates: Sequence[int], now: datetime, record: bool = True
    ) -> Curated:
        """Filters, one story across outlets, ranking, the channel's cap (runs in a worker);
        what filters dropped is recorded unless this is only a preview."""
        store = self.store.sync
        settings = store.channel_settings(channel.id)
        rules = store.filters(channel.id)
        mention_rules = store.mentions(channel.id)
        per_source = any(r.source_id is not None for r in rules) or any(
            m.source_id is not None for m in mention_rules
        )
        curated = curate(
            store.articles(candidates),
            rules,
            settings.articles_per_digest or self.policy.max_articles,
            store.article_sources(list(candidates)) if per_source else None,
            mention_rules,
        )
        if record:
            store.record_drops(channel.id, curated.dropped, now)
        return curated

    async def _channel_digest(
        self,
        channel: ChannelInfo,
        slot: str,
        article_ids: Sequence[int],
        stories: Sequence[Sequence[int]] | None = None,
        mentions: Sequence[str] = (),
    ) -> ChannelDigest:
        made = await asyncio.gather(*(self.digests.get(i) for i in article_ids))
        settings = await self.store.channel_settings(channel.id)
        by_first = {story[0]: story for story in stories or ()}
        others = {i for story in by_first.values() for i in story[1:]}
        loaded = await self.store.articles(sorted(others)) if others else {}
        digests, also = [], []
        language = settings.language or self.policy.language
        for article_id, digest in zip(article_ids, made, strict=True):
            if digest is None:
                continue
            wanted = _as_channel_wants(digest, settings)
            if settings.translate and self.translator is not None:
                wanted = await self.store.workers.summarize(
                    self.translator.translate, wanted, language
                )
            digests.append(wanted)
            also.append(also_outlets(loaded, by_first.get(article_id, [article_id])))
        day = slot.removeprefix("now-").split("T")[0]
        with using(language):
            title = _("News digest — {day}").format(day=day)
        templates = Templates(settings.header_template, settings.entry_template)
        return ChannelDigest(
            channel,
            slot,
            title,
            tuple(digests),
            tuple(also),
            language,
            tuple(mentions),
            templates if templates.custom else None,
        )


def _as_channel_wants(digest: Digest, settings: ChannelSettings) -> Digest:
    """The channel's own bullets per article and whether sections are listed."""
    summary = digest.summary[: settings.bullets_per_article or None]
    sections = digest.sections if settings.list_sections is not False else ()
    return replace(digest, summary=summary, sections=sections)


def _slot_time(slot: str, fallback: datetime) -> datetime:
    """The moment a slot fell due, in UTC where the slot names it (for the delay histogram)."""
    try:
        parsed = datetime.fromisoformat(slot.removeprefix("now-"))
    except ValueError:
        return fallback
    return parsed if parsed.tzinfo else fallback


def digest_now_slot(now: datetime) -> str:
    """A one-off slot for `/digest now`, distinct from scheduled ones."""
    return "now-" + now.strftime("%Y-%m-%dT%H:%M:%S")
