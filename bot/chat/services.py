"""What command handlers work with: the bot's collaborators, named, none of them the whole bot.

The bare console (no database) has lookups only: `admin` and `preferences` are None there, and
commands that need them say so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from bot.channels.admin import ChannelAdmin, ChannelRef
from bot.channels.memory import InMemoryChannelMemory
from bot.channels.preferences import ChannelPreferences
from bot.channels.templates import ChannelTemplates
from bot.chat.ask import Answer, answer_question
from bot.models import Article, Digest
from bot.ops.signin import SignInLinks


class ChannelMemory(Protocol):
    """Remembers the article each channel looked at last, so follow-ups need no URL."""

    async def last_digest(self, where: ChannelRef) -> Digest | None: ...

    async def remember(self, where: ChannelRef, digest: Digest) -> None: ...


DigestLookup = Callable[
    [str], Awaitable[Digest]
]  # a source (URL, or a file at the console) → its digest
Answerer = Callable[[Article, str], Answer]  # extractive by default; an LLM's when configured


@dataclass
class Services:
    lookup: DigestLookup
    memory: ChannelMemory = field(default_factory=InMemoryChannelMemory)
    answerer: Answerer = answer_question
    admin: ChannelAdmin | None = None
    preferences: ChannelPreferences | None = None
    templates: ChannelTemplates | None = None
    admin_users: frozenset[str] = frozenset()
    local_files: bool = False  # the operator's console may name local files as sources
    language: str = "en"  # the bot's words where a channel has not chosen (no database: always)
    web: SignInLinks | None = None  # sign-in links to the web console, when it is on
