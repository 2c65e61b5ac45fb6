"""Server-side rate limits for the loopback Slack and Discord: what the platforms enforce.

Per channel a token bucket (Slack: 1 post/s with bursts of 3; Discord: 5 per 5 s), overall
a sliding one-second window (Slack 100 posts/s, Discord 50 requests/s). Thread-safe, since
the loopback server answers each connection on its own thread.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field


@dataclass
class RateLimits:
    per_channel_rate: float
    per_channel_burst: int
    global_per_second: int
    latency: float = 0.0
    rejected: int = 0
    rejected_global: int = 0
    accepted: int = 0
    _tokens: dict[str, tuple[float, float]] = field(default_factory=dict)
    _recent: deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def admit(self, channel: str) -> tuple[float | None, bool]:
        """(None, _) when the call may go through, else (seconds to wait, is_global)."""
        now = time.monotonic()
        with self._lock:
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.global_per_second:
                self.rejected += 1
                self.rejected_global += 1
                return max(1.0 - (now - self._recent[0]), 0.001), True
            tokens, last = self._tokens.get(channel, (float(self.per_channel_burst), now))
            tokens = min(self.per_channel_burst, tokens + (now - last) * self.per_channel_rate)
            if tokens < 1.0:
                self._tokens[channel] = (tokens, now)
                self.rejected += 1
                return (1.0 - tokens) / self.per_channel_rate, False
            self._tokens[channel] = (tokens - 1.0, now)
            self._recent.append(now)
            self.accepted += 1
            return None, False

    def remaining(self, channel: str) -> int:
        with self._lock:
            tokens, _ = self._tokens.get(channel, (float(self.per_channel_burst), 0.0))
            return int(tokens)


def slack_limits(latency: float = 0.05) -> RateLimits:
    return RateLimits(1.0, 3, 100, latency)


def discord_limits(latency: float = 0.05) -> RateLimits:
    return RateLimits(1.0, 5, 50, latency)
