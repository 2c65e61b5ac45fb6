"""A platform double for delivery tests: records posts and can fail or 'crash' on demand.

Slack and Discord adapters are tested against loopback servers speaking their real
APIs; this double only stands in for "a platform" where the engine itself is under test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.delivery.poster import ChannelDigest, PostError, SentPart


class Crash(BaseException):
    """Stands for SIGKILL: not an Exception, so no handler in the engine catches it."""


@dataclass
class Post:
    channel: str
    key: str
    part: Any
    thread: str | None
    ref: str


@dataclass
class RecordingPoster:
    platform: str = "test"
    posts: list[Post] = field(default_factory=list)
    notices: list[tuple[str, str]] = field(default_factory=list)
    fail_next: list[PostError] = field(default_factory=list)
    crash_after_post: set[int] = field(default_factory=set)  # crash after the Nth post is accepted
    crash_before_post: set[int] = field(default_factory=set)
    can_find: bool = True
    attempts: int = 0
    finds: int = 0  # platform lookups made to reconcile a resumed delivery

    def render(self, digest: ChannelDigest) -> Sequence[Any]:
        parts: list[Any] = [{"top": digest.title, "count": len(digest.digests)}]
        parts += [{"article": d.article.title} for d in digest.digests]
        return parts

    async def send(
        self, channel: str, part: Any, part_key: str, thread_ref: str | None
    ) -> SentPart:
        self.attempts += 1
        if self.attempts in self.crash_before_post:
            raise Crash()
        if self.fail_next:
            raise self.fail_next.pop(0)
        ref = f"m{len(self.posts) + 1}"
        self.posts.append(Post(channel, part_key, part, thread_ref, ref))
        if self.attempts in self.crash_after_post:
            raise Crash()
        return SentPart(ref, thread_ref)

    async def find(self, channel: str, part_key: str, thread_ref: str | None) -> SentPart | None:
        self.finds += 1
        if not self.can_find:
            return None
        for post in self.posts:
            if post.channel == channel and post.key == part_key:
                return SentPart(post.ref, post.thread)
        return None

    async def notice(self, channel: str, text: str) -> None:
        self.notices.append((channel, text))
