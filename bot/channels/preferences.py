"""A channel's curation: its filters and its own settings (articles, bullets, sections).

Stored in the database and applied on every platform; a filter is checked (RE2's reason for
an invalid pattern) before anything is saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.channels.admin import ChannelRef
from bot.curate.filters import parse_pattern
from bot.errors import NewsdigestError
from bot.store.async_store import AsyncStore
from bot.store.repo import ChannelInfo

RECENT_DROPS = timedelta(days=7)


@dataclass(frozen=True)
class DigestDefaults:
    """What a channel gets when it has not chosen: the bot-wide configuration."""

    articles_per_digest: int = 10
    bullets_per_article: int = 3


@dataclass(frozen=True)
class ChannelChoices:
    """Changes to a channel's own settings; None leaves one as it is."""

    articles_per_digest: int | None = None
    bullets_per_article: int | None = None
    list_sections: bool | None = None

    @property
    def any(self) -> bool:
        return any(v is not None for v in vars(self).values())


class ChannelPreferences:
    def __init__(self, store: AsyncStore, defaults: DigestDefaults) -> None:
        self.store = store
        self.defaults = defaults

    async def _channel(self, where: ChannelRef) -> ChannelInfo:
        channel = await self.store.channel(where.platform, where.channel_id)
        assert channel is not None
        return channel

    async def add_filter(self, where: ChannelRef, action: str, pattern: str) -> str:
        parsed, is_regex = parse_pattern(pattern)  # FilterError reaches the user as a reply
        channel = await self._channel(where)
        rule = await self.store.add_filter(channel.id, action, parsed, is_regex)
        number = len(await self.store.filters(channel.id))
        verb = (
            "Keeping only items that match"
            if action == "include"
            else "Leaving out items that match"
        )
        return f"{verb} {rule.describe().split(' ', 1)[1]} (filter {number})."

    async def list_filters(self, where: ChannelRef) -> list[str]:
        channel = await self._channel(where)
        counts = await self.store.drop_counts(channel.id, datetime.now(UTC) - RECENT_DROPS)
        return [
            f"{rule.describe()} — dropped {counts.get(rule.id, 0)} item(s) in the last 7 days"
            for rule in await self.store.filters(channel.id)
        ]

    async def remove_filter(self, where: ChannelRef, number: int) -> str:
        channel = await self._channel(where)
        rules = await self.store.filters(channel.id)
        if not 1 <= number <= len(rules):
            raise NewsdigestError(f"No filter {number} here. See /digest filters for the numbers.")
        await self.store.remove_filter(channel.id, rules[number - 1].id)
        return f"Removed filter {number} ({rules[number - 1].describe()})."

    async def clear_filters(self, where: ChannelRef) -> str:
        removed = await self.store.clear_filters((await self._channel(where)).id)
        return f"Removed {removed} filter(s)." if removed else "There were no filters to remove."

    async def settings(self, where: ChannelRef, changes: ChannelChoices) -> str:
        """Apply the changes (if any), then describe the channel's settings."""
        channel = await self._channel(where)
        if changes.any:
            values = {k: v for k, v in vars(changes).items() if v is not None}
            await self.store.set_channel_settings(channel.id, **values)
        current = await self.store.channel_settings(channel.id)
        articles = current.articles_per_digest or self.defaults.articles_per_digest
        bullets = current.bullets_per_article or self.defaults.bullets_per_article
        sections = "on" if current.list_sections is not False else "off"
        prefix = "Saved. " if changes.any else ""
        return (
            f"{prefix}Settings for this channel: articles {articles} per digest, "
            f"bullets {bullets} per article, sections {sections}. "
            "Change one with /digest settings articles 5 (admins)."
        )
