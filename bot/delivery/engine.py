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

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot.delivery.schedule import Schedule, ScheduleError, parse_schedule, slots_between
from bot.digest.build import build_digest
from bot.models import Digest
from bot.ops.metrics import METRICS
from bot.store.repo import FAILED, SENDING, SKIPPED, ChannelInfo, DeliveryInfo, Store
from bot.summarize.base import Summarizer

log = logging.getLogger(__name__)

MAX_CATCH_UP = timedelta(days=7)
MAX_ATTEMPTS = 8
DIGEST_CACHE_SIZE = 2000


@dataclass(frozen=True)
class ChannelDigest:
    """What one channel gets for one slot: the new articles' digests, newest first."""

    channel: ChannelInfo
    slot: str
    title: str
    digests: tuple[Digest, ...]


@dataclass(frozen=True)
class SentPart:
    message_ref: str
    thread_ref: str | None = None


class PostError(Exception):
    """A platform refused a post. `permanent` ones (no access, no channel) pause the channel."""

    def __init__(
        self, message: str, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


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
    ) -> None:
        self.store = store
        self.summarizer = summarizer
        self.posters = posters
        self.grace = grace
        self.lookback = lookback
        self.max_articles = max_articles
        self.summary_bullets = summary_bullets
        self.section_bullets = section_bullets
        self.stats = DeliveryStats()
        self._digests: dict[int, Digest] = {}

    # the periodic entry point ---------------------------------------------------------------
    async def tick(self, now: datetime | None = None) -> None:
        """Finish interrupted deliveries, then post or skip every slot that fell due."""
        now = now or datetime.now(UTC)
        for delivery in self.store.unfinished_deliveries():
            try:
                await self._resume(delivery, now)
            except Exception:
                log.exception(
                    "could not resume digest %d; will retry on the next tick", delivery.id
                )
        for channel in self.store.channels():
            if channel.schedule and not channel.paused and channel.platform in self.posters:
                try:
                    await self.run_channel(channel, now)
                except Exception:
                    log.exception(
                        "digest for %s:%s failed; will retry on the next tick",
                        channel.platform,
                        channel.external_id,
                    )

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
        start = max(channel.schedule_since, now - MAX_CATCH_UP)
        pending = [
            (slot, at)
            for slot, at in slots_between(schedule, start, now)
            if self.store.delivery(channel.id, slot) is None
        ]
        if not pending:
            return
        *missed, (latest_slot, latest_at) = pending
        for slot, _at in missed:
            self._skip(channel, slot, "a later digest replaced it", now)
        if now - latest_at <= self.grace:
            await self.deliver(channel, latest_slot, now)
        elif self._skip(channel, latest_slot, "the bot was not running when it was due", now):
            await self._notice(
                channel,
                f"The {latest_slot.replace('T', ' ')} digest was skipped because "
                "the bot was not running when it was due; the next one will "
                "include those articles.",
            )

    def _skip(self, channel: ChannelInfo, slot: str, why: str, now: datetime) -> bool:
        claimed = (
            self.store.claim_delivery(channel.id, slot, state=SKIPPED, error=why, now=now)
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
        delivery = self.store.claim_delivery(channel.id, slot, now=now)
        if delivery is None:
            return None
        article_ids = self.store.new_articles_for(
            channel.id, now - self.lookback, self.max_articles
        )
        if not article_ids:
            self.store.set_delivery_state(delivery.id, SKIPPED, "nothing new")
            log.info(
                "no new articles for %s:%s slot %s", channel.platform, channel.external_id, slot
            )
            return self.store.delivery_by_id(delivery.id)
        digest = self._channel_digest(channel, slot, article_ids)
        parts = self.posters[channel.platform].render(digest)
        self.store.plan_delivery(delivery.id, article_ids, len(parts))
        started = datetime.now(UTC)
        await self._send_parts(channel, delivery.id, parts, 0, None, reconcile=False, now=now)
        final = self.store.delivery_by_id(delivery.id)
        if final and final.state == "sent":
            log.info(
                "posted digest to %s:%s slot=%s articles=%d parts=%d in %.2fs",
                channel.platform,
                channel.external_id,
                slot,
                len(article_ids),
                len(parts),
                (datetime.now(UTC) - started).total_seconds(),
            )
        return final

    async def _resume(self, delivery: DeliveryInfo, now: datetime) -> None:
        if delivery.retry_at and delivery.retry_at > now:
            return
        channel = self.store.channel_by_id(delivery.channel_id)
        if channel is None or channel.platform not in self.posters or channel.paused:
            return
        if delivery.parts_sent == 0 and now - delivery.created_at > self.grace:
            self.store.set_delivery_state(
                delivery.id, SKIPPED, "not posted within the grace period"
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
        if not delivery.article_ids:  # crashed before planning: plan now
            article_ids = self.store.new_articles_for(
                channel.id, now - self.lookback, self.max_articles
            )
            if not article_ids:
                self.store.set_delivery_state(delivery.id, SKIPPED, "nothing new")
                return
        else:
            article_ids = delivery.article_ids
        digest = self._channel_digest(channel, delivery.slot, article_ids)
        parts = self.posters[channel.platform].render(digest)
        if not delivery.article_ids:
            self.store.plan_delivery(delivery.id, article_ids, len(parts))
        await self._send_parts(
            channel,
            delivery.id,
            parts,
            delivery.parts_sent,
            delivery.thread_ref,
            reconcile=True,
            now=now,
        )

    async def _send_parts(
        self,
        channel: ChannelInfo,
        delivery_id: int,
        parts: Sequence[Any],
        first: int,
        thread_ref: str | None,
        reconcile: bool,
        now: datetime,
    ) -> None:
        poster = self.posters[channel.platform]
        for index in range(first, len(parts)):
            key = part_key(delivery_id, index)
            try:
                sent = (
                    await poster.find(channel.external_id, key, thread_ref) if reconcile else None
                )
                if sent is None:
                    sent = await poster.send(channel.external_id, parts[index], key, thread_ref)
            except PostError as exc:
                await self._post_failed(channel, delivery_id, exc, now)
                return
            except Exception as exc:
                await self._post_failed(
                    channel, delivery_id, PostError(f"{type(exc).__name__}: {exc}"), now
                )
                return
            reconcile = False
            thread_ref = thread_ref or sent.thread_ref or sent.message_ref
            self.store.part_sent(delivery_id, index, sent.message_ref, thread_ref)
        self.store.finish_delivery(delivery_id)
        self.stats.posted += 1
        METRICS.inc("newsdigest_digests_posted_total", platform=channel.platform)

    async def _post_failed(
        self, channel: ChannelInfo, delivery_id: int, exc: PostError, now: datetime
    ) -> None:
        delivery = self.store.delivery_by_id(delivery_id)
        attempts = (delivery.attempts if delivery else 0) + 1
        if exc.permanent:
            self.store.delivery_attempt(delivery_id, str(exc), None, FAILED)
            self.stats.failed += 1
            METRICS.inc("newsdigest_digests_failed_total", platform=channel.platform)
            if self.store.pause_channel(channel.id, str(exc)):
                log.error(
                    "paused %s:%s: %s. An admin must fix access, then run '/digest schedule' again.",
                    channel.platform,
                    channel.external_id,
                    exc,
                )
            return
        if attempts >= MAX_ATTEMPTS:
            self.store.delivery_attempt(delivery_id, str(exc), None, FAILED)
            self.stats.failed += 1
            METRICS.inc("newsdigest_digests_failed_total", platform=channel.platform)
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
        self.store.delivery_attempt(delivery_id, str(exc), retry_at, SENDING)
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
    def digest_for(self, article_id: int) -> Digest | None:
        """The article's digest, summarized once and cached for every channel and process."""
        if article_id in self._digests:
            return self._digests[article_id]
        cached = self.store.cached_digest(article_id)
        if cached is not None:
            return self._remember(article_id, cached)
        article = self.store.article(article_id)
        if article is None or not article.sentences:
            return None
        started = time.perf_counter()
        digest = build_digest(article, self.summarizer, self.summary_bullets, self.section_bullets)
        METRICS.observe("newsdigest_summarizer_seconds", time.perf_counter() - started)
        if any(note.startswith("llm fallback") for note in digest.notes):
            METRICS.inc("newsdigest_llm_fallbacks_total")
        self.stats.summarized += 1
        self.store.save_digest(article_id, digest)
        return self._remember(article_id, digest)

    def _remember(self, article_id: int, digest: Digest) -> Digest:
        """Digests never change once made, so a bounded in-process copy saves reloading them per channel."""
        if len(self._digests) >= DIGEST_CACHE_SIZE:
            self._digests.pop(next(iter(self._digests)))
        self._digests[article_id] = digest
        return digest

    def _channel_digest(
        self, channel: ChannelInfo, slot: str, article_ids: Sequence[int]
    ) -> ChannelDigest:
        digests = tuple(d for d in (self.digest_for(i) for i in article_ids) if d is not None)
        day = slot.removeprefix("now-").split("T")[0]
        return ChannelDigest(channel, slot, f"News digest — {day}", digests)


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
