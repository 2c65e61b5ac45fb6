"""What crosses between the command layer and a front end: who asked where, and the answer.

Adapters fill a `CommandContext` from the platform's request and render the `Reply` they get
back; errors a user should read are Replies of kind ERROR, never exceptions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from enum import Enum

from bot.channels.admin import ChannelRef
from bot.delivery.poster import ChannelDigest
from bot.models import Digest, SectionDigest


class ReplyKind(str, Enum):
    HELP = "help"
    SUMMARY = "summary"
    SECTIONS = "sections"
    SECTION = "section"
    DIGESTS = "digests"
    INFO = "info"
    ERROR = "error"
    PREVIEW = "preview"  # a digest as the channel's templates render it


@dataclass(frozen=True)
class CommandContext:
    """Who asked where; adapters fill it from the platform's request.

    `check_admin` asks the platform whether the user is an admin (Slack: users.info); it is
    awaited only when a command needs an admin, so lookups cost no extra platform call."""

    channel_id: str = "console"
    user_id: str = "local"
    is_admin: bool = False
    platform: str = "console"
    request_id: str | None = (
        None  # Slack trigger_id / Discord interaction id: replays do nothing twice
    )
    check_admin: Callable[[], Awaitable[bool]] | None = field(default=None, compare=False)
    tenant: str | None = None  # Slack team id / Discord guild id: whose web console sees this
    # the digest's thread it was asked in (Discord), in the channel above: a lookup without a
    # link is then about that digest's articles, not the channel's last one
    thread_ref: str | None = None

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.channel_id}"

    @property
    def where(self) -> ChannelRef:
        return ChannelRef(self.platform, self.channel_id, self.tenant)


@dataclass(frozen=True)
class Reply:
    kind: ReplyKind
    text: str
    digest: Digest | None = None
    section: SectionDigest | None = None
    digests: tuple[Digest, ...] = ()
    share: bool = False
    error_kind: str | None = None
    suggestion: str | None = None
    options: tuple[str, ...] = field(default_factory=tuple)
    language: str = "en"  # of the bot's own words: the adapter renders its chrome in it too
    preview: ChannelDigest | None = None  # PREVIEW: rendered as the digest's top message

    def shared(self, share: bool) -> Reply:
        return self if self.share == share else replace(self, share=share)

    def speaking(self, language: str) -> Reply:
        return self if self.language == language else replace(self, language=language)


def info(text: str) -> Reply:
    return Reply(ReplyKind.INFO, text)


def numbered(rows: list[str], when_empty: str) -> Reply:
    """A list people refer to by number ("filter remove 2"), or what to do when it is empty."""
    return info("\n".join(f"{i}. {row}" for i, row in enumerate(rows, 1)) or when_empty)


def error(
    text: str, kind: str = "error", suggestion: str | None = None, options: tuple[str, ...] = ()
) -> Reply:
    return Reply(ReplyKind.ERROR, text, error_kind=kind, suggestion=suggestion, options=options)
