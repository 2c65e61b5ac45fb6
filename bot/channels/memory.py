"""The article each channel looked at last, kept in the database: after a restart
`/digest section …` still knows which article "this" is."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channels.admin import ChannelRef
from bot.delivery.polling import content_hash, identity_keys
from bot.models import Digest, Document
from bot.store.async_store import AsyncStore

if TYPE_CHECKING:
    from bot.digest.cache import DigestCache


class StoredChannelMemory:
    def __init__(self, store: AsyncStore, digests: DigestCache) -> None:
        self.store = store
        self.digests = digests

    async def last_digest(self, where: ChannelRef) -> Digest | None:
        channel = await self.store.channel(where.platform, where.channel_id, create=False)
        if channel is None:
            return None
        article_id = await self.store.last_article_id(channel.id)
        if article_id is None:
            delivered = await self.store.last_sent_delivery(channel.id)
            article_id = delivered.article_ids[0] if delivered and delivered.article_ids else None
        return await self.digests.get(article_id) if article_id is not None else None

    async def remember(self, where: ChannelRef, digest: Digest) -> None:
        await self.store.run(self._remember, where, digest)

    def _remember(self, where: ChannelRef, digest: Digest) -> None:
        """One unit of work on a database thread: the article, its digest, the channel's pointer."""
        store = self.store.sync
        article = digest.article
        channel = store.channel(where.platform, where.channel_id)
        assert channel is not None
        source = store.source(article.url or article.source, kind="lookup")
        doc = Document(article.title, (), article.source, url=article.url)
        article_id, _ = store.add_article(
            source.id,
            article,
            identity_keys(doc, article, source.id, False),
            content_hash(article),
            article.published,
        )
        if store.cached_digest(article_id) is None:
            store.save_digest(article_id, digest)
        store.remember_article(channel.id, article_id)


class InMemoryChannelMemory:
    """For the console without a database: the memory lasts as long as the process."""

    def __init__(self) -> None:
        self._digests: dict[ChannelRef, Digest] = {}

    async def last_digest(self, where: ChannelRef) -> Digest | None:
        return self._digests.get(where)

    async def remember(self, where: ChannelRef, digest: Digest) -> None:
        self.put(where, digest)

    def put(self, where: ChannelRef, digest: Digest) -> None:
        self._digests[where] = digest
