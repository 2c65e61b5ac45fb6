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
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot.curate.plan import Curated, Outlet, also_outlets, curate
from bot.delivery.schedule import Schedule, ScheduleError, parse_schedule, slots_between
from bot.delivery.workers import Workers
from bot.digest.build import build_digest
from bot.models import Article, Digest
from bot.ops.metrics import METRICS
from bot.singleflight import SingleFlight
from bot.store.repo import (
    FAILED,
    SENDING,
    SKIPPED,
    ChannelInfo,
    ChannelSettings,
    DeliveryInfo,
    Store,
)
from bot.summarize.base import Summarizer

log = logging.getLogger(__name__)

MAX_CATCH_UP = timedelta(days=7)
MAX_ATTEMPTS = 8
CANDIDATES = 300  # new articles looked at per digest, before filters, grouping and ranking
DIGEST_CACHE_SIZE = 2000
LEASE = timedelta(seconds=60)  # a sender that stops renewing for this long is presumed dead
MAX_INLINE_WAIT = (
    60.0  # a Retry-After up to this is waited out in place; longer ones go to retry_at
)
CHANNEL_CONCURRENCY = 200  # channel deliveries in flight: enough to keep the platforms busy, few enough that the first posts start at once


@dataclass(frozen=True)
class ChannelDigest:
    """What one channel gets for one slot: the new articles' digests, newest first."""

    channel: ChannelInfo
    slot: str
    title: str
    digests: tuple[Digest, ...]
    also: tuple[tuple[Outlet, ...], ...] = ()  # per digest: other outlets telling the story

    def others(self, index: int) -> tuple[Outlet, ...]:
        return self.also[index] if index < len(self.also) else ()


@dataclass(frozen=True)
class SentPart:
    message_ref: str
    thread_ref: str | None = None


class PostError(Exception):
    """A platform refused a post. `permanent` ones (no access, no channel) pause the channel."""

    def __init__(
        self,
        message: str,
        permanent: bool = False,
        retry_after: float | None = None,
        maybe_sent: bool = False,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
        self.maybe_sent = maybe_sent  # the request may have reached the platform: reconcile first


class Poster(Protocol):
    """All the delivery engine knows of a platform."""

    platform: str

    def render(self, digest: ChannelDigest) -> Sequence[Any]: ...

    async def send(
        self, channel: str, part: Any, part_key: str, thread_ref: str | None
    ) -> SentPart: ...

    async def find(
        self, channel: str, part_key: str, thread_ref: str | None
    ) -> SentPart | None: ...

    async def notice(self, channel: str, text: str) -> None: ...


def part_key(delivery_id: int, part: int) -> str:
    """Deterministic per part, short enough for a Discord nonce (≤ 25 characters)."""
    return f"nd{delivery_id}p{part}"


@dataclass
class DeliveryStats:
    posted: int = 0
    skipped: int = 0
    failed: int = 0
    summarized: int = 0
    rate_limited: int = 0


class LeaseClock:
    """The engine's `now` moved on by the real time spent since, for lease deadlines.

    Decisions use the `now` a tick was given (tests drive it with a fake clock), but a lease
    must outlast the real seconds a send takes: both meet here."""

    def __init__(self, now: datetime) -> None:
        self.start, self._started = now, time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self._started)


class Lease:
    """This process's hold on one delivery row while it sends (see `LeaseKeeper`)."""

    def __init__(self, keeper: LeaseKeeper, delivery_id: int, clock: LeaseClock) -> None:
        self.keeper, self.delivery_id, self.clock = keeper, delivery_id, clock

    @property
    def lost(self) -> bool:
        return self.delivery_id in self.keeper.lost

    def until(self) -> datetime:
        return self.clock.now() + self.keeper.length

    async def __aenter__(self) -> Lease:
        self.keeper.hold(self.delivery_id, self.clock)
        return self

    async def __aexit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self.keeper.release(self.delivery_id)
        if kind is not None and issubclass(kind, Exception):
            # a failure we survived (say the database blipped): let the next tick resume it
            # now rather than after the lease lapses
            with contextlib.suppress(Exception):
                await self.keeper.workers.db(
                    self.keeper.store.release_lease, self.delivery_id, self.keeper.owner
                )


