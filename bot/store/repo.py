"""The store's operations, each one short transaction; callers never see a Session."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Connection,
    Engine,
    Integer,
    Row,
    String,
    Table,
    Text,
    all_,
    any_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.curate.filters import FilterRule
from bot.curate.mentions import MentionRule
from bot.models import Article, Digest
from bot.store import search
from bot.store.codec import article_from_dict, article_to_dict, digest_from_dict, digest_to_dict
from bot.store.db import make_engine, migrate, session_factory
from bot.store.models import (
    ArticleKeyRow,
    ArticlePageRow,
    ArticleRow,
    ArticleSourceRow,
    ChannelFilterRow,
    ChannelRow,
    CommandReceiptRow,
    DeliveredArticleRow,
    DeliveryRow,
    FilterDropRow,
    MentionRow,
    SourceRow,
    SubscriptionRow,
    SummaryCacheRow,
    utcnow,
)
from bot.store.on_loop import OnLoop, Statement

SENDING, SENT, SKIPPED, FAILED = "sending", "sent", "skipped", "failed"


@dataclass(frozen=True)
class ChannelInfo:
    id: int
    platform: str
    external_id: str
    schedule: str | None
    timezone: str
    paused: bool
    paused_reason: str | None
    schedule_since: datetime
    tenant: str | None = None  # the Slack workspace or Discord server, once a command told


@dataclass(frozen=True)
class SourceInfo:
    id: int
    url: str
    kind: str
    etag: str | None
    last_modified: str | None
    failures: int
    paused: bool
    last_error: str | None
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class DeliveryInfo:
    id: int
    channel_id: int
    slot: str
    state: str
    article_ids: list[int]
    parts_total: int
    parts_sent: int
    thread_ref: str | None
    message_refs: list[str]
    attempts: int
    retry_at: datetime | None
    error: str | None
    created_at: datetime
    lease_owner: str | None = None
    lease_until: datetime | None = None
    plan: dict[str, Any] | None = None
    part_in_flight: int | None = None  # a part that may be out without its record


@dataclass(frozen=True)
class Claimed:
    """A delivery this replica now holds, and whose lease it replaced (for takeover counts)."""

    delivery: DeliveryInfo
    previous_owner: str | None
    previous_until: datetime | None


@dataclass(frozen=True)
class ChannelSettings:
    """A channel's own choices; None means the bot-wide default."""

    articles_per_digest: int | None = None
    bullets_per_article: int | None = None
    list_sections: bool | None = None
    language: str | None = None
    translate: bool | None = None
    header_template: str | None = None  # Jinja2 source (/digest template); None: built in
    entry_template: str | None = None


@dataclass(frozen=True)
class DeliveryInputs:
    """What curating and rendering one channel's digest reads from the database, read in one
    session: the channel, its settings, its filter and mention rules, its new articles."""

    channel: ChannelInfo
    settings: ChannelSettings
    filters: list[FilterRule]
    mentions: list[MentionRule]
    candidates: list[int]
    # the candidates themselves and the digests stored with them (as stored: decoded only for
    # the articles a digest shows), read with the rest so that curating and summarizing need
    # no further read
    articles: dict[int, Article] = field(default_factory=dict)
    stored_digests: dict[int, dict[str, Any]] = field(default_factory=dict)


def _settings(row: ChannelRow | Row[Any]) -> ChannelSettings:
    return ChannelSettings(
        row.articles_per_digest,
        row.bullets_per_article,
        row.list_sections,
        row.language,
        row.translate,
        row.header_template,
        row.entry_template,
    )


def _shown(url: str | None) -> str | None:
    """A source as people read it (local folders without their storage prefix)."""
    return url.removeprefix("path:") if url else None


def _channel(row: ChannelRow | Row[Any]) -> ChannelInfo:
    return ChannelInfo(
        row.id,
        row.platform,
        row.external_id,
        row.schedule,
        row.timezone,
        row.paused,
        row.paused_reason,
        row.schedule_since,
        row.tenant,
    )


def _source(row: SourceRow) -> SourceInfo:
    return SourceInfo(
        row.id,
        row.url,
        row.kind,
        row.etag,
        row.last_modified,
        row.failures,
        row.paused,
        row.last_error,
        row.next_attempt_at,
    )


# the deliveries table itself, for the statements written once per part of every digest
DELIVERIES = cast(Table, DeliveryRow.__table__)
DELIVERED = cast(Table, DeliveredArticleRow.__table__)
_ARTICLES = cast(Table, ArticleRow.__table__)


def insert_or_skip(dialect: str, table: Table) -> Any:
    """An INSERT that skips rows whose primary or unique key exists (ON CONFLICT DO NOTHING,
    spelled alike by PostgreSQL and SQLite, built by each dialect's own `insert`)."""
    make: Any = pg_insert if dialect == "postgresql" else sqlite_insert
    return make(table).on_conflict_do_nothing()


