"""The tables. Unique constraints carry the guarantees: one article per identity key,
one subscription per (channel, source), one delivery per (channel, slot), one
delivered row per (channel, article)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class SourceRow(Base):
    __tablename__ = "sources"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="auto")
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    pause_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ArticleRow(Base):
    __tablename__ = "articles"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2048))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    language: Mapped[str | None] = mapped_column(String(16))


class ArticleKeyRow(Base):
    """Every identity an article is known by: guid, canonical URL, content hash."""

    __tablename__ = "article_keys"
    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )


class ArticlePageRow(Base):
    """The outcome of following a feed item's link, per canonical URL (failures back off)."""

    __tablename__ = "article_pages"
    url: Mapped[str] = mapped_column(String(512), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))  # "full" or "teaser"
    failures: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ArticleSourceRow(Base):
    __tablename__ = "article_sources"
    # a delivery finds its new articles from its sources' rows (migration 0013)
    __table_args__ = (Index("ix_article_sources_source_id", "source_id", "article_id"),)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True
    )


class ChannelRow(Base):
    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    schedule: Mapped[str | None] = mapped_column(String(128))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_reason: Mapped[str | None] = mapped_column(Text)
    last_article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL")
    )
    schedule_since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # per-channel settings (/digest settings); None means the bot-wide default
    articles_per_digest: Mapped[int | None] = mapped_column(Integer)
    bullets_per_article: Mapped[int | None] = mapped_column(Integer)
    list_sections: Mapped[bool | None] = mapped_column(Boolean)
    language: Mapped[str | None] = mapped_column(String(16))  # the bot's words here
    translate: Mapped[bool | None] = mapped_column(Boolean)  # bullets into that language (LLM)
    # the Slack workspace or Discord server the channel belongs to, learned from its commands:
    # a web console session signed in for one never sees another's channels
    tenant: Mapped[str | None] = mapped_column(String(64), index=True)
    # message templates (/digest template); None is the built-in rendering
    header_template: Mapped[str | None] = mapped_column(Text)
    entry_template: Mapped[str | None] = mapped_column(Text)


class SubscriptionRow(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("channel_id", "source_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), index=True
    )
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeliveryRow(Base):
    """One row per (channel, slot): the claim, the progress and the outcome of a digest post."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("channel_id", "slot"),
        # what every replica's claim looks for: unfinished rows whose lease is free or lapsed
        Index("ix_deliveries_state_lease", "state", "lease_until"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), index=True
    )
    slot: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="sending")
    article_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    parts_total: Mapped[int] = mapped_column(Integer, default=0)
    parts_sent: Mapped[int] = mapped_column(Integer, default=0)
    thread_ref: Mapped[str | None] = mapped_column(String(128))
    message_refs: Mapped[list[str]] = mapped_column(JSON, default=list)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # who is sending this delivery right now, and until when that claim holds without renewal
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # how the digest was curated: stories (each a list of article ids, the shown one first)
    # and the articles filters dropped, so a resumed delivery renders the very same parts
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # the part whose request went out (or may have) and whose outcome is not recorded yet:
    # only then does a resumed delivery ask the platform whether that part is already there
    part_in_flight: Mapped[int | None] = mapped_column(Integer)


class DeliveredArticleRow(Base):
    __tablename__ = "delivered_articles"
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )


class SummaryCacheRow(Base):
    __tablename__ = "summary_cache"
    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CommandReceiptRow(Base):
    """State-changing chat commands seen, by platform request id: a replay does nothing twice."""

    __tablename__ = "command_receipts"
    key: Mapped[str] = mapped_column(String(256), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChannelFilterRow(Base):
    __tablename__ = "channel_filters"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(8))  # "include" or "exclude"
    pattern: Mapped[str] = mapped_column(String(500))
    is_regex: Mapped[bool] = mapped_column(Boolean, default=False)
    # set: the rule judges that source's items only
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FilterDropRow(Base):
    """An article a channel's filter kept out of a digest: recorded, not lost."""

    __tablename__ = "filter_drops"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), index=True
    )
    filter_id: Mapped[int | None] = mapped_column(
        ForeignKey("channel_filters.id", ondelete="SET NULL")
    )
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(520))
    dropped_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MentionRow(Base):
    """A role or user group a channel notifies when a digest carries a matching article."""

    __tablename__ = "channel_mentions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), index=True
    )
    target: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), nullable=True
    )
    pattern: Mapped[str | None] = mapped_column(String(500), nullable=True)
    is_regex: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebSignInRow(Base):
    """A one-time sign-in link for the web console; only its hash is kept."""

    __tablename__ = "web_sign_ins"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform: Mapped[str | None] = mapped_column(String(16))  # None: the operator (everything)
    tenant: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebSessionRow(Base):
    """A signed-in browser; the cookie carries the id, the database only its hash."""

    __tablename__ = "web_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform: Mapped[str | None] = mapped_column(String(16))
    tenant: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(128))
    csrf: Mapped[str] = mapped_column(String(64))
    flash: Mapped[str | None] = mapped_column(Text)  # the outcome of the last form, shown once
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaceBucketRow(Base):
    """A platform limit shared by every replica (PostgreSQL): one GCRA bucket per key.

    `tat` is the bucket's theoretical arrival time, in seconds on the database server's clock
    (the one clock every replica shares): the next permit is not before it. See
    `bot/store/pacing.py`. Rows of buckets idle for an hour are pruned."""

    __tablename__ = "pace_buckets"
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    tat: Mapped[float] = mapped_column(Double)