class LeaseKeeper:
    """Renews every lease this process holds with one statement, a few times per lease length.

    One UPDATE for all held rows keeps a rush of thousands of waiting deliveries from turning
    into thousands of renewals; rows another sender took meanwhile are reported as lost."""

    def __init__(self, store: Store, workers: Workers, owner: str, length: timedelta) -> None:
        self.store, self.workers, self.owner, self.length = store, workers, owner, length
        self.held: dict[int, int] = {}
        self.lost: set[int] = set()
        self.clock = LeaseClock(datetime.now(UTC))
        self._task: asyncio.Task[None] | None = None

    def hold(self, delivery_id: int, clock: LeaseClock) -> None:
        self.clock = clock  # the engine's time (a test's fake clock, or the real one)
        self.held[delivery_id] = self.held.get(delivery_id, 0) + 1
        self.lost.discard(delivery_id)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._renew())

    def release(self, delivery_id: int) -> None:
        left = self.held.get(delivery_id, 0) - 1
        if left > 0:
            self.held[delivery_id] = left
        else:
            self.held.pop(delivery_id, None)

    async def _renew(self) -> None:
        every = max(self.length.total_seconds() / 4, 0.05)
        while self.held:
            await asyncio.sleep(every)
            ids = list(self.held)
            if not ids:
                return
            until = self.clock.now() + self.length
            try:
                kept = await self.workers.db(self.store.renew_leases, ids, self.owner, until)
            except Exception as exc:
                log.warning("could not renew delivery leases: %s", type(exc).__name__)
                continue
            for delivery_id in set(ids) - kept:
                if delivery_id in self.held and delivery_id not in self.lost:
                    self.lost.add(delivery_id)
                    log.error("lost the lease on digest %d; another sender took it", delivery_id)