# what recording a part writes, and where the sender left the row (see `Store.part_sent`)
_PART_RECORD: dict[str, Any] = {
    "message_refs": bindparam("refs", type_=DELIVERIES.c.message_refs.type),
    "parts_sent": bindparam("next"),
    "part_in_flight": None,
    "thread_ref": func.coalesce(DELIVERIES.c.thread_ref, bindparam("thread", type_=String)),
}
_WHERE_LEFT = (
    DELIVERIES.c.id == bindparam("row_id"),
    DELIVERIES.c.parts_sent == bindparam("part_index"),
)
# a part that is not the digest's last (one UPDATE)
PART_SENT = (
    update(DELIVERIES)
    .where(*_WHERE_LEFT)
    .values(
        **_PART_RECORD,
        lease_until=func.coalesce(
            bindparam("lease", type_=DELIVERIES.c.lease_until.type), DELIVERIES.c.lease_until
        ),
    )
)
# the last part: the row settled as sent in the same UPDATE, and returned for the log
DIGEST_SENT = (
    update(DELIVERIES)
    .where(*_WHERE_LEFT, DELIVERIES.c.state != bindparam("sent"))
    .values(
        **_PART_RECORD,
        state=bindparam("sent"),
        retry_at=None,
        error=None,
        lease_owner=None,
        lease_until=None,
    )
    .returning(*DELIVERIES.c)
)
PART_STARTING = (
    update(DELIVERIES)
    .where(DELIVERIES.c.id == bindparam("row_id"))
    .values(part_in_flight=bindparam("part_index"))
)
# the same mark as a rider on the pacing permits' statement (bot/store/pacing.py), which holds
# the overall bucket's row while it runs: it never waits for the delivery's row (a row another
# transaction holds is skipped; the mark is then made after the wait, on its own)
PART_STARTING_RIDER = (
    update(DELIVERIES)
    .where(
        DELIVERIES.c.id
        == select(DELIVERIES.c.id)
        .where(DELIVERIES.c.id == bindparam("row_id"))
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    .values(part_in_flight=bindparam("part_index"))
)
_PLAN_VALUES = {
    "article_ids": bindparam("article_ids", type_=DELIVERIES.c.article_ids.type),
    "parts_total": bindparam("parts_total"),
    "plan": bindparam("plan", type_=DELIVERIES.c.plan.type),
}
PLAN_DELIVERY = (
    update(DELIVERIES).where(DELIVERIES.c.id == bindparam("row_id")).values(**_PLAN_VALUES)
)
# a first part's mark carrying its delivery's plan: one write where there were two (the plan
# needs to be stored only before anything of the digest can reach the platform)
PART_STARTING_PLANNED = PART_STARTING.values(**_PLAN_VALUES)
PART_STARTING_PLANNED_RIDER = PART_STARTING_RIDER.values(**_PLAN_VALUES)
CHANNELS = cast(Table, ChannelRow.__table__)


def _new_articles_query() -> Any:
    """Each channel's newest `cap` articles from its sources, seen since `since`, never
    delivered there (newest first; the later id first among equals), for the channels in
    `ids` at once."""
    subscriptions = cast(Table, SubscriptionRow.__table__)
    links = cast(Table, ArticleSourceRow.__table__)
    articles = _ARTICLES
    newest = func.coalesce(articles.c.published_at, articles.c.first_seen_at)
    per_article = (
        select(
            subscriptions.c.channel_id,
            articles.c.id.label("article_id"),
            func.max(newest).label("newest"),
        )
        .join(links, links.c.source_id == subscriptions.c.source_id)
        .join(articles, articles.c.id == links.c.article_id)
        .where(
            subscriptions.c.channel_id.in_(bindparam("ids", expanding=True)),
            newest >= bindparam("since", type_=articles.c.first_seen_at.type),
            ~exists().where(
                DELIVERED.c.channel_id == subscriptions.c.channel_id,
                DELIVERED.c.article_id == articles.c.id,
            ),
        )
        .group_by(subscriptions.c.channel_id, articles.c.id)
        .subquery()
    )
    rank = (
        func.row_number()
        .over(
            partition_by=per_article.c.channel_id,
            order_by=(per_article.c.newest.desc(), per_article.c.article_id.desc()),
        )
        .label("rank")
    )
    ranked = select(per_article.c.channel_id, per_article.c.article_id, rank).subquery()
    return (
        select(ranked.c.channel_id, ranked.c.article_id)
        .where(ranked.c.rank <= bindparam("cap", type_=Integer))
        .order_by(ranked.c.channel_id, ranked.c.rank)
    )


# what a claim round's deliveries read (`Store.delivery_inputs_many`), built once: building
# and keying a statement for every round cost more CPU than running it (`make bench`, replicas)
NEW_ARTICLES = _new_articles_query()
CHANNEL_ROWS = select(CHANNELS).where(CHANNELS.c.id.in_(bindparam("ids", expanding=True)))
RULED = {
    table.name: select(table.c.channel_id)
    .where(table.c.channel_id.in_(bindparam("ids", expanding=True)))
    .distinct()
    for table in (cast(Table, ChannelFilterRow.__table__), cast(Table, MentionRow.__table__))
}
ARTICLE_BODIES = select(_ARTICLES.c.id, _ARTICLES.c.body, _ARTICLES.c.digest).where(
    _ARTICLES.c.id.in_(bindparam("ids", expanding=True))
)
# PostgreSQL: a batch of new delivery rows as four arrays, one statement however many rows
# (SQLAlchemy's multi-row INSERT spent more CPU on each row's defaults than the database on
# the whole batch); the other columns as the model's defaults make them
SLOT_ROWS = (
    pg_insert(DELIVERIES)
    .from_select(
        [
            "channel_id",
            "slot",
            "state",
            "error",
            "created_at",
            "updated_at",
            "article_ids",
            "message_refs",
            "parts_total",
            "parts_sent",
            "attempts",
        ],
        select(
            func.unnest(bindparam("channel_ids", type_=ARRAY(Integer))),
            func.unnest(bindparam("slots", type_=ARRAY(String))),
            func.unnest(bindparam("states", type_=ARRAY(String))),
            func.unnest(bindparam("errors", type_=ARRAY(Text))),
            bindparam("now", type_=DELIVERIES.c.created_at.type),
            bindparam("now", type_=DELIVERIES.c.created_at.type),
            bindparam("nothing", [], type_=JSON),
            bindparam("nothing", [], type_=JSON),
            literal(0),
            literal(0),
            literal(0),
        ),
    )
    .on_conflict_do_nothing()
    .returning(DELIVERIES.c.channel_id, DELIVERIES.c.slot)
)
# a claim, with its conditions repeated by the UPDATE (see `Store.claim_due`)
_CLAIMABLE = (
    DELIVERIES.c.state == SENDING,
    or_(DELIVERIES.c.lease_until.is_(None), DELIVERIES.c.lease_until <= bindparam("now")),
    or_(DELIVERIES.c.retry_at.is_(None), DELIVERIES.c.retry_at <= bindparam("now")),
)
_PICKED = (
    select(
        DELIVERIES.c.id,
        DELIVERIES.c.lease_owner.label("previous_owner"),
        DELIVERIES.c.lease_until.label("previous_until"),
    )
    .join(CHANNELS, CHANNELS.c.id == DELIVERIES.c.channel_id)
    .where(
        *_CLAIMABLE,
        CHANNELS.c.platform == any_(bindparam("platforms", type_=ARRAY(String))),
        CHANNELS.c.paused.is_(False),
        DELIVERIES.c.id != all_(bindparam("exclude", type_=ARRAY(Integer))),
    )
    .order_by(DELIVERIES.c.id)
    .limit(bindparam("limit", type_=Integer))
    .with_for_update(skip_locked=True, of=DELIVERIES)
    .cte("picked")
)
# PostgreSQL: pick, lease and return the rows in one statement (autocommit: atomic alone)
CLAIM_DUE = (
    update(DELIVERIES)
    .where(DELIVERIES.c.id == _PICKED.c.id, *_CLAIMABLE)
    .values(lease_owner=bindparam("owner"), lease_until=bindparam("until"))
    .returning(*DELIVERIES.c, _PICKED.c.previous_owner, _PICKED.c.previous_until)
)
SAVE_DIGEST = (
    update(_ARTICLES)
    .where(_ARTICLES.c.id == bindparam("row_id"))
    .values(digest=bindparam("digest", type_=_ARTICLES.c.digest.type))
)
# the same statements as the event loop awaits them on PostgreSQL (bot/store/async_store.py)
# the digests one summarize worker made together (`DigestCache`), in one statement: their ids
# and their JSON text (encoded on the worker) as two arrays read side by side
ON_LOOP_SAVE_DIGESTS = Statement(
    "UPDATE articles SET digest = batch.digest::json"
    " FROM unnest(%(row_ids)s::integer[], %(digests)s::text[]) AS batch(id, digest)"
    " WHERE articles.id = batch.id",
    {},
    frozenset(),
    frozenset(),
)
ON_LOOP_CLAIM_DUE = Statement.of(CLAIM_DUE)
ON_LOOP_PART_STARTING = Statement.of(PART_STARTING)
ON_LOOP_PART_STARTING_RIDER = Statement.of(PART_STARTING_RIDER)
ON_LOOP_PART_STARTING_PLANNED = Statement.of(PART_STARTING_PLANNED)
ON_LOOP_PART_STARTING_PLANNED_RIDER = Statement.of(PART_STARTING_PLANNED_RIDER)
ON_LOOP_PART_SENT = Statement.of(PART_SENT)
ON_LOOP_DIGEST_SENT = Statement.of(DIGEST_SENT)
# the last part's record on the loop, one statement: the row settled as `DIGEST_SENT` does,
# and the articles it handled recorded as `handled_articles` reads them from the row (its
# article ids, every id in its plan's stories, and its plan's dropped ids)
_ARRAY = "CASE WHEN json_typeof({0}) = 'array' THEN {0} ELSE '[]'::json END"
ON_LOOP_SETTLE = replace(
    ON_LOOP_DIGEST_SENT,
    sql=f"""
    WITH settled AS ({ON_LOOP_DIGEST_SENT.sql}),
    handled AS (
        INSERT INTO delivered_articles (channel_id, article_id, delivery_id)
        SELECT DISTINCT settled.channel_id, ids.id::int, settled.id
        FROM settled CROSS JOIN LATERAL (
            SELECT json_array_elements_text({_ARRAY.format("settled.article_ids")}) AS id
            UNION ALL
            SELECT json_array_elements_text({_ARRAY.format("story")})
            FROM json_array_elements({_ARRAY.format("settled.plan -> 'stories'")}) AS story
            UNION ALL
            SELECT json_array_elements_text({_ARRAY.format("settled.plan -> 'dropped'")})
        ) AS ids
        ON CONFLICT DO NOTHING
    )
    SELECT * FROM settled
    """,
)
ON_LOOP_PLAN_DELIVERY = Statement.of(PLAN_DELIVERY)


def claim_params(
    owner: str,
    now: datetime,
    until: datetime,
    limit: int,
    platforms: Sequence[str],
    exclude: Sequence[int],
) -> dict[str, Any]:
    """The parameters of `CLAIM_DUE` (see `Store.claim_due`)."""
    return {
        "owner": owner,
        "now": in_utc(now),
        "until": in_utc(until),
        "limit": limit,
        "platforms": list(platforms),
        "exclude": list(exclude),
    }


def claimed_rows(rows: Iterable[Any]) -> list[Claimed]:
    """`CLAIM_DUE`'s rows, oldest first (RETURNING keeps no order)."""
    return [
        Claimed(delivery_info(r), r.previous_owner, r.previous_until)
        for r in sorted(rows, key=lambda r: r.id)
    ]


def in_utc(moment: datetime) -> datetime:
    """A time as `UTCDateTime` binds it (a naive one is UTC), for the statements the loop
    sends without SQLAlchemy's types."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def handled_articles(article_ids: Sequence[int] | None, plan: dict[str, Any] | None) -> list[int]:
    """The articles a delivery handled: shown, told by another outlet, or filtered out."""
    plan = plan or {}
    told = [i for group in plan.get("stories", []) for i in group]
    return list(dict.fromkeys([*(article_ids or []), *told, *plan.get("dropped", [])]))


@dataclass(frozen=True)
class DeliveryPlan:
    """What a delivery will post (see `Store.plan_delivery`), stored with its first part's
    "request starting" mark (`Store.part_starting`)."""

    article_ids: list[int]
    parts_total: int
    plan: dict[str, Any] | None = None


def part_starting_params(
    delivery_id: int, part: int, planned: DeliveryPlan | None = None
) -> dict[str, Any]:
    """The parameters of `PART_STARTING` (`PART_STARTING_PLANNED` with a plan)."""
    values: dict[str, Any] = {"row_id": delivery_id, "part_index": part}
    if planned is not None:
        values |= plan_params(delivery_id, planned.article_ids, planned.parts_total, planned.plan)
    return values


def plan_params(
    delivery_id: int, article_ids: list[int], parts_total: int, plan: dict[str, Any] | None
) -> dict[str, Any]:
    """The parameters of `PLAN_DELIVERY` (see `Store.plan_delivery`)."""
    return {
        "row_id": delivery_id,
        "article_ids": article_ids,
        "parts_total": parts_total,
        "plan": plan,
    }


def part_record(
    delivery_id: int,
    part: int,
    thread_ref: str | None,
    lease_until: datetime | None,
    refs: Sequence[str] | None,
) -> dict[str, Any]:
    """The parameters of `PART_SENT` and `DIGEST_SENT`: this part recorded as sent."""
    return {
        "row_id": delivery_id,
        "part_index": part,
        "next": part + 1,
        "refs": list(refs or ()),
        "thread": thread_ref or None,
        "lease": in_utc(lease_until) if lease_until is not None else None,
    }


def delivery_info(row: Any) -> DeliveryInfo:
    """A deliveries row (ORM, Core or driver) as the engine sees it."""
    return DeliveryInfo(
        row.id,
        row.channel_id,
        row.slot,
        row.state,
        list(row.article_ids or []),
        row.parts_total,
        row.parts_sent,
        row.thread_ref,
        list(row.message_refs or []),
        row.attempts,
        row.retry_at,
        row.error,
        row.created_at,
        row.lease_owner,
        row.lease_until,
        row.plan,
        row.part_in_flight,
    )


class Store:
    """All persistence for the bot; safe to share between threads (one session per call)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions: sessionmaker[Session] = session_factory(engine)
        # for writes that are one statement: no BEGIN and COMMIT around it, which on
        # PostgreSQL are a round trip each (the same pool; the connection is reset on return)
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        # the statements every post makes, for the event loop to await itself (PostgreSQL)
        self.on_loop = OnLoop(engine) if engine.dialect.name == "postgresql" else None

    @property
    def session_factory(self) -> sessionmaker[Session]:
        """For the read models beside this one (bot/store/console.py, bot/ops/signin.py)."""
        return self._sessions

    @classmethod
    def open(cls, url: str, run_migrations: bool = True) -> Store:
        engine = make_engine(url)
        if run_migrations:
            migrate(engine)
        return cls(engine)

    def ping(self) -> bool:
        with self._sessions() as session:
            return session.execute(select(1)).scalar() == 1

    # channels ------------------------------------------------------------------------------
    def channel(
        self, platform: str, external_id: str, create: bool = True, tenant: str | None = None
    ) -> ChannelInfo | None:
        """The channel's row (made when `create`); `tenant`, when given, is recorded the first
        time it is known, so the web console can show a workspace only its own channels."""
        with self._sessions() as session:
            row = session.scalar(
                select(ChannelRow).filter_by(platform=platform, external_id=external_id)
            )
            if row is not None and tenant and row.tenant is None:
                row.tenant = tenant[:64]
                session.commit()
            if row is None and create:
                row = ChannelRow(platform=platform, external_id=external_id, tenant=tenant)
                session.add(row)
                try:
                    session.commit()
                except IntegrityError:  # created meanwhile by another process
                    session.rollback()
                    row = session.scalar(
                        select(ChannelRow).filter_by(platform=platform, external_id=external_id)
                    )
            return _channel(row) if row else None

    def channel_by_id(self, channel_id: int) -> ChannelInfo | None:
        with self._sessions() as session:
            row = session.get(ChannelRow, channel_id)
            return _channel(row) if row else None

    def channels(self, platform: str | None = None) -> list[ChannelInfo]:
        with self._sessions() as session:
            query = select(ChannelRow).order_by(ChannelRow.id)
            if platform:
                query = query.filter_by(platform=platform)
            return [_channel(r) for r in session.scalars(query)]

    def set_schedule(
        self,
        channel_id: int,
        schedule: str | None,
        timezone: str,
        since: datetime | None = None,
    ) -> None:
        """Set (or clear) the schedule; slots count from `since` (now: no earlier slot is due)."""
        with self._sessions.begin() as session:
            session.execute(
                update(ChannelRow)
                .where(ChannelRow.id == channel_id)
                .values(schedule=schedule, timezone=timezone, schedule_since=since or utcnow())
            )

    def pause_channel(self, channel_id: int, reason: str) -> bool:
        """Pause; True only for the call that paused it (so admins are told once)."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(ChannelRow)
                .where(ChannelRow.id == channel_id, ChannelRow.paused.is_(False))
                .values(paused=True, paused_reason=reason)
            )
            return bool(getattr(result, "rowcount", 0))

    def resume_channel(self, channel_id: int) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(ChannelRow)
                .where(ChannelRow.id == channel_id)
                .values(paused=False, paused_reason=None)
            )

    def remember_article(self, channel_id: int, article_id: int) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(ChannelRow)
                .where(ChannelRow.id == channel_id)
                .values(last_article_id=article_id)
            )

    def last_article_id(self, channel_id: int) -> int | None:
        with self._sessions() as session:
            row = session.get(ChannelRow, channel_id)
            return row.last_article_id if row else None

    # sources and subscriptions ------------------------------------------------------------------
    def source(self, url: str, kind: str = "auto") -> SourceInfo:
        with self._sessions() as session:
            row = session.scalar(select(SourceRow).filter_by(url=url))
            if row is None:
                row = SourceRow(url=url, kind=kind)
                session.add(row)
                try:
                    session.commit()
                except IntegrityError:
                    session.rollback()
                    row = session.scalar(select(SourceRow).filter_by(url=url))
            assert row is not None
            return _source(row)

    def source_by_id(self, source_id: int) -> SourceInfo | None:
        with self._sessions() as session:
            row = session.get(SourceRow, source_id)
            return _source(row) if row else None

    def subscribe(self, channel_id: int, url: str, kind: str = "auto") -> tuple[SourceInfo, bool]:
        source = self.source(url, kind)
        with self._sessions() as session:
            session.add(SubscriptionRow(channel_id=channel_id, source_id=source.id))
            try:
                session.commit()
                return source, True
            except IntegrityError:
                session.rollback()
                return source, False

    def unsubscribe(self, channel_id: int, source_id: int) -> bool:
        """Stop following; the channel's filters for that source alone go with it."""
        with self._sessions.begin() as session:
            result = session.execute(
                delete(SubscriptionRow).filter_by(channel_id=channel_id, source_id=source_id)
            )
            for table in (ChannelFilterRow, MentionRow):
                session.execute(delete(table).filter_by(channel_id=channel_id, source_id=source_id))
            return bool(getattr(result, "rowcount", 0))

    def channel_sources(self, channel_id: int) -> list[SourceInfo]:
        with self._sessions() as session:
            rows = session.scalars(
                select(SourceRow)
                .join(SubscriptionRow, SubscriptionRow.source_id == SourceRow.id)
                .where(SubscriptionRow.channel_id == channel_id)
                .order_by(SubscriptionRow.id)
            )
            return [_source(r) for r in rows]

    def subscribed_channels(self, source_id: int) -> list[ChannelInfo]:
        with self._sessions() as session:
            rows = session.scalars(
                select(ChannelRow)
                .join(SubscriptionRow, SubscriptionRow.channel_id == ChannelRow.id)
                .where(SubscriptionRow.source_id == source_id)
            )
            return [_channel(r) for r in rows]

    def due_sources(self, now: datetime, reprobe_after: timedelta) -> list[SourceInfo]:
        """Sources with subscribers whose next attempt is due; paused ones only for a slow re-probe."""
        with self._sessions() as session:
            subscribed = select(SubscriptionRow.source_id).distinct()
            rows = session.scalars(
                select(SourceRow).where(SourceRow.id.in_(subscribed)).order_by(SourceRow.id)
            )
            due = []
            for row in rows:
                if row.paused:
                    last = row.next_attempt_at or row.created_at
                    if now - last >= reprobe_after:
                        due.append(_source(row))
                elif row.next_attempt_at is None or row.next_attempt_at <= now:
                    due.append(_source(row))
            return due

    def resume_source(self, source_id: int) -> bool:
        """An admin's "try again": a paused source is polled at the next poll, its failures
        counted afresh; True when it was paused."""
        with self._sessions.begin() as session:
            row = session.get(SourceRow, source_id)
            if row is None or not row.paused:
                return False
            row.paused, row.pause_notified, row.failures, row.next_attempt_at = (
                False,
                False,
                0,
                None,
            )
            return True

    def fetch_succeeded(
        self, source_id: int, etag: str | None, last_modified: str | None, next_attempt_at: datetime
    ) -> bool:
        """Reset failures; True when this success un-paused the source."""
        with self._sessions.begin() as session:
            row = session.get(SourceRow, source_id)
            if row is None:
                return False
            was_paused = row.paused
            row.etag, row.last_modified = etag, last_modified
            row.failures, row.paused, row.pause_notified, row.last_error = 0, False, False, None
            row.next_attempt_at, row.last_success_at = next_attempt_at, utcnow()
            return was_paused

    def fetch_failed(
        self, source_id: int, error: str, next_attempt_at: datetime, pause_after: int
    ) -> bool:
        """Count a failure; True exactly once, when the source becomes paused and needs a notice."""
        with self._sessions.begin() as session:
            row = session.get(SourceRow, source_id)
            if row is None:
                return False
            row.failures += 1
            row.last_error = error[:500]
            row.next_attempt_at = next_attempt_at
            if row.failures >= pause_after and not row.paused:
                row.paused = True
            if row.paused and not row.pause_notified:
                row.pause_notified = True
                return True
            return False

    def defer_source(self, source_id: int, until: datetime) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(SourceRow).where(SourceRow.id == source_id).values(next_attempt_at=until)
            )

    # articles -----------------------------------------------------------------------------------
    def add_article(
        self,
        source_id: int,
        article: Article,
        keys: Sequence[str],
        content_hash: str,
        published_at: datetime | None,
    ) -> tuple[int, bool]:
        """Store an article unless any of its identity keys is known; link it to the source either way."""
        words = search.article_words(article)
        with self._sessions() as session:
            existing = session.scalar(
                select(ArticleKeyRow.article_id).where(ArticleKeyRow.key.in_(keys))
            )
            if existing is not None:
                self._link(session, existing, source_id, keys)
                session.commit()
                return existing, False
            row = ArticleRow(
                title=article.title[:1000],
                url=article.url,
                content_hash=content_hash,
                published_at=published_at,
                body=article_to_dict(article),
                language=article.language,
            )
            session.add(row)
            session.flush()
            self._link(session, row.id, source_id, keys)
            search.index_article(session, row.id, words)
            try:
                session.commit()
                return row.id, True
            except IntegrityError:  # another process stored it first
                session.rollback()
                found = session.scalar(
                    select(ArticleKeyRow.article_id).where(ArticleKeyRow.key.in_(keys))
                )
                assert found is not None
                return found, False

    def find_article(self, keys: Sequence[str], source_id: int | None = None) -> int | None:
        """The article any of these keys names; linked to `source_id` too when given."""
        with self._sessions() as session:
            existing = session.scalar(
                select(ArticleKeyRow.article_id).where(ArticleKeyRow.key.in_(keys))
            )
            if existing is not None and source_id is not None:
                self._link(session, existing, source_id, keys)
                session.commit()
            return existing

    def replace_article(self, article_id: int, article: Article, content_hash: str) -> None:
        """The fuller text of an article already stored (a teaser whose page could be read);
        its cached digest is dropped so the next one is made from the full text."""
        words = search.article_words(article)
        with self._sessions.begin() as session:
            row = session.get(ArticleRow, article_id)
            if row is None:
                return
            search.index_article(session, article_id, words)
            row.title, row.body = article.title[:1000], article_to_dict(article)
            row.language = article.language
            row.content_hash, row.digest = content_hash, None

    def page(self, url: str) -> tuple[str, int, datetime | None] | None:
        """(state, failures, next attempt) of a followed link, by canonical URL."""
        with self._sessions() as session:
            row = session.get(ArticlePageRow, url[:512])
            return (row.state, row.failures, row.next_attempt_at) if row else None

    def record_page(
        self, url: str, full: bool, error: str | None, next_attempt_at: datetime | None
    ) -> None:
        with self._sessions.begin() as session:
            row = session.get(ArticlePageRow, url[:512])
            if row is None:
                row = ArticlePageRow(url=url[:512], state="", failures=0)
                session.add(row)
            row.state = "full" if full else "teaser"
            row.failures = 0 if full else row.failures + 1
            row.error, row.next_attempt_at = error, next_attempt_at

    @staticmethod
    def _link(session: Session, article_id: int, source_id: int, keys: Iterable[str]) -> None:
        known = set(
            session.scalars(select(ArticleKeyRow.key).where(ArticleKeyRow.key.in_(list(keys))))
        )
        for key in keys:
            if key not in known:
                session.add(ArticleKeyRow(key=key, article_id=article_id))
        if session.get(ArticleSourceRow, (article_id, source_id)) is None:
            session.add(ArticleSourceRow(article_id=article_id, source_id=source_id))

    def article(self, article_id: int) -> Article | None:
        with self._sessions() as session:
            row = session.get(ArticleRow, article_id)
            return article_from_dict(row.body) if row else None

    def articles(self, article_ids: Sequence[int]) -> dict[int, Article]:
        """The stored articles among these ids, in one session (missing ids are left out)."""
        if not article_ids:
            return {}
        with self._sessions() as session:
            rows = session.scalars(select(ArticleRow).where(ArticleRow.id.in_(article_ids)))
            return {row.id: article_from_dict(row.body) for row in rows}

    def article_and_digest(self, article_id: int) -> tuple[Article | None, Digest | None]:
        """The article and its digest if one was made, from one read of its row (the digest
        cache's miss path: a made digest, or the article to summarize)."""
        with self._sessions() as session:
            row = session.get(ArticleRow, article_id)
            if row is None:
                return None, None
            article = article_from_dict(row.body)
            return article, digest_from_dict(article, row.digest) if row.digest else None

    def cached_digest(self, article_id: int) -> Digest | None:
        with self._sessions() as session:
            row = session.get(ArticleRow, article_id)
            if row is None or row.digest is None:
                return None
            return digest_from_dict(article_from_dict(row.body), row.digest)

    def save_digest(self, article_id: int, digest: Digest) -> None:
        self.save_digests([(article_id, digest)])

    def save_digests(self, digests: Sequence[tuple[int, Digest]]) -> None:
        """Several articles' digests, one round trip (a summarize worker's batch)."""
        rows = [{"row_id": i, "digest": digest_to_dict(d)} for i, d in digests]
        if rows:
            with self._autocommit.connect() as conn:
                conn.execute(SAVE_DIGEST, rows)

    def new_articles_for(self, channel_id: int, since: datetime, cap: int) -> list[int]:
        """Articles from the channel's sources, seen since `since`, never delivered there; newest first."""
        with self.engine.connect() as conn:
            return self._new_articles_many(conn, [channel_id], since, cap).get(channel_id, [])

    def count_articles(self) -> int:
        with self._sessions() as session:
            return int(session.scalar(select(func.count()).select_from(ArticleRow)) or 0)

    def ops_counts(self) -> dict[str, int]:
        """The figures the metrics gauges show: channels, sources by state, deliveries in flight."""
        with self._sessions() as session:
            channels = session.scalar(select(func.count()).select_from(ChannelRow)) or 0
            paused = session.scalar(select(func.count()).where(SourceRow.paused.is_(True))) or 0
            failing = (
                session.scalar(
                    select(func.count()).where(SourceRow.paused.is_(False), SourceRow.failures > 0)
                )
                or 0
            )
            sources = session.scalar(select(func.count()).select_from(SourceRow)) or 0
            in_flight = (
                session.scalar(select(func.count()).where(DeliveryRow.state == SENDING)) or 0
            )
        return {
            "channels": int(channels),
            "ok": int(sources - paused - failing),
            "failing": int(failing),
            "paused": int(paused),
            "in_flight": int(in_flight),
        }

    # curation: filters, what they dropped, channel settings ------------------------------------
    def add_filter(
        self,
        channel_id: int,
        action: str,
        pattern: str,
        is_regex: bool,
        source_id: int | None = None,
    ) -> FilterRule:
        """A rule for the channel, or (with `source_id`) for one of its sources only."""
        with self._sessions.begin() as session:
            row = ChannelFilterRow(
                channel_id=channel_id,
                action=action,
                pattern=pattern,
                is_regex=is_regex,
                source_id=source_id,
            )
            session.add(row)
            session.flush()
            source = session.get(SourceRow, source_id) if source_id is not None else None
            return FilterRule(
                row.id,
                row.action,
                row.pattern,
                row.is_regex,
                source_id,
                _shown(source.url if source else None),
            )

    def filters(self, channel_id: int) -> list[FilterRule]:
        with self._sessions() as session:
            rows = session.execute(
                select(ChannelFilterRow, SourceRow.url)
                .outerjoin(SourceRow, SourceRow.id == ChannelFilterRow.source_id)
                .where(ChannelFilterRow.channel_id == channel_id)
                .order_by(ChannelFilterRow.id)
            )
            return [
                FilterRule(
                    r.id,
                    r.action,
                    r.pattern,
                    r.is_regex,
                    r.source_id,
                    _shown(url),
                )
                for r, url in rows
            ]

    def add_mention(
        self,
        channel_id: int,
        target: str,
        source_id: int | None,
        pattern: str | None,
        is_regex: bool,
    ) -> None:
        with self._sessions.begin() as session:
            session.add(
                MentionRow(
                    channel_id=channel_id,
                    target=target,
                    source_id=source_id,
                    pattern=pattern,
                    is_regex=is_regex,
                )
            )

    def mentions(self, channel_id: int) -> list[MentionRule]:
        with self._sessions() as session:
            rows = session.execute(
                select(MentionRow, SourceRow.url)
                .outerjoin(SourceRow, SourceRow.id == MentionRow.source_id)
                .where(MentionRow.channel_id == channel_id)
                .order_by(MentionRow.id)
            )
            return [
                MentionRule(
                    r.id,
                    r.target,
                    r.source_id,
                    _shown(url),
                    r.pattern,
                    r.is_regex,
                )
                for r, url in rows
            ]

    def remove_mentions(self, channel_id: int, mention_ids: Sequence[int]) -> int:
        with self._sessions.begin() as session:
            result = session.execute(
                delete(MentionRow).where(
                    MentionRow.channel_id == channel_id, MentionRow.id.in_(mention_ids)
                )
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def article_sources(self, article_ids: Sequence[int]) -> dict[int, frozenset[int]]:
        """The sources that carried each article (one story may come through several feeds)."""
        found: dict[int, set[int]] = {}
        with self._sessions() as session:
            for start in range(0, len(article_ids), 500):
                rows = session.execute(
                    select(ArticleSourceRow.article_id, ArticleSourceRow.source_id).where(
                        ArticleSourceRow.article_id.in_(article_ids[start : start + 500])
                    )
                )
                for article_id, source_id in rows:
                    found.setdefault(article_id, set()).add(source_id)
        return {k: frozenset(v) for k, v in found.items()}

    def remove_filter(self, channel_id: int, filter_id: int) -> bool:
        with self._sessions.begin() as session:
            result = session.execute(
                delete(ChannelFilterRow).where(
                    ChannelFilterRow.id == filter_id, ChannelFilterRow.channel_id == channel_id
                )
            )
            return bool(getattr(result, "rowcount", 0))

    def clear_filters(self, channel_id: int) -> int:
        with self._sessions.begin() as session:
            result = session.execute(
                delete(ChannelFilterRow).where(ChannelFilterRow.channel_id == channel_id)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def record_drops(
        self, channel_id: int, drops: Sequence[tuple[int, int, str]], now: datetime | None = None
    ) -> None:
        """(article id, filter id, rule) for each article a filter kept out of a digest."""
        if not drops:
            return
        with self._sessions.begin() as session:
            session.execute(
                insert(FilterDropRow),
                [
                    {
                        "channel_id": channel_id,
                        "article_id": article_id,
                        "filter_id": filter_id,
                        "rule": rule[:520],
                        "dropped_at": now or utcnow(),
                    }
                    for article_id, filter_id, rule in drops
                ],
            )

    def drop_counts(self, channel_id: int, since: datetime) -> dict[int, int]:
        with self._sessions() as session:
            rows = session.execute(
                select(FilterDropRow.filter_id, func.count())
                .where(FilterDropRow.channel_id == channel_id, FilterDropRow.dropped_at >= since)
                .group_by(FilterDropRow.filter_id)
            )
            return {int(f): int(n) for f, n in rows if f is not None}

    def channel_settings(self, channel_id: int) -> ChannelSettings:
        with self._sessions() as session:
            row = session.get(ChannelRow, channel_id)
            return _settings(row) if row is not None else ChannelSettings()

    def delivery_inputs(self, channel_id: int, since: datetime, cap: int) -> DeliveryInputs | None:
        """What a delivery of this channel reads before it renders (see `delivery_inputs_many`);
        None when the channel is gone."""
        return self.delivery_inputs_many([channel_id], since, cap).get(channel_id)

    def delivery_inputs_many(
        self, channel_ids: Sequence[int], since: datetime, cap: int
    ) -> dict[int, DeliveryInputs]:
        """Everything the deliveries of these channels read before they render, in one
        connection and a handful of statements for all of them (a claim round's channels
        together): each channel row with its settings, its filter and mention rules (read only
        for channels that have any), up to `cap` new articles each (none when `cap` is 0: a
        resumed delivery keeps its plan), and those articles with their stored digests.
        Channels that are gone are left out.

        Plain statements, not the ORM: a rush runs this for every channel, and the ORM's
        object loading cost more CPU than the database's own work (`make bench`, replicas)."""
        ids = list(dict.fromkeys(channel_ids))
        if not ids:
            return {}
        with self.engine.connect() as conn:
            rows = {r.id: r for r in conn.execute(CHANNEL_ROWS, {"ids": ids})}
            ruled = {
                name: set(conn.scalars(query, {"ids": list(rows)})) for name, query in RULED.items()
            }
            new = self._new_articles_many(conn, list(rows), since, cap) if cap > 0 else {}
            wanted = sorted({a for found in new.values() for a in found})
            articles: dict[int, Article] = {}
            digests: dict[int, dict[str, Any]] = {}
            for start in range(0, len(wanted), 500):
                chosen = {"ids": wanted[start : start + 500]}
                for article_id, body, digest in conn.execute(ARTICLE_BODIES, chosen):
                    articles[article_id] = article_from_dict(body)
                    if digest:
                        digests[article_id] = digest
        with_filters, with_mentions = ruled.values()
        found = {}
        for channel_id, row in rows.items():
            candidates = new.get(channel_id, [])
            found[channel_id] = DeliveryInputs(
                _channel(row),
                _settings(row),
                self.filters(channel_id) if channel_id in with_filters else [],
                self.mentions(channel_id) if channel_id in with_mentions else [],
                candidates,
                {a: articles[a] for a in sorted(candidates) if a in articles},
                {a: digests[a] for a in candidates if a in digests},
            )
        return found

    @staticmethod
    def _new_articles_many(
        conn: Connection, channel_ids: list[int], since: datetime, cap: int
    ) -> dict[int, list[int]]:
        """`NEW_ARTICLES` for these channels: their article ids, newest first."""
        found: dict[int, list[int]] = {}
        params = {"ids": channel_ids, "since": since, "cap": cap}
        for channel_id, article_id in conn.execute(NEW_ARTICLES, params):
            found.setdefault(channel_id, []).append(article_id)
        return found

    def set_channel_settings(self, channel_id: int, **values: Any) -> None:
        allowed = {
            "articles_per_digest",
            "bullets_per_article",
            "list_sections",
            "language",
            "translate",
            "header_template",
            "entry_template",
        }
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"unknown channel settings: {sorted(unknown)}")
        with self._sessions.begin() as session:
            session.execute(update(ChannelRow).where(ChannelRow.id == channel_id).values(**values))

    # deliveries ---------------------------------------------------------------------------------
    def claim_delivery(
        self,
        channel_id: int,
        slot: str,
        state: str = SENDING,
        error: str | None = None,
        now: datetime | None = None,
        lease_owner: str | None = None,
        lease_until: datetime | None = None,
    ) -> DeliveryInfo | None:
        """Insert the (channel, slot) row; None when it already exists (someone else owns the slot).

        A row inserted to be sent carries its owner's lease from the start, so the periodic
        resume never mistakes a first send still in flight for an interrupted one."""
        with self._sessions() as session:
            row = DeliveryRow(
                channel_id=channel_id,
                slot=slot,
                state=state,
                error=error,
                created_at=now or utcnow(),
                lease_owner=lease_owner if state == SENDING else None,
                lease_until=lease_until if state == SENDING else None,
            )
            session.add(row)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                return None
            return delivery_info(row)

    def slot_rows(self, wanted: Iterable[tuple[int, str]]) -> set[tuple[int, str]]:
        """Which of these (channel, slot) pairs have a delivery row already: one query per
        thousand channels, for the slots of every due channel at once."""
        by_channel: dict[int, set[str]] = {}
        for channel_id, slot in wanted:
            by_channel.setdefault(channel_id, set()).add(slot)
        table, found = DELIVERIES, set()
        ids = sorted(by_channel)
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 1000):
                chunk = ids[start : start + 1000]
                slots = sorted({s for c in chunk for s in by_channel[c]})
                rows = conn.execute(
                    select(table.c.channel_id, table.c.slot).where(
                        table.c.channel_id.in_(chunk), table.c.slot.in_(slots)
                    )
                )
                found |= {(c, s) for c, s in rows if s in by_channel[c]}
        return found

    def add_slot_rows(
        self, rows: Sequence[tuple[int, str, str, str | None]], now: datetime
    ) -> set[tuple[int, str]]:
        """Insert (channel, slot, state, error) delivery rows where none exists yet, many per
        statement; returns the pairs inserted here. The unique (channel, slot) key makes a row
        once whoever else tries (a new leader, a cron job and the catch-up tick together)."""
        if not rows:
            return set()
        if self.engine.dialect.name == "postgresql":
            channel_ids, slots, states, errors = (list(c) for c in zip(*rows, strict=True))
            arrays = {"channel_ids": channel_ids, "slots": slots, "states": states}
            with self._autocommit.connect() as conn:
                made = conn.execute(SLOT_ROWS, {**arrays, "errors": errors, "now": now})
                return {(c, slot) for c, slot in made}
        table = DELIVERIES
        statement = insert_or_skip(self.engine.dialect.name, table).returning(
            table.c.channel_id, table.c.slot
        )
        values = [
            {"channel_id": c, "slot": slot, "state": state, "error": error, "created_at": now}
            for c, slot, state, error in rows
        ]
        # one compiled statement, sent as multi-row batches by SQLAlchemy ("insertmanyvalues")
        with self.engine.begin() as conn:
            return {(c, slot) for c, slot in conn.execute(statement, values)}

    def delivery_by_thread(self, channel_id: int, thread_ref: str) -> DeliveryInfo | None:
        """The digest whose thread this is (a mention in a digest's thread asks about it)."""
        with self._sessions() as session:
            row = session.scalar(
                select(DeliveryRow)
                .where(DeliveryRow.channel_id == channel_id, DeliveryRow.thread_ref == thread_ref)
                .order_by(DeliveryRow.id.desc())
                .limit(1)
            )
            return delivery_info(row) if row else None

    def delivery_by_id(self, delivery_id: int) -> DeliveryInfo | None:
        with self._sessions() as session:
            row = session.get(DeliveryRow, delivery_id)
            return delivery_info(row) if row else None

    def unfinished_deliveries(self) -> list[DeliveryInfo]:
        with self._sessions() as session:
            rows = session.scalars(
                select(DeliveryRow).where(DeliveryRow.state == SENDING).order_by(DeliveryRow.id)
            )
            return [delivery_info(r) for r in rows]

    def take_lease(self, delivery_id: int, owner: str, now: datetime, until: datetime) -> bool:
        """Become the one sender of an unfinished delivery, atomically; False if someone holds it.

        A single conditional UPDATE is the whole protocol: two contenders (two processes, or a
        retry and the tick's resume in one process) cannot both see their row count be 1."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.id == delivery_id,
                    DeliveryRow.state == SENDING,
                    or_(DeliveryRow.lease_until.is_(None), DeliveryRow.lease_until <= now),
                )
                .values(lease_owner=owner, lease_until=until)
            )
            return bool(getattr(result, "rowcount", 0) == 1)

    def claim_due(
        self,
        owner: str,
        now: datetime,
        until: datetime,
        limit: int,
        platforms: Sequence[str],
        exclude: Sequence[int] = (),
    ) -> list[Claimed]:
        """Take up to `limit` unfinished deliveries that nobody holds (never leased, released,
        or whose lease lapsed) and that are not waiting for a retry, oldest first.

        On PostgreSQL the rows are picked `FOR UPDATE SKIP LOCKED`, so replicas claiming at the
        same moment take disjoint rows instead of queueing on each other's locks. The UPDATE
        repeats the conditions, which alone keeps one owner per row where there are no row
        locks (SQLite, one process). `exclude` holds the rows the caller is already working on.
        """
        if limit <= 0 or not platforms:
            return []
        if self.engine.dialect.name == "postgresql":  # one statement (also awaited on the loop)
            with self._autocommit.connect() as conn:
                return claimed_rows(
                    conn.execute(
                        CLAIM_DUE, claim_params(owner, now, until, limit, platforms, exclude)
                    )
                )
        free = or_(DeliveryRow.lease_until.is_(None), DeliveryRow.lease_until <= now)
        due = [
            DeliveryRow.state == SENDING,
            free,
            or_(DeliveryRow.retry_at.is_(None), DeliveryRow.retry_at <= now),
        ]
        with self._sessions.begin() as session:
            query = (
                select(DeliveryRow.id, DeliveryRow.lease_owner, DeliveryRow.lease_until)
                .join(ChannelRow, ChannelRow.id == DeliveryRow.channel_id)
                .where(
                    *due,
                    ChannelRow.platform.in_(list(platforms)),
                    ChannelRow.paused.is_(False),
                )
                .order_by(DeliveryRow.id)
                .limit(limit)
            )
            if exclude:
                query = query.where(DeliveryRow.id.not_in(list(exclude)))
            if self.engine.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=DeliveryRow)
            picked = {r.id: (r.lease_owner, r.lease_until) for r in session.execute(query)}
            if not picked:
                return []
            session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id.in_(list(picked)), *due)
                .values(lease_owner=owner, lease_until=until)
                .execution_options(synchronize_session=False)
            )
            rows = session.scalars(
                select(DeliveryRow)
                .where(DeliveryRow.id.in_(list(picked)), DeliveryRow.lease_owner == owner)
                .order_by(DeliveryRow.id)
            )
            return [Claimed(delivery_info(r), *picked[r.id]) for r in rows]

    def release_leases(self, owner: str) -> int:
        """Hand back every row this owner holds (a replica stopping cleanly): the others may
        take them at once instead of waiting for the leases to lapse."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.lease_owner == owner,
                    DeliveryRow.state == SENDING,
                    DeliveryRow.lease_until.is_not(None),
                )
                .values(lease_until=None)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def release_predecessors(self, prefix: str, owner: str) -> int:
        """Free the rows whose owner begins with `prefix` but is not `owner`: the leases a dead
        earlier run of this replica left (see `bot/delivery/identity.py`). The owner stays, so
        the claimer knows the row is resumed and asks the platform about a part in flight."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(DeliveryRow)
                .where(
                    func.substr(DeliveryRow.lease_owner, 1, len(prefix)) == prefix,
                    DeliveryRow.lease_owner != owner,
                    DeliveryRow.state == SENDING,
                    DeliveryRow.lease_until.is_not(None),
                )
                .values(lease_until=None)
                .execution_options(synchronize_session=False)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def part_starting(
        self, delivery_id: int, part: int, planned: DeliveryPlan | None = None
    ) -> None:
        """This part's request is about to go out: until it is recorded, a sender that takes
        the delivery over must ask the platform whether it arrived. `planned`: the
        delivery's plan, stored in the same write (a first part's mark)."""
        statement = PART_STARTING if planned is None else PART_STARTING_PLANNED
        with self._autocommit.connect() as conn:  # one prepared statement per part
            conn.execute(statement, part_starting_params(delivery_id, part, planned))

    def release_lease(self, delivery_id: int, owner: str) -> None:
        """Free the row for any sender now. The owner stays, so whoever claims it next knows
        whose work it resumes (a takeover, when that is another replica)."""
        with self._sessions.begin() as session:
            session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id == delivery_id, DeliveryRow.lease_owner == owner)
                .values(lease_until=None)
            )

    def renew_leases(self, delivery_ids: Sequence[int], owner: str, until: datetime) -> set[int]:
        """Extend this owner's leases in one statement; return the ids it still holds."""
        with self._sessions.begin() as session:
            session.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.id.in_(delivery_ids),
                    DeliveryRow.lease_owner == owner,
                    DeliveryRow.lease_until.is_not(None),  # a released row stays free
                )
                .values(lease_until=until)
            )
            return set(
                session.scalars(
                    select(DeliveryRow.id).where(
                        DeliveryRow.id.in_(delivery_ids), DeliveryRow.lease_owner == owner
                    )
                )
            )

    def deliveries(self, channel_id: int | None = None) -> list[DeliveryInfo]:
        with self._sessions() as session:
            query = select(DeliveryRow).order_by(DeliveryRow.id)
            if channel_id is not None:
                query = query.filter_by(channel_id=channel_id)
            return [delivery_info(r) for r in session.scalars(query)]

    def plan_delivery(
        self,
        delivery_id: int,
        article_ids: list[int],
        parts_total: int,
        plan: dict[str, Any] | None = None,
    ) -> None:
        with self._autocommit.connect() as conn:
            conn.execute(PLAN_DELIVERY, plan_params(delivery_id, article_ids, parts_total, plan))

    def part_sent(
        self,
        delivery_id: int,
        part: int,
        message_ref: str,
        thread_ref: str | None,
        lease_until: datetime | None = None,
        finish: bool = False,
        refs: Sequence[str] | None = None,
    ) -> DeliveryInfo | None:
        """Record a posted part. With `finish` (it was the last part) the delivery is marked
        sent in the same transaction (see `finish_delivery`): one write, not two, for the
        part that ends a digest, and the row as recorded is returned, for the caller's log.
        `refs`: the message ids of every part so far, this one included, when the caller
        knows them: a part that is not the last is then one UPDATE, applied only if the row
        is where the caller left it (else it is recorded as below).

        Written with plain statements on a connection, not through the ORM: this runs once
        per part of every digest, and the ORM's load and flush cost more CPU than the
        database's own work (`make bench`, rush)."""
        table = DELIVERIES
        known = part_record(delivery_id, part, thread_ref, lease_until, refs)
        if refs is not None and not finish:
            with self._autocommit.connect() as conn:
                done = conn.execute(PART_SENT, known)
            if getattr(done, "rowcount", 0) == 1:
                return None
        with self.engine.begin() as conn:
            if refs is not None:  # the last part: the row settled by one UPDATE, if in place
                settled = conn.execute(DIGEST_SENT, {**known, "sent": SENT}).one_or_none()
                if settled is not None:
                    self._record_handled(conn, settled)
                    return delivery_info(settled)
            wanted = (
                select(table)
                if finish
                else select(table.c.parts_sent, table.c.message_refs, table.c.thread_ref)
            )
            current = conn.execute(wanted.where(table.c.id == delivery_id)).one_or_none()
            if current is None:
                return None
            values: dict[str, Any] = {}
            if current.parts_sent <= part:
                values = {
                    "message_refs": [*(current.message_refs or []), message_ref],
                    "parts_sent": part + 1,
                    "part_in_flight": None,
                }
                if lease_until is not None:
                    values["lease_until"] = lease_until
                if thread_ref and not current.thread_ref:
                    values["thread_ref"] = thread_ref
            if finish and values.get("parts_sent", current.parts_sent) > part:
                values.update(self._finish(conn, current, SENT, None))
            if values:
                conn.execute(update(table).where(table.c.id == delivery_id).values(values))
            if not finish:
                return None
            return delivery_info(SimpleNamespace(**{**current._asdict(), **values}))

    def finish_delivery(
        self, delivery_id: int, state: str = SENT, error: str | None = None
    ) -> None:
        """Mark sent (or skipped when filters left nothing) and remember which articles were
        handled: shown, told by another outlet, or filtered out. One transaction."""
        table = DELIVERIES
        with self.engine.begin() as conn:
            row = conn.execute(select(table).where(table.c.id == delivery_id)).one_or_none()
            if row is not None:
                values = self._finish(conn, row, state, error)
                if values:
                    conn.execute(update(table).where(table.c.id == delivery_id).values(values))

    @staticmethod
    def _finish(conn: Connection, row: Any, state: str, error: str | None) -> dict[str, Any]:
        """The delivery row's final values (none when it is already sent); the articles it
        handled are recorded for its channel here, in the caller's transaction."""
        if row.state == SENT:
            return {}
        Store._record_handled(conn, row)
        return {
            "state": state,
            "retry_at": None,
            "error": error,
            "lease_owner": None,
            "lease_until": None,
            "part_in_flight": None,
        }

    @staticmethod
    def _record_handled(conn: Connection, row: Any) -> None:
        """The articles a settled delivery handled (shown, told by another outlet, or filtered
        out) are never offered to its channel again; one insert, skipping those recorded."""
        wanted = handled_articles(row.article_ids, row.plan)
        if not wanted:
            return
        conn.execute(
            insert_or_skip(conn.dialect.name, DELIVERED).values(
                [
                    {"channel_id": row.channel_id, "article_id": a, "delivery_id": row.id}
                    for a in wanted
                ]
            )
        )

    def delivery_attempt(
        self,
        delivery_id: int,
        error: str | None,
        retry_at: datetime | None,
        final_state: str | None = None,
        maybe_sent: bool = False,
    ) -> None:
        """A failed send: count it, and remember whether the part may be out after all (the
        request may have reached the platform), for the sender that tries again."""
        with self._sessions.begin() as session:
            values: dict[str, Any] = {
                "attempts": DeliveryRow.attempts + 1,
                "error": error,
                "retry_at": retry_at,
                "lease_owner": None,
                "lease_until": None,
            }
            if not maybe_sent:
                values["part_in_flight"] = None
            if final_state:
                values["state"] = final_state
            session.execute(
                update(DeliveryRow).where(DeliveryRow.id == delivery_id).values(**values)
            )

    def set_delivery_state(self, delivery_id: int, state: str, error: str | None = None) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id == delivery_id)
                .values(
                    state=state,
                    error=error,
                    lease_owner=None,
                    lease_until=None,
                    part_in_flight=None,
                )
            )

    def last_sent_delivery(self, channel_id: int) -> DeliveryInfo | None:
        with self._sessions() as session:
            row = session.scalar(
                select(DeliveryRow)
                .filter_by(channel_id=channel_id, state=SENT)
                .order_by(DeliveryRow.id.desc())
                .limit(1)
            )
            return delivery_info(row) if row else None

    # caches and receipts --------------------------------------------------------------------------
    def cache_get(self, key: str) -> dict[str, Any] | None:
        with self._sessions() as session:
            row = session.get(SummaryCacheRow, key)
            return dict(row.value) if row else None

    def cache_put(self, key: str, value: dict[str, Any]) -> None:
        with self._sessions() as session:
            session.add(SummaryCacheRow(key=key, value=value))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()

    def first_receipt(self, key: str) -> bool:
        """True the first time a command id is seen; False for a replay."""
        with self._sessions() as session:
            session.add(CommandReceiptRow(key=key))
            try:
                session.commit()
                return True
            except IntegrityError:
                session.rollback()
                return False


class StoreSummaryCache:
    """The LLM summary cache kept in the database, shared by every process."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, key: str) -> dict[str, Any] | None:
        return self.store.cache_get(key)

    def put(self, key: str, value: dict[str, Any]) -> None:
        self.store.cache_put(key, value)
