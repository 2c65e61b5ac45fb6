"""Sending at a platform's pace instead of finding its limits by 429s.

A rush of due channels must drain close to the platform's rate-limit floor:
every 429 costs a round trip and a wait, and a run of them can earn a temporary
ban. Limits are met before sending with GCRA token buckets (a virtual "next
allowed time" per bucket): a caller reserves its slot at once and sleeps until
it, so waiters are served in arrival order and no channel waits behind another
channel's whole digest.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from bot.delivery.poster import request_starting

Clock = Callable[[], float]


class TokenBucket:
    """At most `rate` events a second on average, with up to `burst` at once."""

    def __init__(self, rate: float, burst: int = 1, clock: Clock = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self.tolerance = max(burst - 1, 0) * self.interval
        self.clock = clock
        self._theoretical_arrival = 0.0

    def reserve(self) -> float:
        """Take the next slot; return how long to wait before using it."""
        now = self.clock()
        arrival = max(self._theoretical_arrival, now)
        self._theoretical_arrival = arrival + self.interval
        return max(arrival - self.tolerance - now, 0.0)

    def defer(self, seconds: float) -> None:
        """The platform asked for a pause (Retry-After): nothing goes out before it ends."""
        resume = self.clock() + seconds
        self._theoretical_arrival = max(self._theoretical_arrival, resume + self.tolerance)

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


@dataclass(frozen=True)
class PaceLimits:
    """A platform's published posting limits; `margin` keeps a little below them."""

    per_channel_rate: float
    per_channel_burst: int
    global_rate: float
    margin: float = 0.97


class SlidingWindow:
    """At most `limit` events in any second, counted when they actually happen.

    The token bucket spaces reservations evenly, but a busy event loop can wake several
    reserved senders in the same instant; this second check, on real send times, keeps such
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
    """Waits until a post to `channel` fits both the channel's and the bot's overall limit."""

    def __init__(self, limits: PaceLimits, clock: Clock = time.monotonic) -> None:
        self.limits = limits
        self.channels = KeyedBuckets(
            limits.per_channel_rate * limits.margin, limits.per_channel_burst, clock=clock
        )
        self.overall = TokenBucket(limits.global_rate * limits.margin, 1, clock)
        self.window = SlidingWindow(int(limits.global_rate * limits.margin), clock)

    async def wait(self, channel: str) -> None:
        """Until the post fits; then the request is about to leave (see `request_starting`)."""
        await self.channels.bucket(channel).acquire()
        await self.overall.acquire()
        await self.window.acquire()
        await request_starting()

    async def wait_overall(self) -> None:
        """A request that posts nothing in a channel (reading a channel's type): only the bot's
        overall limit applies, so it takes no channel's slot."""
        await self.overall.acquire()
        await self.window.acquire()

    def defer(self, channel: str, seconds: float) -> None:
        self.channels.bucket(channel).defer(seconds)


SLACK_LIMITS = PaceLimits(per_channel_rate=1.0, per_channel_burst=1, global_rate=100.0)
DISCORD_LIMITS = PaceLimits(per_channel_rate=1.0, per_channel_burst=1, global_rate=50.0)
