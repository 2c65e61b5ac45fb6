"""Posting each channel's digest exactly once per slot, across crashes and replicas.

A due slot becomes one (channel, slot) delivery row, once (the unique key); any
replica then claims rows a few at a time, each with a short lease it renews while
it sends (`leases.py`), so a rush spreads over the replicas and a dead replica's
rows are taken over as soon as their leases lapse. Each posted part is recorded
with its platform message id, and the part whose request is leaving is marked
first; a sender that takes a delivery over continues from the first unrecorded
part and asks the platform whether it already went out (Slack: message metadata;
Discord: the nonce makes a resend return the first message) only when that part
was marked. So a crash before the post posts once, a crash between post and
record does not post twice. Where a platform cannot answer that question the
guarantee is at-least-once for that one part.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.coalesce import Coalescer
from bot.curate.selection import Curated, also_outlets, curate
from bot.delivery.identity import ReplicaName, clean_name
from bot.delivery.leases import LEASE, Lease, LeaseClock, LeaseKeeper
from bot.delivery.pacing import Pacer
from bot.delivery.poster import (
    ChannelDigest,
    Poster,
    PostError,
    SentPart,
    on_request_start,
    part_key,
)
from bot.delivery.schedule import Schedule, ScheduleError, parse_schedule, slots_between
from bot.digest.cache import DigestCache
from bot.digest.templates import Templates, off_loop_for
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
    Claimed,
    DeliveryInfo,
    DeliveryInputs,
    DeliveryPlan,
)
from bot.summarize.translate import Translator

log = logging.getLogger(__name__)

MAX_CATCH_UP = timedelta(days=7)
MAX_ATTEMPTS = 8
CANDIDATES = 300  # new articles looked at per digest, before filters, grouping and ranking
MAX_INLINE_WAIT = 60.0  # a Retry-After up to this is waited out in place; longer go to retry_at
# deliveries one replica holds at once. A Slack digest of four parts takes about 3 s at one
# post a second per channel, so ~75 in flight fill the workspace pace (97 posts/s); more would
# only wait in the pacer holding leases that other replicas could be working on
CHANNEL_CONCURRENCY = 100
CLAIM_EVERY = 1.0  # seconds between claim rounds when nothing finished meanwhile
COOL_OFF = 30.0  # seconds before this replica retries a row whose sending raised
STOP_GRACE = 5.0  # seconds a stopping replica lets its deliveries finish before handing back
# rendered digests kept for channels that get the same one (same articles, settings, language,
# templates, mentions and outlets): a rush renders each distinct digest once per replica
RENDERS = 512
SLOT_BATCH = 500  # channels whose due slots are read and made into rows together
REPLACED = "a later digest replaced it"
NOT_RUNNING = "the bot was not running when it was due"


@dataclass(frozen=True)
class DueSlots:
    """A channel's slots that fell due since it was last served and have no row yet."""

    channel: ChannelInfo
    missed: tuple[str, ...]  # older ones, skipped: a later digest replaced them
    latest: str
    latest_at: datetime


@dataclass
class Prepared:
    """What a claimed delivery read, and its curating when it is to be planned (or the error
    that curating raised, for that delivery alone)."""

    inputs: DeliveryInputs
    curated: Curated | None = None
    error: Exception | None = None


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


