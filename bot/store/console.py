"""What the web console reads: pages of channels, sources, digests and deliveries, by scope.

Every query here takes the `Scope` a person signed in for and only ever returns rows of that
workspace's or server's channels (the operator's scope is everything): the scope is a WHERE
clause in the one query that reads the rows, never a check after reading them, so a page
cannot show another tenant's data by forgetting a check. Lists are paginated in the database
(LIMIT/OFFSET on indexed orderings) so a page costs the same at 10 channels and at 10,000.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Integer, and_, column, func, literal, or_, select, text, true
from sqlalchemy.orm import Session

from bot.store import search
from bot.store.models import (
    ArticleRow,
    ArticleSourceRow,
    ChannelFilterRow,
    ChannelRow,
    DeliveredArticleRow,
    DeliveryRow,
    FilterDropRow,
    SourceRow,
    SubscriptionRow,
)
from bot.store.repo import SENDING, SENT, ChannelInfo, DeliveryInfo, Store, _channel, delivery_info

T = TypeVar("T")
PER_PAGE = 50


@dataclass(frozen=True)
class Scope:
    """What a signed-in person may see (bot/ops/signin.py gives it to a session): one platform's workspace or server, or everything."""

    platform: str | None = None
    tenant: str | None = None

    @property
    def operator(self) -> bool:
        return self.platform is None

    def describe(self) -> str:
        return "all channels" if self.operator else f"{self.platform} {self.tenant}"


OPERATOR = Scope()


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    pages: int
    total: int


@dataclass(frozen=True)
class ChannelLine:
    channel: ChannelInfo
    sources: int
    last_digest_at: datetime | None


@dataclass(frozen=True)
class SourceLine:
    id: int
    url: str
    state: str  # "ok", "failing", "paused"
    failures: int
    last_success_at: datetime | None
    last_error: str | None
    next_attempt_at: datetime | None
    channels: int


@dataclass(frozen=True)
class ItemLine:
    """A recent item of a source: what was stored, and whether its page could be read."""

    article_id: int
    title: str
    url: str | None
    published_at: datetime | None
    first_seen_at: datetime
    teaser: str | None  # why only the feed's teaser is known, or None for the full text


@dataclass(frozen=True)
class DeliveryLine:
    delivery: DeliveryInfo
    channel: ChannelInfo
    updated_at: datetime
    titles: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchHit:
    article_id: int
    title: str
    url: str | None
    delivery_id: int
    channel: ChannelInfo
    posted_at: datetime


@dataclass(frozen=True)
class ScheduleGroup:
    """Channels sharing a schedule: the overview's "next runs" without parsing 10,000 rows."""

    schedule: str
    timezone: str
    channels: int


@dataclass(frozen=True)
class Overview:
    channels: int
    scheduled: int
    paused_channels: int
    posted_today: int
    failed_today: int
    in_flight: int
    schedules: list[ScheduleGroup]
    failing_sources: list[SourceLine]
    paused_sources: list[SourceLine]
    recent: list[DeliveryLine]