class Deliverer:
    def __init__(
        self,
        store: Store,
        summarizer: Summarizer,
        posters: Mapping[str, Poster],
        *,
        grace: timedelta = timedelta(hours=2),
        lookback: timedelta = timedelta(hours=48),
        max_articles: int = 10,
        summary_bullets: int = 3,
        section_bullets: int = 3,
        workers: Workers | None = None,
        lease: timedelta = LEASE,
        concurrency: int = CHANNEL_CONCURRENCY,
    ) -> None:
        self.store = store
        self.summarizer = summarizer
        self.posters = posters
        self.grace = grace
        self.lookback = lookback
        self.max_articles = max_articles
        self.summary_bullets = summary_bullets
        self.section_bullets = section_bullets
        self.workers = workers or Workers(database=database_threads(store))
        self.lease = lease
        self.concurrency = max(concurrency, 1)
        self.owner = f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self.leases = LeaseKeeper(store, self.workers, self.owner, lease)
        self.stats = DeliveryStats()
        self._digests: dict[int, Digest] = {}
        self._making: SingleFlight[int, Digest | None] = SingleFlight()

    # the periodic entry point ---------------------------------------------------------------
    async def tick(self, now: datetime | None = None) -> None:
        """Finish interrupted deliveries, then post or skip every slot that fell due.

        Channels are served concurrently (bounded), so a rush of due channels drains at the
        platforms' pace rather than one whole digest after another."""
        now = now or datetime.now(UTC)
        unfinished = await self.workers.db(self.store.unfinished_deliveries)
        channels = await self.workers.db(self.store.channels)
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
        pending = await self.workers.db(self._pending_slots, channel, schedule, now)
        if not pending:
            return
        *missed, (latest_slot, latest_at) = pending
        for slot, _at in missed:
            await self._skip(channel, slot, "a later digest replaced it", now)
        if now - latest_at <= self.grace:
            await self.deliver(channel, latest_slot, now)
        elif await self._skip(channel, latest_slot, "the bot was not running when it was due", now):
            await self._notice(
                channel,
                f"The {latest_slot.replace('T', ' ')} digest was skipped because "
                "the bot was not running when it was due; the next one will "
                "include those articles.",
            )

    def _pending_slots(
        self, channel: ChannelInfo, schedule: Schedule, now: datetime
    ) -> list[tuple[str, datetime]]:
        start = max(channel.schedule_since, now - MAX_CATCH_UP)
        return [
            (slot, at)
            for slot, at in slots_between(schedule, start, now)
            if self.store.delivery(channel.id, slot) is None
        ]

    async def _skip(self, channel: ChannelInfo, slot: str, why: str, now: datetime) -> bool:
        claimed = (
            await self.workers.db(
                self.store.claim_delivery, channel.id, slot, state=SKIPPED, error=why, now=now
            )
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
        db = self.workers.db
        delivery = await db(
            self.store.claim_delivery,
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
                return await db(self.store.delivery_by_id, delivery.id)
            article_ids, parts = planned
            started = time.monotonic()
            await self._send_parts(channel, delivery.id, parts, 0, None, False, clock, lease)
        final = await db(self.store.delivery_by_id, delivery.id)
        if final and final.state == "sent":
            METRICS.slot_delay.observe(
                max((clock.now() - _slot_time(slot, now)).total_seconds(), 0.0)
            )
            log.info(
                "posted digest to %s:%s slot=%s articles=%d parts=%d in %.2fs",
                channel.platform,
                channel.external_id,
                slot,
                len(article_ids),
                len(parts),
                time.monotonic() - started,
            )
        return final

    async def _resume(self, delivery: DeliveryInfo, now: datetime) -> None:
        if delivery.retry_at and delivery.retry_at > now:
            return
        db = self.workers.db
        channel = await db(self.store.channel_by_id, delivery.channel_id)
        if channel is None or channel.platform not in self.posters or channel.paused:
            return
        if not await db(self.store.take_lease, delivery.id, self.owner, now, now + self.lease):
            return  # its sender is still at work (this process or another)
        clock = LeaseClock(now)
        if delivery.parts_sent == 0 and now - delivery.created_at > self.grace:
            await db(
                self.store.set_delivery_state,
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
                f"The {delivery.slot.replace('T', ' ')} digest was skipped: it "
                "was interrupted and is now too late to post.",
            )
            return
        async with Lease(self.leases, delivery.id, clock) as lease:
            if not delivery.article_ids:  # crashed before planning: plan now
                planned = await self._plan(channel, delivery.id, delivery.slot, now)
                if planned is None:
                    return
                parts = planned[1]
            else:  # planned before the crash: the very same stories, so the very same parts
                stories = (delivery.plan or {}).get("stories")
                digest = await self._channel_digest(
                    channel, delivery.slot, delivery.article_ids, stories
                )
                parts = self.posters[channel.platform].render(digest)
            await self._send_parts(
                channel,
                delivery.id,
                parts,
                delivery.parts_sent,
                delivery.thread_ref,
                True,
                clock,
                lease,
            )

    async def _plan(
        self, channel: ChannelInfo, delivery_id: int, slot: str, now: datetime
    ) -> tuple[list[int], Sequence[Any]] | None:
        """Curate the channel's new articles into this delivery's parts and store the plan;
        None when nothing is left to post (the delivery is then settled as skipped, and what
        filters dropped is marked handled)."""
        db = self.workers.db
        candidates = await db(
            self.store.new_articles_for, channel.id, now - self.lookback, CANDIDATES
        )
        curated = await db(self._curate, channel, candidates, now) if candidates else None
        if curated is None or not curated.stories:
            why = "nothing new" if curated is None else "every new article was filtered out"
            if curated is not None:
                await db(self.store.plan_delivery, delivery_id, [], 0, curated.as_plan())
            await db(self.store.finish_delivery, delivery_id, SKIPPED, why)
            log.info("%s for %s:%s slot %s", why, channel.platform, channel.external_id, slot)
            return None
        digest = await self._channel_digest(channel, slot, curated.shown, curated.stories)
        parts = self.posters[channel.platform].render(digest)
        await db(
            self.store.plan_delivery, delivery_id, curated.shown, len(parts), curated.as_plan()
        )
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
        db = self.workers.db
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
            await db(
                self.store.part_sent,
                delivery_id,
                index,
                sent.message_ref,
                thread_ref,
                lease.until(),
            )
            index += 1
        await db(self.store.finish_delivery, delivery_id)
        self.stats.posted += 1
        METRICS.digest_posted(channel.platform)

    async def _post_failed(
        self, channel: ChannelInfo, delivery_id: int, exc: PostError, now: datetime
    ) -> None:
        db = self.workers.db
        delivery = await db(self.store.delivery_by_id, delivery_id)
        attempts = (delivery.attempts if delivery else 0) + 1
        if exc.permanent:
            await db(self.store.delivery_attempt, delivery_id, str(exc), None, FAILED)
            self.stats.failed += 1
            METRICS.failed.labels(platform=channel.platform).inc()
            if await db(self.store.pause_channel, channel.id, str(exc)):
                log.error(
                    "paused %s:%s: %s. An admin must fix access, then run '/digest schedule' again.",
                    channel.platform,
                    channel.external_id,
                    exc,
                )
            return
        if attempts >= MAX_ATTEMPTS:
            await db(self.store.delivery_attempt, delivery_id, str(exc), None, FAILED)
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
        await db(self.store.delivery_attempt, delivery_id, str(exc), retry_at, SENDING)
        log.warning(
            "digest %d for %s:%s not posted (%s); retrying in %.0fs",
            delivery_id,
            channel.platform,
            channel.external_id,
            exc,
            wait,
        )

    async def _notice(self, channel: ChannelInfo, text: str) -> None:
        try:
            await self.posters[channel.platform].notice(channel.external_id, text)
        except Exception as exc:
            log.warning(
                "could not send a notice to %s:%s: %s", channel.platform, channel.external_id, exc
            )

    # building the content ---------------------------------------------------------------------------
    async def digest_async(self, article_id: int) -> Digest | None:
        """`digest_for` off the event loop, made once even when many channels ask at once."""
        known = self._digests.get(article_id)
        if known is not None:
            return known
        return await self._making.run(article_id, lambda: self._make_digest(article_id))

    async def _make_digest(self, article_id: int) -> Digest | None:
        """Database work on the database worker, summarizing on the summarize workers: with
        SQLite one writer thread means no lock contention (and no busy-wait sleeps)."""
        db = self.workers.db
        cached = await db(self.store.cached_digest, article_id)
        if cached is not None:
            return self._remember(article_id, cached)
        article = await db(self.store.article, article_id)
        if article is None or not article.sentences:
            return None
        digest = await self.workers.summarize(self._summarize, article)
        await db(self.store.save_digest, article_id, digest)
        return self._remember(article_id, digest)

    def _summarize(self, article: Article) -> Digest:
        started = time.perf_counter()
        digest = build_digest(article, self.summarizer, self.summary_bullets, self.section_bullets)
        METRICS.summarizer_seconds.observe(time.perf_counter() - started)
        self.stats.summarized += 1
        return digest

    def digest_for(self, article_id: int) -> Digest | None:
        """The article's digest, summarized once and cached for every channel and process.

        Blocking (database, CPU, maybe an LLM): call it from a worker, or use `digest_async`."""
        if article_id in self._digests:
            return self._digests[article_id]
        cached = self.store.cached_digest(article_id)
        if cached is not None:
            return self._remember(article_id, cached)
        article = self.store.article(article_id)
        if article is None or not article.sentences:
            return None
        digest = self._summarize(article)
        self.store.save_digest(article_id, digest)
        return self._remember(article_id, digest)

    def forget(self, article_id: int) -> None:
        """The article changed (a teaser got its full text): its digest is made again."""
        self._digests.pop(article_id, None)

    def _remember(self, article_id: int, digest: Digest) -> Digest:
        """Digests never change once made, so a bounded in-process copy saves reloading them per channel."""
        if len(self._digests) >= DIGEST_CACHE_SIZE:
            self._digests.pop(next(iter(self._digests)), None)
        self._digests[article_id] = digest
        return digest

    def _curate(self, channel: ChannelInfo, candidates: Sequence[int], now: datetime) -> Curated:
        """Filters, one story across outlets, ranking, the channel's cap (runs in a worker)."""
        settings = self.store.channel_settings(channel.id)
        articles = {i: a for i in candidates if (a := self.store.article(i)) is not None}
        curated = curate(
            articles,
            self.store.filters(channel.id),
            settings.articles_per_digest or self.max_articles,
        )
        self.store.record_drops(channel.id, curated.dropped, now)
        return curated

    async def _channel_digest(
        self,
        channel: ChannelInfo,
        slot: str,
        article_ids: Sequence[int],
        stories: Sequence[Sequence[int]] | None = None,
    ) -> ChannelDigest:
        made = await asyncio.gather(*(self.digest_async(i) for i in article_ids))
        settings = await self.workers.db(self.store.channel_settings, channel.id)
        by_first = {story[0]: story for story in stories or ()}
        others = {i for story in by_first.values() for i in story[1:]}
        loaded = await self.workers.db(self._articles, sorted(others)) if others else {}
        digests, also = [], []
        for article_id, digest in zip(article_ids, made, strict=True):
            if digest is None:
                continue
            digests.append(_as_channel_wants(digest, settings))
            also.append(also_outlets(loaded, by_first.get(article_id, [article_id])))
        day = slot.removeprefix("now-").split("T")[0]
        return ChannelDigest(channel, slot, f"News digest — {day}", tuple(digests), tuple(also))

    def _articles(self, ids: Sequence[int]) -> dict[int, Article]:
        return {i: a for i in ids if (a := self.store.article(i)) is not None}


def database_threads(store: Store) -> int:
    """SQLite has one writer: one database thread queues writes instead of contending for the
    lock (whose busy handler sleeps up to 100 ms a try); a server database takes eight."""
    return 2 if store.engine.dialect.name == "sqlite" else 8


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


async def deliver_now(
    deliverer: Deliverer, channel: ChannelInfo, now: datetime | None = None
) -> DeliveryInfo | None:
    now = now or datetime.now(UTC)
    return await deliverer.deliver(channel, digest_now_slot(now), now)


def channel_schedule(channel: ChannelInfo) -> Schedule | None:
    if not channel.schedule:
        return None
    try:
        return parse_schedule(channel.schedule, channel.timezone)
    except ScheduleError:
        return None


__all__ = ["FAILED", "ChannelDigest", "Deliverer", "PostError", "Poster", "SentPart", "part_key"]
