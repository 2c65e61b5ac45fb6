"""Sending at a platform's pace instead of finding its limits by 429s.

A rush of due channels must drain close to the platform's rate-limit floor:
every 429 costs a round trip and a wait, and a run of them can earn a temporary
ban. Limits are met before sending: a channel's with a GCRA token bucket (a
virtual "next allowed time"), the bot's overall one with a gate that lets posts
through one an interval in arrival order, so no channel waits behind another
channel's whole digest.

Replicas on one PostgreSQL share the buckets (`SharedPacer`): each permit is also taken
from a row every replica updates (`bot/store/pacing.py`), so their posts together keep to
a platform's limits, and a Retry-After one of them is given holds the others back too.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, Protocol, TypeVar

from bot.delivery.poster import PostError, request_starting, rider_sent, start_rider
from bot.store.on_loop import Rider
from bot.store.pacing import Bucket, PaceTable, Permits

log = logging.getLogger(__name__)

Clock = Callable[[], float]
P = ParamSpec("P")
T = TypeVar("T")

# a pacing wait longer than this (a long Retry-After, here or on another replica) is not slept
# holding a delivery's lease: the send fails as rate-limited and the engine schedules it, as it
# does a long Retry-After (the engine waits out up to 60 s in place)
MAX_PACED_WAIT = 60.0
# how far ahead of a shared overall slot a replica lets its next post through, as a share of
# the interval (SharedPacer.wait): more than a permit statement's usual time to the server.
# A post up to twice that early is let go rather than sleep again: an overall spacing short
# by half an interval, a few milliseconds, is nothing against the overall margin
LEAD = 0.25
# how many replicas' turns a replica's gate expects between two of its own (SharedPacer)
MAX_SHARE = 8


class PacingHold(PostError):
    """The platform asked this bot (here or on another replica) to pause for longer than a
    sender waits in place: nothing went out, retry after `retry_after` seconds."""

    def __init__(self, seconds: float) -> None:
        super().__init__("held back by the platform's Retry-After", retry_after=seconds)


class TokenBucket:
    """At most `rate` events a second on average, with up to `burst` at once."""

    def __init__(self, rate: float, burst: int = 1, clock: Clock = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self.tolerance = max(burst - 1, 0) * self.interval
        self.clock = clock
        self._theoretical_arrival = 0.0
        self.held_until = -math.inf  # the end of the last Retry-After (`defer`)

    def reserve(self, max_wait: float = math.inf) -> float:
        """Take the next slot; return how long to wait before using it. A slot further off
        than `max_wait` (the bucket is held by a Retry-After) is not taken: the wait is
        returned and the caller gives up."""
        now = self.clock()
        arrival = max(self._theoretical_arrival, now)
        wait = max(arrival - self.tolerance - now, 0.0)
        if wait <= max_wait:
            self._theoretical_arrival = arrival + self.interval
        return wait

    def pending(self) -> float:
        """How long a slot taken now would wait (nothing is taken)."""
        return max(self._theoretical_arrival - self.tolerance - self.clock(), 0.0)

    def used_at(self, at: float) -> None:
        """The slot was used at `at`, later than it was taken for (it waited behind other
        posts): the next is spaced from then, as the platform counts it."""
        self._theoretical_arrival = max(self._theoretical_arrival, at + self.interval)

    def defer(self, seconds: float) -> None:
        """The platform asked for a pause (Retry-After): nothing goes out before it ends."""
        resume = self.clock() + seconds
        self._theoretical_arrival = max(self._theoretical_arrival, resume + self.tolerance)
        self.held_until = max(self.held_until, resume)

    async def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            await asyncio.sleep(wait)


class KeyedBuckets:
    """One bucket per key (a channel), created on first use, least recently used dropped."""

    def __init__(
        self, rate: float, burst: int = 1, max_keys: int = 50_000, clock: Clock = time.monotonic
    ) -> None:
        self.rate, self.burst, self.max_keys, self.clock = rate, burst, max_keys, clock
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def bucket(self, key: str) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst, self.clock)
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket


class Gate:
    """The bot's overall limit in one process: posts pass in the order they came, at most
    one an `interval` on average, `burst` of them together.

    A token bucket fixes each waiter's instant when it joins; here a waiter learns it only
    when its turn comes, so a later floor (a Retry-After, or the shared bucket found further
    on than this process's own, `SharedPacer`) moves every waiter still queued, and none
    wakes at a stale instant only to sleep again. One timer serves the whole queue.

    With a queue, turns are given `burst` at a time, once the last of them is due: the
    same rate, in a fraction of the wake-ups. On this project's machines a wake-up of the
    event loop costs more CPU than the Python a post runs (`make bench`, wakeups), and the
    posts of one turn also share the wake-ups of their permits, their requests' answers
    and their records: turns of 4 took a fifth off the CPU a digest of a rush on one
    replica, a tenth on two (`make bench`, replicas). The platform counts the overall limit
    in one-second windows, so a burst adds `burst - 1` posts to a window
    (`PaceLimits.global_burst`)."""

    def __init__(self, rate: float, clock: Clock = time.monotonic, burst: int = 1) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self.burst = max(burst, 1)
        # GCRA's tolerance: a post may pass this long before its even spacing, so `burst`
        # pass at once. The shared row keeps the same (`SharedPacer`); here a late turn is
        # also forgiven up to a `LEAD` of the interval (`_pass`), and the per-second window
        # counts real sends
        self.tolerance = (self.burst - 1) * self.interval
        self.clock = clock
        self._next = -math.inf  # the next post's even instant; it may pass `tolerance` before
        self._queue: deque[tuple[asyncio.Future[None], float]] = deque()  # (turn, max_wait)
        self._timer: asyncio.TimerHandle | None = None
        self._together = 0  # the posts the timer is armed to let through

    def pending(self) -> float:
        """About how long a post joining now would wait (nothing is taken)."""
        now = self.clock()
        return max(self._due(now) + len(self._queue) * self.interval - now, 0.0)

    async def wait(self, max_wait: float = math.inf) -> None:
        """Until this post's turn. Raises `PacingHold` (nothing taken) when the turn is further
        off than `max_wait` (a long Retry-After), now or after a hold that comes while the
        post queues: it is not slept holding the delivery's lease."""
        wait = self.pending()
        if wait > max_wait:
            raise PacingHold(wait)
        if not self._queue and self._due() <= self.clock():
            self._pass()
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((turn, max_wait))
        if self._timer is None or self._together < min(len(self._queue), self.burst):
            self._rearm()  # not armed, or armed for a smaller turn than the queue now makes
        await turn  # cancelled while queued: `_release` skips it

    def hold_until(self, at: float) -> None:
        """No post passes before `at` (on `clock`); a queued post whose turn this puts further
        off than it waits is failed as held."""
        if at + self.tolerance > self._next:
            self._next = at + self.tolerance
            self._drop_overdue()
            self._rearm()

    def _rearm(self) -> None:
        """The timer for the queue as it is now (any timer armed before is dropped)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._arm()

    def _drop_overdue(self) -> None:
        # from the back: the later a post queues, the later its turn
        now = self.clock()
        while self._queue:
            turn, max_wait = self._queue[-1]
            wait = self._due(now) + (len(self._queue) - 1) * self.interval - now
            if wait <= max_wait:
                break
            self._queue.pop()
            if not turn.done():
                turn.set_exception(PacingHold(wait))

    def defer(self, seconds: float) -> None:
        """The platform asked for a pause (Retry-After): nothing goes out before it ends."""
        self.hold_until(self.clock() + seconds)

    def _due(self, now: float | None = None) -> float:
        """When the next post may pass (not before `now`)."""
        due = self._next - self.tolerance
        return due if now is None else max(due, now)

    def _pass(self) -> None:
        # a turn given late (the loop was busy when the timer was due) is forgiven up to a
        # `LEAD` of the interval: counted from the due instant, lateness would add up turn
        # after turn into a slower rush (about 3% in `make bench`, replicas)
        self._next = max(self._next, self.clock() - self.interval * LEAD) + self.interval

    def _arm(self) -> None:
        # for when the last post of a turn is due: `burst` of the queue, or all it holds
        if self._timer is None and self._queue:
            self._together = together = min(len(self._queue), self.burst)
            at = self._due() + (together - 1) * self.interval
            self._timer = asyncio.get_running_loop().call_later(
                max(at - self.clock(), 0.0), self._release
            )

    def _release(self) -> None:
        # the timer is armed for the current floor (`hold_until` re-arms it when it moves).
        # It may fire a little early (the loop's clock ticks in milliseconds): a turn's
        # posts due within a `LEAD` of the interval go with it, and the first goes anyway
        self._timer = None
        passed = 0
        while self._queue and (passed == 0 or self._due() <= self.clock() + self.interval * LEAD):
            turn, _ = self._queue.popleft()
            if not turn.done():
                turn.set_result(None)
                self._pass()
                passed += 1
        self._arm()


@dataclass(frozen=True)
class PaceLimits:
    """A platform's published posting limits; the margins keep below them.

    The overall limit gets the wider margin because the platform counts it in a one-second
    window of *arrivals*, and arrivals bunch relative to sends (a new connection, the network,
    the platform's own front end): with margin m a bunch compressed by up to 1/m - 1 of a
    second still fits. At 0.97 that was 30 ms, and a busy CI machine saw the loopback
    Discord's 50/s window overrun; 0.92 tolerates about 85 ms. A channel's limit is a bucket
    refilling over seconds, where a few milliseconds of jitter do not matter.

    `global_burst` posts pass the overall limit together (`Gate`, for fewer wake-ups): a
    second then holds up to `global_burst - 1` more than the rate, out of that room."""

    per_channel_rate: float
    per_channel_burst: int
    global_rate: float
    margin: float = 0.97
    global_margin: float = 0.92
    global_burst: int = 1  # overall posts let through together (`Gate`)

    @property
    def per_second(self) -> int:
        """The most posts the pacer lets out in any one second overall: its rate, and a
        burst on top."""
        return int(self.global_rate * self.global_margin) + max(self.global_burst, 1) - 1


class SlidingWindow:
    """At most `limit` events in any second, counted when they actually happen.

    The gate spaces turns evenly, but a busy event loop can run several senders' turns in
    the same instant; this second check, on real send times, keeps such
    a bunch from exceeding the platform's per-second window."""

    def __init__(self, limit: int, clock: Clock = time.monotonic) -> None:
        self.limit = max(limit, 1)
        self.clock = clock
        self._times: deque[float] = deque()

    async def acquire(self) -> None:
        while True:
            now = self.clock()
            while self._times and now - self._times[0] >= 1.0:
                self._times.popleft()
            if len(self._times) < self.limit:
                self._times.append(now)
                return
            await asyncio.sleep(max(self._times[0] + 1.0 - now, 0.001))


class Pacer:
    """Waits until a post to `channel` fits both the channel's and the bot's overall limit.

    This one paces one process; `SharedPacer` paces every replica on one PostgreSQL."""

    def __init__(
        self, limits: PaceLimits, clock: Clock = time.monotonic, max_wait: float = MAX_PACED_WAIT
    ) -> None:
        self.limits = limits
        self.clock = clock
        self.max_wait = max_wait
        self.channels = KeyedBuckets(
            limits.per_channel_rate * limits.margin, limits.per_channel_burst, clock=clock
        )
        self.overall = Gate(limits.global_rate * limits.global_margin, clock, limits.global_burst)
        self.window = SlidingWindow(limits.per_second, clock)

    async def wait(self, channel: str) -> None:
        """Until the post fits; then the request is about to leave (see `request_starting`).
        Raises `PacingHold` (nothing sent) when a Retry-After holds it back for long.

        The per-second window is the last gate, after the engine's record that the part may
        go out (a database write): a window counted before that write would let every sender
        the write held up leave in one bunch, over the platform's per-second limit."""
        await self._channel_slot(channel)
        await self._overall_slot()
        await request_starting()
        await self.window.acquire()
        self._sent(channel)

    async def wait_overall(self) -> None:
        """A request that posts nothing in a channel (reading a channel's type): only the bot's
        overall limit applies, so it takes no channel's slot."""
        await self._overall_slot()
        await self.window.acquire()

    def defer(self, channel: str, seconds: float) -> None:
        """A 429 for this channel: nothing more goes to it for `seconds`."""
        self.channels.bucket(channel).defer(seconds)

    def defer_overall(self, seconds: float) -> None:
        """A 429 for the whole bot token (Discord's global limit, a Cloudflare ban): nothing
        goes out for `seconds`."""
        self.overall.defer(seconds)

    async def _channel_slot(self, channel: str) -> None:
        """The channel's slot, taken before the overall one. A wait the overall queue will
        cover anyway is not slept here (the overall slot is taken at once after this, no
        await between): one wake-up a post instead of two, and the overall slot taken after
        a separate channel wait is not taken early and left unused."""
        bucket = self.channels.bucket(channel)
        wait = bucket.reserve(self.max_wait)
        held = bucket.held_until > self.clock()  # a Retry-After, kept exactly: slept here
        if held or wait > self.overall.pending() or wait > self.max_wait:
            await self._sleep(wait)

    def _sent(self, channel: str) -> None:
        """The post is leaving now: its channel's next slot counts from now, not from when
        it joined the queue (seconds earlier in a rush), or the channel's next post could
        follow this one closer than its limit, and a shared channel row (written when the
        permit was taken) would then hold the post back after its overall slot was taken."""
        self.channels.bucket(channel).used_at(self.clock())

    async def _overall_slot(self) -> None:
        await self.overall.wait(self.max_wait)

    async def _sleep(self, wait: float) -> None:
        if wait > self.max_wait:
            raise PacingHold(wait)
        if wait > 0:
            await asyncio.sleep(wait)


class Offload(Protocol):
    """Runs blocking work off the event loop (the bot's database workers)."""

    def __call__(
        self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> Awaitable[T]: ...


PRUNE_EVERY = 600.0  # seconds between sweeps of idle shared buckets
PRUNE_IDLE = 3600.0  # a bucket unused this long is forgotten (its TAT is long past anyway)


class SharedPacer(Pacer):
    """Paces every replica on one PostgreSQL together: each permit is taken from the local
    limit (which sees this process's own Retry-Afters at once and orders its waiters), then
    from the shared row of the same limit, one round trip, so that all
    replicas' permits together keep to the rate. A Retry-After is applied here at once and
    written to the shared row for the others.

    The per-second window stays local: it catches bunches of this process's wake-ups; across
    replicas the permits are spaced by the database, and the margin absorbs the jitter of
    their round trips. When the database does not answer a permit, the local limits alone
    paces that post (the replica may then post faster than its share; 429s are still waited
    out), rather than failing a post that has nothing to do with the database."""

    def __init__(
        self,
        limits: PaceLimits,
        table: PaceTable,
        offload: Offload,
        scope: str,
        clock: Clock = time.monotonic,
        max_wait: float = MAX_PACED_WAIT,
    ) -> None:
        super().__init__(limits, clock, max_wait)
        self.table, self.offload, self.scope = table, offload, scope
        self._tasks: set[asyncio.Task[Any]] = set()
        self._next_prune = clock() + PRUNE_EVERY
        self._failing = False
        self._last_slot = -math.inf  # this replica's last shared overall slot (on `clock`)

    def key(self, channel: str | None) -> str:
        """The bucket's row: `slack:*` for the overall limit, `slack:C123` for a channel."""
        return f"{self.scope}:{'*' if channel is None else channel}"

    def defer(self, channel: str, seconds: float) -> None:
        super().defer(channel, seconds)
        bucket = self.channels.bucket(channel)
        self._spawn(self.offload(self.table.hold, self.key(channel), seconds, bucket.tolerance))

    def defer_overall(self, seconds: float) -> None:
        super().defer_overall(seconds)
        self._spawn(self.offload(self.table.hold, self.key(None), seconds, self.overall.tolerance))

    async def wait(self, channel: str) -> None:
        """As `Pacer.wait`, with the shared rows: after the local limits, both of a post's
        shared permits are taken in one statement when it can be (it is one of the few a post
        makes; `make bench`, replicas), and the part's "request starting" mark rides with it
        when both slots are due at once (within the overall interval: no real wait left), so
        that it still follows every wait and precedes the request. Should the channel's row
        be further on than this replica's own bucket (another replica posted there), the
        statement takes no overall slot: the wait is slept and the overall slot taken after
        it, rather than reserved and left unused while waiting; so it is when the overall
        bucket is held (a Retry-After), which then says how long."""
        await super()._channel_slot(channel)
        await super()._overall_slot()
        self._maybe_prune()
        rider = start_rider()  # the part's "request starting" mark, in the same statement
        asked = self.clock()
        both = await self._shared_both(channel, rider)
        if both is not None and both.rode:
            rider_sent()
        if both is None:  # one by one, as any pacer that cannot take both at once
            await self._shared_slot(self.key(channel), self.channels.bucket(channel))
            await self._shared_slot(self.key(None), self.overall)
        elif both.overall is None or both.channel.wait > self.overall.interval:
            await self._sleep(both.channel.wait)
            await self._shared_slot(self.key(None), self.overall)
        else:  # the clocks' jitter: an overall slot used this little late is still its own
            # the next post here is let through just before its likely shared slot (the
            # statement's `now` is a little after `asked`): it then finds the slot due, its
            # mark rides, and it sleeps no second time (`make bench`, replicas)
            # (with a burst, the first of the next turn's posts: they pass `tolerance` early)
            lead = self.overall.interval * LEAD
            self.overall.hold_until(
                self._next_shared(asked, both.overall.wait) - lead - self.overall.tolerance
            )
            wait = max(both.channel.wait, both.overall.wait)
            if wait > 2 * lead:  # this little early (the statement came quicker than the
                await self._sleep(self._with_turn(wait))  # last), it still keeps the spacing
        await request_starting()
        await self.window.acquire()
        self._sent(channel)

    def _with_turn(self, wait: float) -> float:
        """`wait`, made a little longer so that the posts of one turn, whose shared slots
        follow one another, wake together: to the next multiple of a turn's length on this
        process's clock. Later than its slot, a post still keeps to the shared spacing."""
        if self.overall.burst == 1:
            return wait
        turn = self.overall.burst * self.overall.interval
        now = self.clock()
        return math.ceil((now + wait) / turn) * turn - now

    def _next_shared(self, asked: float, wait: float) -> float:
        """Where this replica's next shared overall slot likely is, after the one a permit
        asked for at `asked` got `wait` seconds on: the next one when the row was free (no
        other replica ahead), else halfway to as far on as this replica's last two were
        apart (the others took those between; up to `MAX_SHARE` slots). Halfway: a post
        there early waits half a turn, which its mark still rides; one there late would
        leave the slot before it unused by every replica, a slower rush (`make bench`,
        replicas: 13% slower at two replicas when aimed at the estimate itself)."""
        step, slot = self.overall.interval, asked + wait
        if wait <= 0:  # the row was free: the next slot is this replica's to take
            spacing = step
        else:
            apart = min(max(slot - self._last_slot, step), step * MAX_SHARE)
            spacing = step + (apart - step) / 2
        self._last_slot = slot
        return slot + spacing

    async def _shared_both(self, channel: str, rider: Rider | None) -> Permits | None:
        bucket = self.channels.bucket(channel)
        try:
            return await self.table.reserve_both_on_loop(
                Bucket(self.key(channel), bucket.interval, bucket.tolerance),
                Bucket(self.key(None), self.overall.interval, self.overall.tolerance),
                self.max_wait,
                rider,
            )
        except Exception:  # the database: taken one by one below, which says so
            return None

    async def settle(self) -> None:
        """Until the Retry-Afters seen here are written for the other replicas."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _channel_slot(self, channel: str) -> None:
        await super()._channel_slot(channel)
        await self._shared_slot(self.key(channel), self.channels.bucket(channel))

    async def _overall_slot(self) -> None:
        await super()._overall_slot()
        await self._shared_slot(self.key(None), self.overall)

    def _maybe_prune(self) -> None:
        if self.clock() >= self._next_prune:
            self._next_prune = self.clock() + PRUNE_EVERY
            self._spawn(self.offload(self.table.prune, PRUNE_IDLE))

    async def _shared_slot(self, key: str, bucket: TokenBucket | Gate) -> None:
        self._maybe_prune()
        try:
            # awaited on the loop when it can be (one statement, no thread's wake-up)
            permit = await self.table.reserve_on_loop(
                key, bucket.interval, bucket.tolerance, self.max_wait
            )
            if permit is None:
                permit = await self.offload(
                    self.table.reserve, key, bucket.interval, bucket.tolerance, self.max_wait
                )
        except Exception as exc:  # the database: pace this post locally, say so once
            if not self._failing:
                self._failing = True
                log.warning("shared pacing unavailable (%s); pacing locally", type(exc).__name__)
            return
        if self._failing:
            self._failing = False
            log.info("shared pacing is back")
        if not permit.taken:
            raise PacingHold(max(permit.wait, self.max_wait))
        await self._sleep(permit.wait)

    def _spawn(self, work: Awaitable[Any]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception as exc:
                log.warning("could not share a pacing update: %s", type(exc).__name__)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


# Slack's 100 posts/s at 0.92 is 92 a second, and turns of 4 make any second's count at most
# 95: room for arrivals bunched by about 50 ms. Discord keeps turns of one: at 46 of its 50 a
# second, a burst would take part of the room for bunching its margin is there for
# (`PaceLimits`)
SLACK_LIMITS = PaceLimits(
    per_channel_rate=1.0, per_channel_burst=1, global_rate=100.0, global_burst=4
)
DISCORD_LIMITS = PaceLimits(per_channel_rate=1.0, per_channel_burst=1, global_rate=50.0)
