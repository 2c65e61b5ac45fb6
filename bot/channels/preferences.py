"""A channel's curation: its filters and its own settings (articles, bullets, sections).

Stored in the database and applied on every platform; a filter is checked (RE2's reason for
an invalid pattern) before anything is saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.channels.admin import ChannelRef
from bot.curate.filters import parse_pattern
from bot.curate.mentions import MentionError, parse_target
from bot.errors import NewsdigestError
from bot.i18n import _, ngettext, using
from bot.store.async_store import AsyncStore
from bot.store.repo import ChannelInfo

RECENT_DROPS = timedelta(days=7)


@dataclass(frozen=True)
class DigestDefaults:
    """What a channel gets when it has not chosen: the bot-wide configuration."""

    articles_per_digest: int = 10
    bullets_per_article: int = 3
    language: str = "en"
    translate_available: bool = False  # an LLM is configured


@dataclass(frozen=True)
class ChannelChoices:
    """Changes to a channel's own settings; None leaves one as it is."""

    articles_per_digest: int | None = None
    bullets_per_article: int | None = None
    list_sections: bool | None = None
    language: str | None = None
    translate: bool | None = None

    @property
    def any(self) -> bool:
        return any(v is not None for v in vars(self).values())


class ChannelPreferences:
    def __init__(self, store: AsyncStore, defaults: DigestDefaults) -> None:
        self.store = store
        self.defaults = defaults

    async def _channel(self, where: ChannelRef) -> ChannelInfo:
        channel = await self.store.channel(where.platform, where.channel_id, tenant=where.tenant)
        assert channel is not None
        return channel

    async def add_filter(
        self, where: ChannelRef, action: str, pattern: str, source: int | None = None
    ) -> str:
        """`source`: the number of one of the channel's sources (as /digest sources lists
        them) when the rule is for that source's items only."""
        parsed, is_regex = parse_pattern(pattern)  # FilterError reaches the user as a reply
        channel = await self._channel(where)
        source_id = await self._source_id(channel, source)
        rule = await self.store.add_filter(channel.id, action, parsed, is_regex, source_id)
        number = len(await self.store.filters(channel.id))
        what = rule.describe().split(" ", 1)[1]
        if action == "include":
            return _("Keeping only items that match {pattern} (filter {number}).").format(
                pattern=what, number=number
            )
        return _("Leaving out items that match {pattern} (filter {number}).").format(
            pattern=what, number=number
        )

    async def add_mention(
        self, where: ChannelRef, role: str, words: str | None, source: int | None
    ) -> str:
        """Mention a role or user group when a digest carries an article from that source or
        matching those words (at least one of them: a mention for every digest is noise)."""
        target = parse_target(where.platform, role)  # MentionError reaches the user as a reply
        pattern, is_regex = parse_pattern(words) if words and words.strip() else (None, False)
        if pattern is None and source is None:
            raise MentionError(
                _("Say when: words (/digest mention add ROLE WORDS) or a source (--source N).")
            )
        channel = await self._channel(where)
        source_id = await self._source_id(channel, source)
        await self.store.add_mention(channel.id, target, source_id, pattern, is_regex)
        rules = await self.store.mentions(channel.id)
        return _("Will mention {rule} (mention {number}).").format(
            rule=rules[-1].describe(where.platform), number=len(rules)
        )

    async def list_mentions(self, where: ChannelRef) -> list[str]:
        channel = await self._channel(where)
        return [rule.describe(where.platform) for rule in await self.store.mentions(channel.id)]

    async def remove_mention(self, where: ChannelRef, number: int) -> str:
        channel = await self._channel(where)
        rules = await self.store.mentions(channel.id)
        if not 1 <= number <= len(rules):
            raise NewsdigestError(
                _("No mention {number} here. See /digest mentions for the numbers.").format(
                    number=number
                )
            )
        await self.store.remove_mentions(channel.id, [rules[number - 1].id])
        return _("Removed mention {number}.").format(number=number)

    async def clear_mentions(self, where: ChannelRef) -> str:
        channel = await self._channel(where)
        removed = await self.store.remove_mentions(
            channel.id, [r.id for r in await self.store.mentions(channel.id)]
        )
        return ngettext("Removed {count} mention.", "Removed {count} mentions.", removed).format(
            count=removed
        )

    async def _source_id(self, channel: ChannelInfo, number: int | None) -> int | None:
        """The id of the channel's source numbered so in /digest sources."""
        if number is None:
            return None
        followed = await self.store.channel_sources(channel.id)
        if not 1 <= number <= len(followed):
            raise NewsdigestError(
                _("No source {number} here. See /digest sources for the numbers.").format(
                    number=number
                )
            )
        return followed[number - 1].id

    async def list_filters(self, where: ChannelRef) -> list[str]:
        channel = await self._channel(where)
        counts = await self.store.drop_counts(channel.id, datetime.now(UTC) - RECENT_DROPS)
        return [
            ngettext(
                "{rule} — dropped {count} item in the last 7 days",
                "{rule} — dropped {count} items in the last 7 days",
                counts.get(rule.id, 0),
            ).format(rule=rule.describe(), count=counts.get(rule.id, 0))
            for rule in await self.store.filters(channel.id)
        ]

    async def remove_filter(self, where: ChannelRef, number: int) -> str:
        channel = await self._channel(where)
        rules = await self.store.filters(channel.id)
        if not 1 <= number <= len(rules):
            raise NewsdigestError(
                _("No filter {number} here. See /digest filters for the numbers.").format(
                    number=number
                )
            )
        await self.store.remove_filter(channel.id, rules[number - 1].id)
        return _("Removed filter {number} ({rule}).").format(
            number=number, rule=rules[number - 1].describe()
        )

    async def clear_filters(self, where: ChannelRef) -> str:
        removed = await self.store.clear_filters((await self._channel(where)).id)
        if not removed:
            return _("There were no filters to remove.")
        return ngettext("Removed {count} filter.", "Removed {count} filters.", removed).format(
            count=removed
        )

    async def settings(self, where: ChannelRef, changes: ChannelChoices) -> str:
        """Apply the changes (if any), then describe the channel's settings."""
        channel = await self._channel(where)
        if changes.translate and not self.defaults.translate_available:
            raise NewsdigestError(
                _(
                    "Translating bullets needs an LLM (NEWSDIGEST_SUMMARIZER=llm with "
                    "OPENAI_BASE_URL); without one, bullets stay as the article wrote them."
                )
            )
        if changes.any:
            values = {k: v for k, v in vars(changes).items() if v is not None}
            await self.store.set_channel_settings(channel.id, **values)
        current = await self.store.channel_settings(channel.id)
        language = current.language or self.defaults.language
        with using(language):  # a change of language answers in the new one
            articles = current.articles_per_digest or self.defaults.articles_per_digest
            bullets = current.bullets_per_article or self.defaults.bullets_per_article
            on, off = _("on"), _("off")
            described = _(
                "Settings for this channel: articles {articles} per digest, bullets {bullets} "
                "per article, sections {sections}, language {language}, translate {translate}. "
                "Change one with /digest settings articles 5 (admins)."
            ).format(
                articles=articles,
                bullets=bullets,
                sections=on if current.list_sections is not False else off,
                language=language,
                translate=on if current.translate else off,
            )
            return (_("Saved.") + " " + described) if changes.any else described

    async def language(self, where: ChannelRef) -> str:
        """The language the bot speaks in this channel."""
        channel = await self.store.channel(where.platform, where.channel_id, create=False)
        if channel is None:
            return self.defaults.language
        return (await self.store.channel_settings(channel.id)).language or self.defaults.language
