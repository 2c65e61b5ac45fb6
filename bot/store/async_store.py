"""The store as the event loop sees it: the same methods, awaited, each run on a database thread.

`Store` is synchronous (SQLAlchemy sessions block), and nothing slow may run on the one event
loop that carries every platform connection. So code on the loop calls `await
store.claim_delivery(...)` on an `AsyncStore`, which runs `Store.claim_delivery` on the
database workers: the callee is named where it is called, with its own types.

The statements every digest makes (its claim, its plan, a part starting, a part sent, a new
digest) are the exception on PostgreSQL: single statements, awaited on the loop's own
connections (bot/store/on_loop.py), because a thread's wake-ups cost more CPU than the
statement. A `Store` subclass's override of `claim_due`, `plan_delivery`, `part_starting`,
`part_sent` and `save_digests` is reached only on the threads (SQLite, or when the loop hands
one back).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from bot.models import Digest
from bot.store.on_loop import Outcome, Rider, Statement
from bot.store.repo import (
    ON_LOOP_CLAIM_DUE,
    ON_LOOP_PART_SENT,
    ON_LOOP_PART_STARTING,
    ON_LOOP_PART_STARTING_PLANNED,
    ON_LOOP_PART_STARTING_PLANNED_RIDER,
    ON_LOOP_PART_STARTING_RIDER,
    ON_LOOP_PLAN_DELIVERY,
    ON_LOOP_SAVE_DIGESTS,
    ON_LOOP_SETTLE,
    SENT,
    Claimed,
    DeliveryInfo,
    DeliveryPlan,
    Store,
    claim_params,
    claimed_rows,
    delivery_info,
    in_utc,
    part_record,
    part_starting_params,
    plan_params,
)
from bot.workers import Workers

P = ParamSpec("P")
T = TypeVar("T")


class on_database_thread(Generic[P, T]):
    """A `Store` method exposed on `AsyncStore` as a coroutine run by the database workers."""

    def __init__(self, method: Callable[Concatenate[Store, P], T]) -> None:
        self.method = method

    @overload
    def __get__(self, owner: None, kind: type[Any]) -> on_database_thread[P, T]: ...

    @overload
    def __get__(self, owner: AsyncStore, kind: type[Any]) -> Callable[P, Awaitable[T]]: ...

    def __get__(
        self, owner: AsyncStore | None, kind: type[Any]
    ) -> on_database_thread[P, T] | Callable[P, Awaitable[T]]:
        if owner is None:
            return self
        bound: Callable[P, T] = getattr(owner.sync, self.method.__name__)  # a subclass's own
        workers = owner.workers

        async def call(*args: P.args, **kwargs: P.kwargs) -> T:
            return await workers.db(bound, *args, **kwargs)

        return call


class AsyncStore:
    """Awaitable store calls for code on the event loop (the engine, polling, the use cases)."""

    def __init__(self, store: Store, workers: Workers) -> None:
        self.sync = store
        self.workers = workers

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Several store calls as one unit of work on a database thread."""
        return await self.workers.db(fn, *args, **kwargs)

    async def set_channel_settings(self, channel_id: int, **values: Any) -> None:
        await self.workers.db(self.sync.set_channel_settings, channel_id, **values)

    # the writes every post makes: on PostgreSQL awaited on the loop (bot/store/on_loop.py),
    # else, or when that connection cannot take it, on a database thread as every other call

    async def part_starting(
        self, delivery_id: int, part: int, planned: DeliveryPlan | None = None
    ) -> None:
        """See `Store.part_starting`."""
        values = part_starting_params(delivery_id, part, planned)
        statement = ON_LOOP_PART_STARTING if planned is None else ON_LOOP_PART_STARTING_PLANNED
        if await self._on_loop(statement, values) is None:
            await self.workers.db(self.sync.part_starting, delivery_id, part, planned)

    def part_starting_rider(
        self, delivery_id: int, part: int, planned: DeliveryPlan | None = None
    ) -> Rider | None:
        """`part_starting` as one statement for a pacer to send with its permits (on
        PostgreSQL; see `start_rider` in bot/delivery/poster.py)."""
        if self.sync.on_loop is None:
            return None
        values = part_starting_params(delivery_id, part, planned)
        rider = (
            ON_LOOP_PART_STARTING_RIDER if planned is None else ON_LOOP_PART_STARTING_PLANNED_RIDER
        )
        return rider.sql, rider.params(values)

    async def plan_delivery(
        self,
        delivery_id: int,
        article_ids: list[int],
        parts_total: int,
        plan: dict[str, Any] | None = None,
    ) -> None:
        """See `Store.plan_delivery`."""
        values = plan_params(delivery_id, article_ids, parts_total, plan)
        if await self._on_loop(ON_LOOP_PLAN_DELIVERY, values) is None:
            await self.workers.db(
                self.sync.plan_delivery, delivery_id, article_ids, parts_total, plan
            )

    async def part_sent(
        self,
        delivery_id: int,
        part: int,
        message_ref: str,
        thread_ref: str | None,
        lease_until: datetime | None = None,
        finish: bool = False,
        refs: Sequence[str] | None = None,
    ) -> DeliveryInfo | None:
        """See `Store.part_sent`. With the row where the caller left it (`refs`), here: a part
        that is not the last is one UPDATE; the last settles the row and records what it
        handled, one transaction. Anything else runs on a database thread."""
        if refs is not None and self.sync.on_loop is not None:
            values = part_record(delivery_id, part, thread_ref, lease_until, refs)
            if not finish:
                done = await self._on_loop(ON_LOOP_PART_SENT, values)
                if done is not None and done.rowcount == 1:
                    return None
            else:  # the row settled, and the articles it handled recorded, in one statement
                settled = await self._on_loop(ON_LOOP_SETTLE, {**values, "sent": SENT})
                if settled is not None and settled.rows:
                    return delivery_info(_in_utc(settled.rows[0]))
        return await self.workers.db(
            self.sync.part_sent,
            delivery_id,
            part,
            message_ref,
            thread_ref,
            lease_until,
            finish=finish,
            refs=refs,
        )

    async def save_digests(self, digests: Sequence[tuple[int, Digest, str | None]]) -> None:
        """See `Store.save_digests`: (article id, digest, the digest's stored JSON text or
        None). On PostgreSQL, with every text made (by the summarize worker, which keeps the
        conversion off the loop), one statement awaited here."""
        if not digests:
            return
        if all(text is not None for _, _, text in digests):
            values = {"row_ids": [i for i, _, _ in digests], "digests": [t for _, _, t in digests]}
            if await self._on_loop(ON_LOOP_SAVE_DIGESTS, values) is not None:
                return
        await self.workers.db(self.sync.save_digests, [(i, d) for i, d, _ in digests])

    async def claim_due(
        self,
        owner: str,
        now: datetime,
        until: datetime,
        limit: int,
        platforms: Sequence[str],
        exclude: Sequence[int] = (),
    ) -> list[Claimed]:
        """See `Store.claim_due`: on PostgreSQL one statement, awaited here."""
        if limit > 0 and platforms:
            values = claim_params(owner, now, until, limit, platforms, exclude)
            done = await self._on_loop(ON_LOOP_CLAIM_DUE, values)
            if done is not None:
                return claimed_rows(_in_utc(r) for r in done.rows)
        return await self.workers.db(
            self.sync.claim_due, owner, now, until, limit, platforms, exclude
        )

    async def _on_loop(self, statement: Statement, values: dict[str, Any]) -> Outcome | None:
        on_loop = self.sync.on_loop
        if on_loop is None:
            return None
        # a caller cancelled (a replica stopping) lets its write finish, as a database
        # thread would, rather than cancel it on the server mid-statement
        return await asyncio.shield(
            on_loop.execute(statement.sql, statement.params(values), statement.named)
        )

    # channels
    channel = on_database_thread(Store.channel)
    channel_by_id = on_database_thread(Store.channel_by_id)
    channels = on_database_thread(Store.channels)
    set_schedule = on_database_thread(Store.set_schedule)
    pause_channel = on_database_thread(Store.pause_channel)
    resume_channel = on_database_thread(Store.resume_channel)
    remember_article = on_database_thread(Store.remember_article)
    last_article_id = on_database_thread(Store.last_article_id)
    channel_settings = on_database_thread(Store.channel_settings)
    first_receipt = on_database_thread(Store.first_receipt)
    # sources and subscriptions
    source = on_database_thread(Store.source)
    subscribe = on_database_thread(Store.subscribe)
    unsubscribe = on_database_thread(Store.unsubscribe)
    channel_sources = on_database_thread(Store.channel_sources)
    subscribed_channels = on_database_thread(Store.subscribed_channels)
    due_sources = on_database_thread(Store.due_sources)
    # articles and their digests
    add_article = on_database_thread(Store.add_article)
    article = on_database_thread(Store.article)
    articles = on_database_thread(Store.articles)
    cached_digest = on_database_thread(Store.cached_digest)
    article_and_digest = on_database_thread(Store.article_and_digest)
    new_articles_for = on_database_thread(Store.new_articles_for)
    delivery_inputs = on_database_thread(Store.delivery_inputs)
    delivery_inputs_many = on_database_thread(Store.delivery_inputs_many)
    # filters
    add_filter = on_database_thread(Store.add_filter)
    add_mention = on_database_thread(Store.add_mention)
    mentions = on_database_thread(Store.mentions)
    remove_mentions = on_database_thread(Store.remove_mentions)
    filters = on_database_thread(Store.filters)
    remove_filter = on_database_thread(Store.remove_filter)
    clear_filters = on_database_thread(Store.clear_filters)
    record_drops = on_database_thread(Store.record_drops)
    drop_counts = on_database_thread(Store.drop_counts)
    # deliveries
    claim_delivery = on_database_thread(Store.claim_delivery)
    add_slot_rows = on_database_thread(Store.add_slot_rows)
    delivery_by_id = on_database_thread(Store.delivery_by_id)
    delivery_by_thread = on_database_thread(Store.delivery_by_thread)
    unfinished_deliveries = on_database_thread(Store.unfinished_deliveries)
    take_lease = on_database_thread(Store.take_lease)
    release_lease = on_database_thread(Store.release_lease)
    release_leases = on_database_thread(Store.release_leases)
    release_predecessors = on_database_thread(Store.release_predecessors)
    renew_leases = on_database_thread(Store.renew_leases)
    finish_delivery = on_database_thread(Store.finish_delivery)
    delivery_attempt = on_database_thread(Store.delivery_attempt)
    set_delivery_state = on_database_thread(Store.set_delivery_state)
    last_sent_delivery = on_database_thread(Store.last_sent_delivery)


def _in_utc(row: Any) -> Any:
    """A driver's row (a named tuple) with its times in UTC, as SQLAlchemy's columns give them."""
    return row._replace(
        **{k: in_utc(v) for k, v in row._asdict().items() if isinstance(v, datetime)}
    )