def _pages(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def _source_state(row: SourceRow) -> str:
    return "paused" if row.paused else ("failing" if row.failures else "ok")


class ConsoleQueries:
    """Read-only queries for the web console, each limited to a scope."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._sessions = store.session_factory
        self.dialect = store.engine.dialect.name

    # scoping -------------------------------------------------------------------------------
    @staticmethod
    def in_scope(scope: Scope) -> ColumnElement[bool]:
        """The channels a scope may see, as a condition on ChannelRow."""
        if scope.operator:
            return true()
        return and_(ChannelRow.platform == scope.platform, ChannelRow.tenant == scope.tenant)

    def _scoped_channel_ids(self, scope: Scope) -> Any:
        return select(ChannelRow.id).where(self.in_scope(scope))

    def _scoped_source_ids(self, scope: Scope) -> Any:
        return (
            select(SubscriptionRow.source_id)
            .join(ChannelRow, ChannelRow.id == SubscriptionRow.channel_id)
            .where(self.in_scope(scope))
        )

    # overview ------------------------------------------------------------------------------
    def overview(self, scope: Scope, now: datetime) -> Overview:
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        with self._sessions() as session:
            scoped = self.in_scope(scope)
            channels = session.scalar(select(func.count()).where(scoped)) or 0
            scheduled = (
                session.scalar(select(func.count()).where(scoped, ChannelRow.schedule.is_not(None)))
                or 0
            )
            paused = session.scalar(select(func.count()).where(scoped, ChannelRow.paused)) or 0
            in_scope_deliveries = DeliveryRow.channel_id.in_(self._scoped_channel_ids(scope))

            def deliveries(*where: Any) -> int:
                query = select(func.count(DeliveryRow.id)).where(in_scope_deliveries, *where)
                return session.scalar(query) or 0

            posted = deliveries(DeliveryRow.state == SENT, DeliveryRow.updated_at >= midnight)
            failed = deliveries(DeliveryRow.state == "failed", DeliveryRow.updated_at >= midnight)
            in_flight = deliveries(DeliveryRow.state == SENDING)
            groups = session.execute(
                select(ChannelRow.schedule, ChannelRow.timezone, func.count())
                .where(scoped, ChannelRow.schedule.is_not(None), ChannelRow.paused.is_(False))
                .group_by(ChannelRow.schedule, ChannelRow.timezone)
                .order_by(func.count().desc())
                .limit(200)
            ).all()
            failing = self._sources(session, scope, "failing", 0, 10)
            paused_sources = self._sources(session, scope, "paused", 0, 10)
            recent = self._deliveries(session, scope, [DeliveryRow.state == SENT], 0, 5)
        return Overview(
            channels,
            scheduled,
            paused,
            posted,
            failed,
            in_flight,
            [ScheduleGroup(s, tz, n) for s, tz, n in groups if s],
            failing,
            paused_sources,
            recent,
        )

    # channels ------------------------------------------------------------------------------
    def channels(
        self, scope: Scope, page: int = 1, query: str = "", per_page: int = PER_PAGE
    ) -> Page[ChannelLine]:
        where: list[Any] = [self.in_scope(scope)]
        if query.strip():
            like = f"%{_escape_like(query.strip())}%"
            where.append(
                or_(
                    ChannelRow.external_id.like(like, escape="\\"),
                    ChannelRow.schedule.like(like, escape="\\"),
                )
            )
        with self._sessions() as session:
            total = session.scalar(select(func.count()).select_from(ChannelRow).where(*where)) or 0
            rows = session.scalars(
                select(ChannelRow)
                .where(*where)
                .order_by(ChannelRow.id)
                .limit(per_page)
                .offset((page - 1) * per_page)
            ).all()
            ids = [r.id for r in rows]
            counts = dict(
                session.execute(
                    select(SubscriptionRow.channel_id, func.count())
                    .where(SubscriptionRow.channel_id.in_(ids))
                    .group_by(SubscriptionRow.channel_id)
                ).all()
            )
            last = dict(
                session.execute(
                    select(DeliveryRow.channel_id, func.max(DeliveryRow.updated_at))
                    .where(DeliveryRow.channel_id.in_(ids), DeliveryRow.state == SENT)
                    .group_by(DeliveryRow.channel_id)
                ).all()
            )
        items = [ChannelLine(_channel(r), counts.get(r.id, 0), last.get(r.id)) for r in rows]
        return Page(items, page, _pages(total, per_page), total)

    def channel(self, scope: Scope, channel_id: int) -> ChannelInfo | None:
        """The channel, if this scope may see it (None reads as "not found" to the person)."""
        with self._sessions() as session:
            row = session.scalar(
                select(ChannelRow).where(ChannelRow.id == channel_id, self.in_scope(scope))
            )
            return _channel(row) if row else None

    def filter_drops(self, channel_id: int, since: datetime) -> dict[str, int]:
        """Articles each of the channel's filters kept out since then, by the rule's text."""
        with self._sessions() as session:
            rows = session.execute(
                select(ChannelFilterRow.id, func.count(FilterDropRow.id))
                .join(FilterDropRow, FilterDropRow.filter_id == ChannelFilterRow.id)
                .where(ChannelFilterRow.channel_id == channel_id, FilterDropRow.dropped_at >= since)
                .group_by(ChannelFilterRow.id)
            ).all()
        return {str(filter_id): count for filter_id, count in rows}

    # sources -------------------------------------------------------------------------------
    def sources(
        self, scope: Scope, page: int = 1, state: str = "", per_page: int = PER_PAGE
    ) -> Page[SourceLine]:
        with self._sessions() as session:
            total = session.scalar(
                select(func.count()).select_from(SourceRow).where(*self._source_where(scope, state))
            )
            items = self._sources(session, scope, state, (page - 1) * per_page, per_page)
        return Page(items, page, _pages(total or 0, per_page), total or 0)

    def _source_where(self, scope: Scope, state: str) -> list[Any]:
        where: list[Any] = []
        if not scope.operator:
            where.append(SourceRow.id.in_(self._scoped_source_ids(scope)))
        if state == "paused":
            where.append(SourceRow.paused.is_(True))
        elif state == "failing":
            where += [SourceRow.paused.is_(False), SourceRow.failures > 0]
        elif state == "ok":
            where += [SourceRow.paused.is_(False), SourceRow.failures == 0]
        return where

    def _sources(
        self, session: Session, scope: Scope, state: str, offset: int, limit: int
    ) -> list[SourceLine]:
        rows = session.scalars(
            select(SourceRow)
            .where(*self._source_where(scope, state))
            .order_by(SourceRow.id)
            .limit(limit)
            .offset(offset)
        ).all()
        counted = (
            select(SubscriptionRow.source_id, func.count())
            .join(ChannelRow, ChannelRow.id == SubscriptionRow.channel_id)
            .where(SubscriptionRow.source_id.in_([r.id for r in rows]), self.in_scope(scope))
            .group_by(SubscriptionRow.source_id)
        )
        counts = dict(session.execute(counted).all())
        return [
            SourceLine(
                r.id,
                r.url.removeprefix("path:"),
                _source_state(r),
                r.failures,
                r.last_success_at,
                r.last_error,
                r.next_attempt_at,
                counts.get(r.id, 0),
            )
            for r in rows
        ]

    def source(self, scope: Scope, source_id: int) -> SourceLine | None:
        with self._sessions() as session:
            where = [SourceRow.id == source_id, *self._source_where(scope, "")]
            found = session.scalar(select(SourceRow.id).where(*where))
            if found is None:
                return None
            row = session.get(SourceRow, source_id)
            assert row is not None
            count = session.scalar(
                select(func.count())
                .select_from(SubscriptionRow)
                .join(ChannelRow, ChannelRow.id == SubscriptionRow.channel_id)
                .where(SubscriptionRow.source_id == source_id, self.in_scope(scope))
            )
            return SourceLine(
                row.id,
                row.url.removeprefix("path:"),
                _source_state(row),
                row.failures,
                row.last_success_at,
                row.last_error,
                row.next_attempt_at,
                count or 0,
            )

    def source_channels(self, scope: Scope, source_id: int) -> list[ChannelInfo]:
        with self._sessions() as session:
            rows = session.scalars(
                select(ChannelRow)
                .join(SubscriptionRow, SubscriptionRow.channel_id == ChannelRow.id)
                .where(SubscriptionRow.source_id == source_id, self.in_scope(scope))
                .order_by(ChannelRow.id)
                .limit(100)
            ).all()
            return [_channel(r) for r in rows]

    def recent_items(self, source_id: int, limit: int = 20) -> list[ItemLine]:
        with self._sessions() as session:
            rows = session.execute(
                select(
                    ArticleRow.id,
                    ArticleRow.title,
                    ArticleRow.url,
                    ArticleRow.published_at,
                    ArticleRow.first_seen_at,
                    ArticleRow.body["teaser"],
                )
                .join(ArticleSourceRow, ArticleSourceRow.article_id == ArticleRow.id)
                .where(ArticleSourceRow.source_id == source_id)
                .order_by(ArticleRow.id.desc())
                .limit(limit)
            ).all()
        return [
            ItemLine(i, t, u, p, f, teaser if isinstance(teaser, str) and teaser else None)
            for i, t, u, p, f, teaser in rows
        ]

    # digests and deliveries ----------------------------------------------------------------
    def deliveries(
        self,
        scope: Scope,
        page: int = 1,
        state: str = "",
        per_page: int = PER_PAGE,
        channel_id: int | None = None,
    ) -> Page[DeliveryLine]:
        where: list[Any] = [DeliveryRow.state == state] if state else []
        if channel_id is not None:
            where.append(DeliveryRow.channel_id == channel_id)
        with self._sessions() as session:
            total = (
                session.scalar(
                    select(func.count(DeliveryRow.id))
                    .join(ChannelRow, ChannelRow.id == DeliveryRow.channel_id)
                    .where(self.in_scope(scope), *where)
                )
                or 0
            )
            items = self._deliveries(session, scope, where, (page - 1) * per_page, per_page)
        return Page(items, page, _pages(total, per_page), total)

    def digests(self, scope: Scope, page: int = 1, per_page: int = PER_PAGE) -> Page[DeliveryLine]:
        """Posted digests, newest first, with their articles' titles."""
        found = self.deliveries(scope, page, SENT, per_page)
        ids = {i for line in found.items for i in line.delivery.article_ids}
        with self._sessions() as session:
            titles = dict(
                session.execute(
                    select(ArticleRow.id, ArticleRow.title).where(ArticleRow.id.in_(ids))
                ).all()
            )
        items = [
            DeliveryLine(
                line.delivery,
                line.channel,
                line.updated_at,
                tuple(titles[i] for i in line.delivery.article_ids if i in titles),
            )
            for line in found.items
        ]
        return Page(items, found.page, found.pages, found.total)

    def _deliveries(
        self, session: Session, scope: Scope, where: Sequence[Any], offset: int, limit: int
    ) -> list[DeliveryLine]:
        rows = session.execute(
            select(DeliveryRow, ChannelRow)
            .join(ChannelRow, ChannelRow.id == DeliveryRow.channel_id)
            .where(self.in_scope(scope), *where)
            .order_by(DeliveryRow.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        return [DeliveryLine(delivery_info(d), _channel(c), d.updated_at) for d, c in rows]

    def delivery(self, scope: Scope, delivery_id: int) -> DeliveryLine | None:
        with self._sessions() as session:
            row = session.execute(
                select(DeliveryRow, ChannelRow)
                .join(ChannelRow, ChannelRow.id == DeliveryRow.channel_id)
                .where(DeliveryRow.id == delivery_id, self.in_scope(scope))
            ).first()
            if row is None:
                return None
            delivery, channel = row
            return DeliveryLine(delivery_info(delivery), _channel(channel), delivery.updated_at)

    def search(
        self, scope: Scope, query: str, page: int = 1, per_page: int = PER_PAGE
    ) -> Page[SearchHit]:
        """Posted articles holding every word of the query, newest digest first."""
        words = search.query_words(query)
        if not words:
            return Page([], 1, 1, 0)
        matches = (
            text(search.matching_ids_sql(self.dialect))
            .bindparams(q=search.match_value(self.dialect, words))
            .columns(column("id", Integer))
            .subquery("matches")
        )
        where: list[Any] = [self.in_scope(scope), DeliveryRow.state == SENT]

        def joined(query: Any) -> Any:
            return (
                query.select_from(matches)
                .join(DeliveredArticleRow, DeliveredArticleRow.article_id == matches.c.id)
                .join(ChannelRow, ChannelRow.id == DeliveredArticleRow.channel_id)
                .join(DeliveryRow, DeliveryRow.id == DeliveredArticleRow.delivery_id)
                .where(*where)
            )

        with self._sessions() as session:
            counted = joined(select(literal(1))).subquery()
            total = session.scalar(select(func.count()).select_from(counted)) or 0
            columns = select(
                ArticleRow.id,
                ArticleRow.title,
                ArticleRow.url,
                DeliveryRow.id,
                DeliveryRow.updated_at,
                ChannelRow,
            )
            rows = session.execute(
                joined(columns)
                .join(ArticleRow, ArticleRow.id == DeliveredArticleRow.article_id)
                .order_by(DeliveryRow.id.desc(), ArticleRow.id)
                .limit(per_page)
                .offset((page - 1) * per_page)
            ).all()
        hits = [
            SearchHit(aid, title, url, did, _channel(channel), posted)
            for aid, title, url, did, posted, channel in rows
        ]
        return Page(hits, page, _pages(total, per_page), total)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