async def render_off_loop(poster: Poster, digest: ChannelDigest) -> Sequence[Any]:
    """`poster.render(digest)` in the digest's language, on a worker thread when the channel
    has templates of its own (see `off_loop_for`)."""

    def render() -> Sequence[Any]:
        with using(digest.language):
            return poster.render(digest)

    return await off_loop_for(digest.templates, render)


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
        claim_every: float = CLAIM_EVERY,
    ) -> None:
        self.store = store
        self.digests = digests
        self.translator = translator  # with an LLM: bullets in the channel's language on request
        self.posters = posters
        self.policy = policy
        self.lease = lease
        self.concurrency = max(concurrency, 1)
        self.owner = f"{clean_name(None)}+{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self._predecessors: str | None = None  # see `take_name`
        self.leases = LeaseKeeper(store, self.owner, lease)
        self.stats = DeliveryStats()
        self.claim_every = claim_every
        self._running: dict[int, asyncio.Task[None]] = {}  # claimed rows being worked on
        self._cooling: dict[int, float] = {}  # rows whose sending raised: not before (monotonic)
        self._wake: asyncio.Event | None = None
        self._renders: OrderedDict[Hashable, Sequence[Any]] = OrderedDict()
        # the deliveries a claim round starts read their inputs together (see `_read_inputs`)
        self._inputs: Coalescer[tuple[int, datetime, int], Prepared | None] = Coalescer(
            self._read_inputs
        )
        METRICS.replica.labels(owner=self.owner).set(1)

    @property
    def claim_batch(self) -> int:
        """How many free places make a claim round worth it before the next timed one: a
        tenth of `concurrency`, so a rush claims in batches instead of one row per finish."""
        return max(1, self.concurrency // 10)

    def take_name(self, name: ReplicaName) -> None:
        """Run as the replica `name` (before claiming anything): lease owners become
        `NAME:PID:RANDOM`, and when the name is held, the first claim round frees the leases an
        earlier, dead run under the same name left, so a restarted replica resumes its own
        deliveries at once instead of waiting for their leases to lapse."""
        if self._running or self.leases.held:
            raise RuntimeError("a replica is named before it claims deliveries")
        with contextlib.suppress(KeyError):
            METRICS.replica.remove(self.owner)
        tail = uuid.uuid4().hex[:12]
        self.owner = (
            f"{name.owner_prefix}{os.getpid()}:{tail}"
            if name.held
            else (f"{name.owner_prefix}{tail}")
        )
        self.leases.owner = self.owner
        self._predecessors = name.owner_prefix if name.held else None
        METRICS.replica.labels(owner=self.owner).set(1)

    async def _free_predecessors(self) -> None:
        prefix, self._predecessors = self._predecessors, None
        if prefix is None:
            return
        try:
            freed = await self.store.release_predecessors(prefix, self.owner)
        except Exception as exc:
            log.warning("could not free an earlier run's deliveries: %s", type(exc).__name__)
            return
        if freed:
            log.info("resuming %d deliveries an earlier run of this replica left", freed)

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
        parts = await self.render(digest)
        return digest, len(parts) if parts is not None else 0

    # the periodic entry points ---------------------------------------------------------------
    async def tick(self, now: datetime | None = None) -> None:
        """Give every slot that fell due its row, then claim and deliver until nothing is left
        that this process may take: one pass, for tests, benchmarks and one-shot runs."""
        now = now or datetime.now(UTC)
        await self.create_due_slots(now)
        await self.drain(now)

    async def create_due_slots(self, now: datetime | None = None) -> None:
        """The row of every slot that fell due (or the skip of a missed one), once: the unique
        (channel, slot) key lets the leader's cron jobs, its catch-up tick and a new leader
        all try without ever making two. Rows are delivered by whichever replica claims them.
        Channels are served `SLOT_BATCH` at a time: two statements per batch, not per channel."""
        now = now or datetime.now(UTC)
        channels = [
            c
            for c in await self.store.channels()
            if c.schedule and not c.paused and c.platform in self.posters
        ]
        notices: list[Awaitable[None]] = []  # sent once every batch's rows are made
        for start in range(0, len(channels), SLOT_BATCH):
            batch = channels[start : start + SLOT_BATCH]
            await self._guarded(
                self.make_slots(batch, now, notices), f"{len(batch)} channels' slots"
            )
        await self._bounded(notices)

    async def drain(self, now: datetime | None = None) -> None:
        """Claim due rows at most `concurrency` at a time, claiming more as sends finish, until
        no row is left that this process may take at `now`. A row whose sending raised is left
        for a later pass (as the long-running loop leaves it for `COOL_OFF`)."""
        now = now or datetime.now(UTC)
        failed: set[int] = set()
        while True:
            free = self.concurrency - len(self._running)
            if free >= self.claim_batch or (free > 0 and not self._running):
                for claimed in await self._claim(now, free, failed):
                    self._start(claimed, now, failed.add)
            if not self._running:
                return
            done, _ = await asyncio.wait(
                list(self._running.values()), return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:  # what `work` does not catch stands for the process dying
                error = None if task.cancelled() else task.exception()
                if error is not None:
                    raise error

    async def run_claims(
        self, stop: asyncio.Event, active: Callable[[], bool] = lambda: True
    ) -> None:
        """Every replica's delivery loop, until `stop`: claim what is due whenever this replica
        holds fewer than `concurrency` deliveries, every `claim_every` seconds, or sooner when a
        slot's row is made here or `claim_batch` places are free (or none is held). A row whose lease lapsed is claimed at the first
        round after it lapsed, so a dead replica's work resumes within lease + claim_every.
        `active` says whether this process may deliver now (on SQLite only the leader does)."""
        self._wake = wake = asyncio.Event()
        try:
            await self._free_predecessors()
            timed_out = True
            while not stop.is_set():
                wake.clear()
                free = self.concurrency - len(self._running)
                # woken by a finished delivery, claim once a batch is free: a round per
                # finished delivery cost more CPU than the claims (`make bench`, rush)
                if active() and (timed_out or free >= self.claim_batch or not self._running):
                    try:
                        await self._claim_round(datetime.now(UTC))
                    except Exception as exc:
                        log.warning("could not claim deliveries: %s", type(exc).__name__)
                waiting = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
                done, _ = await asyncio.wait(
                    waiting, timeout=self.claim_every, return_when=asyncio.FIRST_COMPLETED
                )
                timed_out = not done
                for waiter in waiting:
                    waiter.cancel()
        finally:
            self._wake = None
            await self._hand_back()

    def wake(self) -> None:
        """A row was made or a delivery finished: claim now rather than at the next round."""
        if self._wake is not None:
            self._wake.set()

    async def _claim_round(self, now: datetime) -> None:
        free = self.concurrency - len(self._running)
        if free <= 0:
            return
        clock = time.monotonic()
        self._cooling = {i: t for i, t in self._cooling.items() if t > clock}
        for claimed in await self._claim(now, free, self._cooling):
            self._start(claimed, now, self._cool_off)

    def _cool_off(self, delivery_id: int) -> None:
        self._cooling[delivery_id] = time.monotonic() + COOL_OFF

    async def _claim(self, now: datetime, limit: int, skip: Iterable[int]) -> list[Claimed]:
        return await self.store.claim_due(
            self.owner,
            now,
            now + self.lease,
            limit,
            list(self.posters),
            [*self._running, *skip],
        )

    def _start(self, claimed: Claimed, now: datetime, failed: Callable[[int], None]) -> None:
        delivery_id = claimed.delivery.id

        async def work() -> None:
            try:
                await self._claimed(claimed, now)
            except Exception:
                failed(delivery_id)
                log.exception("digest %d failed; will retry later", delivery_id)

        def done(task: asyncio.Task[None]) -> None:
            if not task.cancelled():
                task.exception()  # retrieved here; `drain` re-raises it
            self._running.pop(delivery_id, None)
            METRICS.claimed.set(len(self._running))
            self.wake()

        task = asyncio.create_task(work())
        self._running[delivery_id] = task
        METRICS.claimed.set(len(self._running))
        task.add_done_callback(done)

    async def _hand_back(self) -> None:
        """Stopping: let the deliveries in hand finish briefly, then give back what is left so
        that another replica takes it at once instead of when its lease lapses."""
        tasks = list(self._running.values())
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=STOP_GRACE)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        try:
            handed = await self.store.release_leases(self.owner)
        except Exception as exc:
            log.warning("could not hand back deliveries: %s", type(exc).__name__)
            return
        if handed:
            log.info("handed back %d unfinished deliveries to the other replicas", handed)

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
        """One channel's cron fired: its slots' rows, as `make_slots` makes them."""
        await self.make_slots([channel], now)

    async def make_slots(
        self,
        channels: Sequence[ChannelInfo],
        now: datetime,
        notices: list[Awaitable[None]] | None = None,
    ) -> None:
        """The channels' slots that fell due since each was last served: missed ones are
        skipped, the latest gets its row (if still within the grace period) for a replica to
        claim. One read of the rows that exist and one insert of those that do not, for all of
        them. The notices of slots skipped as too late are sent here, or added to `notices`
        for the caller to send (after its other batches' rows: notices are paced posts)."""
        due = await self.store.run(self._due_slots, channels, now)
        rows: list[tuple[int, str, str, str | None]] = []
        for slots in due:
            rows += [(slots.channel.id, slot, SKIPPED, REPLACED) for slot in slots.missed]
            late = now - slots.latest_at > self.policy.grace
            rows.append(
                (
                    slots.channel.id,
                    slots.latest,
                    *((SKIPPED, NOT_RUNNING) if late else (SENDING, None)),
                )
            )
        if not rows:
            return
        made = await self.store.add_slot_rows(rows, now)
        mine: list[Awaitable[None]] = []
        for slots in due:
            channel = slots.channel
            for slot in slots.missed:
                if (channel.id, slot) in made:
                    self._skipped(channel, slot, REPLACED)
            if (channel.id, slots.latest) not in made:
                continue
            if now - slots.latest_at <= self.policy.grace:
                self.wake()
                continue
            self._skipped(channel, slots.latest, NOT_RUNNING)
            mine.append(self._notice(channel, _not_running_notice(slots.latest)))
        if notices is None:
            await self._bounded(mine)
        else:
            notices.extend(mine)

    def _due_slots(self, channels: Sequence[ChannelInfo], now: datetime) -> list[DueSlots]:
        """(On a database thread.) Each channel's slots since it was last served that have no
        row yet; a channel whose schedule no longer parses is logged and left out."""
        schedules: dict[tuple[str, str], Schedule] = {}
        pending: dict[int, tuple[ChannelInfo, list[tuple[str, datetime]]]] = {}
        for channel in channels:
            key = (channel.schedule or "", channel.timezone)
            try:
                schedule = schedules.get(key) or parse_schedule(*key)
            except ScheduleError as exc:
                log.error(
                    "channel %s has an unusable schedule %r: %s",
                    channel.external_id,
                    channel.schedule,
                    exc,
                )
                continue
            schedules[key] = schedule
            try:
                slots = slots_between(
                    schedule, max(channel.schedule_since, now - MAX_CATCH_UP), now
                )
            except Exception:  # this channel alone: the batch's other channels go on
                log.exception("could not work out the due slots of channel %s", channel.external_id)
                continue
            if slots:
                pending[channel.id] = (channel, slots)
        existing = self.store.sync.slot_rows(
            (channel_id, slot) for channel_id, (_c, slots) in pending.items() for slot, _ in slots
        )
        due = []
        for channel, slots in pending.values():
            left = [(slot, at) for slot, at in slots if (channel.id, slot) not in existing]
            if left:
                *missed, (latest, latest_at) = left
                due.append(DueSlots(channel, tuple(slot for slot, _ in missed), latest, latest_at))
        return due

    def _skipped(self, channel: ChannelInfo, slot: str, why: str) -> None:
        self.stats.skipped += 1
        log.info(
            "skipped digest for %s:%s slot %s: %s", channel.platform, channel.external_id, slot, why
        )

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
            parts, plan = planned
            started = time.monotonic()
            final = await self._send_parts(
                channel, delivery.id, parts, 0, None, False, clock, lease, planned=plan
            )
        return await self._posted(
            channel, delivery.id, now, clock, started, len(parts), final=final
        )

    async def _posted(
        self,
        channel: ChannelInfo,
        delivery_id: int,
        now: datetime,
        clock: LeaseClock,
        started: float,
        parts: int,
        resumed: bool = False,
        final: DeliveryInfo | None = None,
    ) -> DeliveryInfo | None:
        """Log and count a digest that went out, first try or resumed after a crash alike.
        `final` is the row as its last part recorded it (read again when not given)."""
        if final is None:
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

    async def _claimed(self, claimed: Claimed, now: datetime) -> None:
        """A row this replica claimed: a first send, a retry, or one another sender left."""
        delivery = claimed.delivery
        METRICS.claims.inc()
        previous = claimed.previous_owner
        if claimed.previous_until is not None and claimed.previous_until <= now:
            METRICS.lease_expiries.inc()
        if previous is not None and previous != self.owner:
            METRICS.takeovers.inc()
            log.info(
                "took over digest %d (slot %s) from %s at part %d",
                delivery.id,
                delivery.slot,
                previous,
                delivery.parts_sent,
            )
        resumed = previous is not None or delivery.parts_sent > 0 or delivery.attempts > 0
        await self._resume(delivery, now, resumed)

    async def _resume(self, delivery: DeliveryInfo, now: datetime, resumed: bool) -> None:
        """Send what is left of a claimed delivery (all of it, for a first send)."""
        late = delivery.parts_sent == 0 and now - delivery.created_at > self.policy.grace
        prepared = await self._inputs.get(
            (
                delivery.channel_id,
                now,
                # a planned delivery keeps its stories, and one too late to post needs none
                0 if delivery.article_ids or late else CANDIDATES,
            )
        )
        inputs = prepared.inputs if prepared is not None else None
        channel = inputs.channel if inputs is not None else None
        if (
            inputs is None
            or channel is None
            or channel.platform not in self.posters
            or channel.paused
        ):
            await self.store.release_lease(delivery.id, self.owner)
            return
        clock = LeaseClock(now)
        if late:
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
            if not delivery.article_ids:  # not planned yet (a first send, or crashed before)
                planned = await self._plan(
                    channel, delivery.id, delivery.slot, now, inputs, prepared
                )
                if planned is None:
                    return
                parts, plan_to_store = planned
            else:  # planned before the crash: the very same stories, so the very same parts
                plan = delivery.plan or {}
                digest = await self._channel_digest(
                    channel,
                    delivery.slot,
                    delivery.article_ids,
                    plan.get("stories"),
                    plan.get("mentions") or (),
                    inputs.settings,
                )
                if "templates" in plan:  # the templates it was planned with, not newer ones
                    digest = replace(digest, templates=Templates.from_plan(plan["templates"]))
                parts = await self._render(digest)
                plan_to_store = None
            final = await self._send_parts(
                channel,
                delivery.id,
                parts,
                delivery.parts_sent,
                delivery.thread_ref,
                # the platform is asked only about a part whose request had started and whose
                # outcome was never recorded: one merely planned, or waiting for its pacing
                # slot, sent nothing, and is sent without lookups
                delivery.part_in_flight is not None,
                clock,
                lease,
                delivery.message_refs,
                plan_to_store,
            )
        await self._posted(
            channel, delivery.id, now, clock, started, len(parts), resumed=resumed, final=final
        )

    async def _read_inputs(
        self, keys: list[tuple[int, datetime, int]]
    ) -> dict[tuple[int, datetime, int], Prepared | None]:
        """The inputs of the deliveries that asked in the same turn, each curated when it is
        to be planned (`cap` > 0): one trip to a database thread for all of them, and one
        read per distinct (now, cap) (see `Store.delivery_inputs_many`)."""
        groups: dict[tuple[datetime, int], list[int]] = {}
        for channel_id, now, cap in keys:
            groups.setdefault((now, cap), []).append(channel_id)
        return await self.store.run(self._prepare_many, groups)

    def _prepare_many(
        self, groups: dict[tuple[datetime, int], list[int]]
    ) -> dict[tuple[int, datetime, int], Prepared | None]:
        """(On a database thread.) A channel whose curating failed carries its error, so that
        only its own delivery fails."""
        found: dict[tuple[int, datetime, int], Prepared | None] = {}
        for (now, cap), channel_ids in groups.items():
            read = self.store.sync.delivery_inputs_many(
                channel_ids, now - self.policy.lookback, cap
            )
            for channel_id in channel_ids:
                inputs = read.get(channel_id)
                if inputs is None:
                    found[(channel_id, now, cap)] = None
                    continue
                prepared = found[(channel_id, now, cap)] = Prepared(inputs)
                if inputs.candidates and self._may_send(inputs.channel):
                    try:
                        prepared.curated = self._curate(
                            inputs.channel, inputs.candidates, now, True, inputs
                        )
                    except Exception as exc:
                        prepared.error = exc
        return found

    def _may_send(self, channel: ChannelInfo) -> bool:
        return channel.platform in self.posters and not channel.paused

    async def _plan(
        self,
        channel: ChannelInfo,
        delivery_id: int,
        slot: str,
        now: datetime,
        inputs: DeliveryInputs | None = None,
        prepared: Prepared | None = None,
    ) -> tuple[Sequence[Any], DeliveryPlan] | None:
        """Curate the channel's new articles into this delivery's parts, and the plan to store
        with the first part's mark (`_send_one`: one write, not two); None when nothing is
        left to post (the delivery is then settled as skipped, its plan stored, and what
        filters dropped is marked handled). `inputs`: what was read for it already;
        `prepared`: and how it was curated."""
        if inputs is None:
            inputs = await self.store.delivery_inputs(
                channel.id, now - self.policy.lookback, CANDIDATES
            )
        candidates = inputs.candidates if inputs is not None else []
        if prepared is not None and prepared.error is not None:
            raise prepared.error
        if prepared is not None and (prepared.curated is not None or not candidates):
            curated = prepared.curated
        else:
            curated = (
                await self.store.run(self._curate, channel, candidates, now, True, inputs)
                if candidates
                else None
            )
        if curated is None or not curated.stories:
            why = "nothing new" if curated is None else "every new article was filtered out"
            if curated is not None:
                await self.store.plan_delivery(delivery_id, [], 0, curated.as_plan())
            await self.store.finish_delivery(delivery_id, SKIPPED, why)
            log.info("%s for %s:%s slot %s", why, channel.platform, channel.external_id, slot)
            return None
        digest = await self._channel_digest(
            channel,
            slot,
            curated.shown,
            curated.stories,
            curated.mentions,
            inputs.settings if inputs is not None else None,
            inputs,
        )
        if not digest.digests:  # every new article had text but gave no bullet: never post empty
            why = "no new article gave a bullet"
            await self.store.plan_delivery(delivery_id, [], 0, curated.as_plan())
            await self.store.finish_delivery(delivery_id, SKIPPED, why)
            log.info("%s for %s:%s slot %s", why, channel.platform, channel.external_id, slot)
            return None
        parts = await self._render(digest)
        plan: dict[str, Any] = dict(curated.as_plan())
        if digest.templates is not None:
            plan["templates"] = digest.templates.as_plan()
        return parts, DeliveryPlan(curated.shown, len(parts), plan)

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
        sent_before: Sequence[str] = (),
        planned: DeliveryPlan | None = None,
    ) -> DeliveryInfo | None:
        """Send from `first` on; a short Retry-After is waited out here, exactly, holding the
        lease. Returns the row as finished (None when it did not finish here). `sent_before`:
        the message ids of the parts before `first`, as recorded; `planned`: a new plan, not
        stored yet, which the first part's mark stores."""
        refs = list(sent_before)
        final: DeliveryInfo | None = None
        poster = self.posters[channel.platform]
        index = first
        waits = 0
        while index < len(parts):
            if lease.lost:
                return None
            key = part_key(delivery_id, index)
            try:
                sent = (
                    await poster.find(channel.external_id, key, thread_ref) if reconcile else None
                )
                if sent is None:
                    sent = await self._send_one(
                        poster,
                        channel.external_id,
                        parts[index],
                        delivery_id,
                        index,
                        thread_ref,
                        planned if index == first else None,
                    )
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
                return None
            except Exception as exc:
                # nobody knows whether the request got out: the next sender reconciles first
                await self._post_failed(
                    channel, delivery_id, PostError(f"{type(exc).__name__}: {exc}"), clock.now()
                )
                return None
            reconcile = False
            thread_ref = thread_ref or sent.thread_ref or sent.message_ref
            index += 1
            # the last part's record also settles the delivery: one transaction, not two
            refs.append(sent.message_ref)
            final = await self.store.part_sent(
                delivery_id,
                index - 1,
                sent.message_ref,
                thread_ref,
                lease.until(),
                finish=index == len(parts),
                refs=refs,
            )
        if final is None:  # every part was recorded before (a crash just before finishing)
            await self.store.finish_delivery(delivery_id)
        self.stats.posted += 1
        METRICS.digest_posted(channel.platform)
        return final

    async def _send_one(
        self,
        poster: Poster,
        channel: str,
        part: Any,
        delivery_id: int,
        index: int,
        thread_ref: str | None,
        planned: DeliveryPlan | None = None,
    ) -> SentPart:
        """Send one part, marking it as possibly out (`part_in_flight`) just before its request
        leaves: when its pacer lets it go, for a poster that paces (see `request_starting`),
        else before `send` is called. Either way the mark precedes anything the platform sees,
        and so does the delivery's plan, which a first part's mark stores (`planned`)."""
        marked = False

        async def mark() -> None:
            nonlocal marked
            if not marked:
                marked = True
                await self.store.part_starting(delivery_id, index, planned)

        key = part_key(delivery_id, index)
        if not isinstance(getattr(poster, "pacer", None), Pacer):
            await mark()
            return await poster.send(channel, part, key, thread_ref)
        # the same mark as one statement, which a shared pacer sends with its permits
        rider = self.store.part_starting_rider(delivery_id, index, planned)
        with on_request_start(mark, rider) as start:
            try:
                return await poster.send(channel, part, key, thread_ref)
            finally:
                if planned is not None and not start.done:
                    await self._store_plan(delivery_id, planned)

    async def _store_plan(self, delivery_id: int, planned: DeliveryPlan) -> None:
        """The plan of a first part whose request never announced itself: it failed before
        (a long hold; the retry then posts the very same stories, and the filters' drops are
        not counted twice), or the poster posted without pacing (a Discord forum post found
        already made). Best effort: the caller's own outcome is what it reports."""
        try:
            await self.store.plan_delivery(
                delivery_id, planned.article_ids, planned.parts_total, planned.plan
            )
        except Exception as exc:
            log.warning("could not store the plan of digest %d: %s", delivery_id, exc)

    async def _post_failed(
        self, channel: ChannelInfo, delivery_id: int, exc: PostError, now: datetime
    ) -> None:
        delivery = await self.store.delivery_by_id(delivery_id)
        attempts = (delivery.attempts if delivery else 0) + 1
        # only a rate-limit answer says for sure that the part did not go out; after anything
        # else (a timeout, a 5xx, an exception) the next sender asks the platform first
        unsure = exc.maybe_sent or exc.retry_after is None
        if exc.permanent:
            await self.store.delivery_attempt(delivery_id, str(exc), None, FAILED, unsure)
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
            await self.store.delivery_attempt(delivery_id, str(exc), None, FAILED, unsure)
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
        await self.store.delivery_attempt(delivery_id, str(exc), retry_at, SENDING, unsure)
        log.warning(
            "digest %d for %s:%s not posted (%s); retrying in %.0fs",
            delivery_id,
            channel.platform,
            channel.external_id,
            exc,
            wait,
        )

    async def _render(self, digest: ChannelDigest) -> Sequence[Any]:
        """The platform's payloads, with the bot's words in the channel's language. Channels
        that get the same digest (see `ChannelDigest.content`) share one rendering: parts are
        read-only payloads, and nothing in them names the channel."""
        key: Hashable | None = None
        if digest.content is not None:
            key = (
                digest.channel.platform,
                digest.content,
                digest.slot,
                digest.title,
                digest.language,
                digest.mentions,
                digest.templates,
                digest.also,
            )
            known = self._renders.get(key)
            if known is not None:
                self._renders.move_to_end(key)
                return known
        parts = tuple(await render_off_loop(self.posters[digest.channel.platform], digest))
        if key is not None:
            self._renders[key] = parts
            if len(self._renders) > RENDERS:
                self._renders.popitem(last=False)
        return parts

    async def render(self, digest: ChannelDigest) -> Sequence[Any] | None:
        """The payloads a digest would be sent as, or None when its platform is not connected
        (checking a template against the platform's limits, previews)."""
        if digest.channel.platform not in self.posters:
            return None
        return await render_off_loop(self.posters[digest.channel.platform], digest)

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
        self,
        channel: ChannelInfo,
        candidates: Sequence[int],
        now: datetime,
        record: bool = True,
        inputs: DeliveryInputs | None = None,
    ) -> Curated:
        """Filters, one story across outlets, ranking, the channel's cap (runs in a worker);
        what filters dropped is recorded unless this is only a preview. `inputs`: the
        channel's settings and rules as read already (else they are read here)."""
        store = self.store.sync
        if inputs is None:
            settings = store.channel_settings(channel.id)
            rules = store.filters(channel.id)
            mention_rules = store.mentions(channel.id)
        else:
            settings, rules, mention_rules = inputs.settings, inputs.filters, inputs.mentions
        per_source = any(r.source_id is not None for r in rules) or any(
            m.source_id is not None for m in mention_rules
        )
        loaded = inputs.articles if inputs is not None else {}
        curated = curate(
            loaded if set(candidates) <= set(loaded) else store.articles(candidates),
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
        settings: ChannelSettings | None = None,
        inputs: DeliveryInputs | None = None,
    ) -> ChannelDigest:
        """`inputs`: what the delivery read already (the articles and their stored digests)."""
        loaded = inputs.articles if inputs is not None else {}
        stored = inputs.stored_digests if inputs is not None else {}
        made = await asyncio.gather(
            *(self.digests.get(i, loaded.get(i), stored.get(i)) for i in article_ids)
        )
        if settings is None:
            settings = await self.store.channel_settings(channel.id)
        by_first = {story[0]: story for story in stories or ()}
        others = {i for story in by_first.values() for i in story[1:]}
        if not others <= loaded.keys():
            loaded = await self.store.articles(sorted(others))
        digests, also, kept = [], [], []
        language = settings.language or self.policy.language
        for article_id, digest in zip(article_ids, made, strict=True):
            if digest is None:
                continue
            kept.append(article_id)
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
        translated = settings.translate and self.translator is not None  # an LLM's own words
        return ChannelDigest(
            channel,
            slot,
            title,
            tuple(digests),
            tuple(also),
            language,
            tuple(mentions),
            templates if templates.custom else None,
            None
            if translated
            else (tuple(kept), settings.bullets_per_article, settings.list_sections),
        )


def _not_running_notice(slot: str) -> Callable[[], str]:
    """The words for a slot skipped while no bot ran (worded once the language is set)."""
    return lambda: _(
        "The {slot} digest was skipped because the bot was not running when it was due; the "
        "next one will include those articles."
    ).format(slot=slot.replace("T", " "))


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
