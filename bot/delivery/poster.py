"""What an adapter implements to receive digests: the `Poster` contract and what crosses it.

This is all the delivery engine knows of a platform, and all a platform adapter needs to
import from delivery: the channel's digest to render, the parts it sends, the reference it
returns for each, and the error it raises when the platform refuses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.curate.selection import Outlet
from bot.digest.templates import Templates, entry_fields
from bot.models import Digest
from bot.store.on_loop import Rider
from bot.store.repo import ChannelInfo


@dataclass(frozen=True)
class ChannelDigest:
    """What one channel gets for one slot: the new articles' digests, newest first."""

    channel: ChannelInfo
    slot: str
    title: str
    digests: tuple[Digest, ...]
    also: tuple[tuple[Outlet, ...], ...] = ()  # per digest: other outlets telling the story
    language: str = "en"  # of the bot's own words (headers, labels): the channel's
    # ids of the roles (Discord) or user groups (Slack) an admin asked to notify for a story
    # here: the only mentions a digest may carry
    mentions: tuple[str, ...] = ()
    # the channel's message templates (/digest template); None: the built-in rendering
    templates: Templates | None = None
    # what decided `digests` besides the fields above (the articles that had a digest, the
    # channel's bullets and sections): channels whose digests agree on it and on every other
    # field but `channel` are rendered once (the engine's render cache). None: never shared.
    # Posters need not look at it; their `render` must not depend on `channel`.
    content: Hashable | None = field(default=None, compare=False)

    def others(self, index: int) -> tuple[Outlet, ...]:
        return self.also[index] if index < len(self.also) else ()

    def entry_fields(self) -> list[dict[str, Any]]:
        """Each article's fields for the entry template (the documented ones), in order."""
        return [
            entry_fields(d, [o.name for o in self.others(n)], n + 1)
            for n, d in enumerate(self.digests)
        ]


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


__all__ = [
    "ChannelDigest",
    "Outlet",
    "PostError",
    "Poster",
    "SentPart",
    "part_key",
    "request_starting",
    "rider_sent",
    "start_rider",
]


@dataclass
class RequestStart:
    """A request's start as `on_request_start` awaits it: `done` once its write was made."""

    hook: Callable[[], Awaitable[None]]
    rider: Rider | None
    done: bool = False


_REQUEST_STARTING: ContextVar[RequestStart | None] = ContextVar(
    "newsdigest_request_starting", default=None
)


async def request_starting() -> None:
    """A poster's `send` calls this right before its request leaves (`Pacer.wait` does, at its
    end): the engine then records the part as possibly out. Marking here rather than when
    `send` is called keeps a part that was only waiting for its pacing slot from counting as
    sent, so a replica that takes the delivery over asks the platform (Slack's history API,
    rate-limited hard) only about parts whose request may really have gone out."""
    start = _REQUEST_STARTING.get()
    if start is not None and not start.done:
        start.done = True
        await start.hook()


def start_rider() -> Rider | None:
    """The write `request_starting` would make, as one statement, for a pacer whose last
    database statement before the request can carry it (one round trip less a post; see
    `SharedPacer.wait`). The pacer calls `rider_sent` once that statement ran with it."""
    start = _REQUEST_STARTING.get()
    return start.rider if start is not None and not start.done else None


def rider_sent() -> None:
    """The rider's write is made: `request_starting` has nothing left to do."""
    start = _REQUEST_STARTING.get()
    if start is not None:
        start.done = True


@contextmanager
def on_request_start(
    hook: Callable[[], Awaitable[None]], rider: Rider | None = None
) -> Iterator[RequestStart]:
    """Run `hook` when the poster called within announces its request (see above); `rider`:
    the same write as one statement (see `start_rider`). What is yielded says afterwards
    whether either was made (`done`)."""
    start = RequestStart(hook, rider)
    token = _REQUEST_STARTING.set(start)
    try:
        yield start
    finally:
        _REQUEST_STARTING.reset(token)


def part_key(delivery_id: int, part: int) -> str:
    """Deterministic per part, short enough for a Discord nonce (≤ 25 characters)."""
    return f"nd{delivery_id}p{part}"
