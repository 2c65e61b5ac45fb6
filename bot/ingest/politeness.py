"""Fetching like a polite crawler: few requests at once per host, spaced, and robots.txt obeyed.

Publishers judge a bot by its manners. One `Politeness` object is shared by
every fetch of a process (feeds, article pages, robots.txt itself), so a
hundred feed items on one site still mean at most `per_host` requests in flight
there and at least `interval` seconds between the starts of two of them. Hosts
are independent: a slow or dripping host delays no other.
"""

from __future__ import annotations

import asyncio
import time
import urllib.robotparser
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

ROBOTS_TTL = 24 * 3600.0
ROBOTS_MAX_BYTES = 512 * 1024


def host_key(url: str) -> str:
    """Scheme, host and port: the unit robots.txt and politeness apply to (RFC 9309)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


@dataclass
class _Host:
    slots: asyncio.Semaphore
    next_start: float = 0.0
    robots: urllib.robotparser.RobotFileParser | None = None
    robots_verdict: bool | None = None  # True = allow all, False = disallow all, None = parse
    robots_expires: float = 0.0
    robots_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass(frozen=True)
class RobotsAnswer:
    status: int  # 0 when robots.txt could not be fetched at all
    body: bytes = b""


RobotsFetcher = Callable[[str], Awaitable[RobotsAnswer]]


class Politeness:
    def __init__(
        self,
        per_host: int = 2,
        interval: float = 0.25,
        user_agent: str = "newsdigest",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_host = max(per_host, 1)
        self.interval = max(interval, 0.0)
        self.agent_token = user_agent.split("/", 1)[0]
        self.clock = clock
        self._hosts: dict[str, _Host] = {}

    def _host(self, url: str) -> _Host:
        # asyncio primitives belong to one loop; a CLI may run several loops one after another
        key = f"{id(asyncio.get_running_loop())}|{host_key(url)}"
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = _Host(asyncio.Semaphore(self.per_host))
        return host

    @asynccontextmanager
    async def turn(self, url: str) -> AsyncIterator[None]:
        """Hold one of the host's request slots, starting no sooner than its interval allows."""
        host = self._host(url)
        async with host.slots:
            now = self.clock()
            start = max(now, host.next_start)
            host.next_start = start + self.interval
            if start > now:
                await asyncio.sleep(start - now)
            yield

    async def allowed(self, url: str, fetch_robots: RobotsFetcher) -> bool:
        """robots.txt's word on `url` for our user agent, cached per host for a day.

        Unreachable or 4xx robots.txt allows everything; 401/403 and 5xx disallow everything
        for now (RFC 9309 section 2.3.1)."""
        host = self._host(url)
        async with host.robots_lock:
            if self.clock() >= host.robots_expires:
                answer = await fetch_robots(robots_url(url))
                host.robots, host.robots_verdict = _interpret(answer)
                host.robots_expires = self.clock() + (
                    ROBOTS_TTL if answer.status and answer.status < 500 else 600.0
                )
        if host.robots_verdict is not None:
            return host.robots_verdict
        assert host.robots is not None
        return host.robots.can_fetch(self.agent_token, url)


def robots_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/robots.txt"


def _interpret(
    answer: RobotsAnswer,
) -> tuple[urllib.robotparser.RobotFileParser | None, bool | None]:
    if answer.status in (401, 403) or answer.status >= 500:
        return None, False
    if answer.status == 0 or answer.status >= 400:
        return None, True
    parser = urllib.robotparser.RobotFileParser()
    text = answer.body[:ROBOTS_MAX_BYTES].decode("utf-8", errors="replace")
    parser.parse(text.splitlines())
    return parser, None
