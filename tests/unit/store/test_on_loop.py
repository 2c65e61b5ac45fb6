"""The writes every post makes, awaited on the event loop on PostgreSQL (bot/store/on_loop.py):
they write what the database threads write, and a connection that cannot take a statement
hands it back to the threads instead of failing the post."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, make_url, text

from bot.digest.sections import build_article
from bot.ingest.plaintext import parse_plaintext
from bot.store.async_store import AsyncStore
from bot.store.on_loop import OnLoop, Outcome, asyncpg_dsn, positional
from bot.store.pacing import PaceTable, Permit
from bot.store.repo import (
    ON_LOOP_CLAIM_DUE,
    ON_LOOP_PART_SENT,
    ON_LOOP_SETTLE,
    DeliveryPlan,
    Store,
    handled_articles,
)
from bot.workers import Workers

NOW = datetime(2026, 5, 1, 7, tzinfo=UTC)


class ThreadNoting(Store):
    """Notes which of the three writes reached the database threads."""

    on_threads: list[str]

    def part_starting(
        self, delivery_id: int, part: int, planned: DeliveryPlan | None = None
    ) -> None:
        self.on_threads.append(f"part_starting on {threading.current_thread().name}")
        super().part_starting(delivery_id, part, planned)

    def plan_delivery(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.on_threads.append("plan_delivery")
        return super().plan_delivery(*args, **kwargs)

    def part_sent(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.on_threads.append("part_sent")
        return super().part_sent(*args, **kwargs)


def _articles(store: Store, count: int) -> list[int]:
    """`count` stored articles from one feed, their ids."""
    source = store.source("path:/feed")
    return [
        store.add_article(
            source.id,
            build_article(parse_plaintext(f"Story {n}\n\nThe council met again.\n", f"s{n}")),
            [f"k{n}"],
            f"h{n}",
            NOW,
        )[0]
        for n in range(count)
    ]


def _post_a_digest(store: Store) -> tuple[list[str], object, list[int]]:
    """Start (the first with the plan) and record both parts of a two-part digest, as the
    engine does."""
    noting = ThreadNoting(store.engine)
    noting.on_threads = []
    workers = Workers(summarize=1, database=2)
    async_store = AsyncStore(noting, workers)
    channel = store.channel("slack", "C1")
    ids = _articles(store, 2)
    delivery = store.claim_delivery(
        channel.id, "2026-05-01T07:00", now=NOW, lease_owner="me", lease_until=NOW
    )
    assert delivery is not None
    until = NOW + timedelta(seconds=12)

    async def main() -> object:
        # the plan rides with the first part's mark, as the engine stores it
        planned = DeliveryPlan(ids, 2, {"stories": [ids[:1], ids[1:]]})
        await async_store.part_starting(delivery.id, 0, planned)
        mid = store.delivery_by_id(delivery.id)
        assert mid is not None and mid.part_in_flight == 0 and mid.parts_total == 2
        await async_store.part_sent(delivery.id, 0, "m1", "t1", until, refs=["m1"])
        await async_store.part_starting(delivery.id, 1)
        return await async_store.part_sent(
            delivery.id, 1, "m2", "t1", until, finish=True, refs=["m1", "m2"]
        )

    try:
        final = asyncio.run(main())
    finally:
        workers.close()
    return noting.on_threads, final, ids


def test_a_posts_writes_land_alike_on_either_backend(store: Store) -> None:
    on_threads, final, ids = _post_a_digest(store)
    [row] = store.deliveries()
    assert (row.state, row.parts_sent, row.message_refs, row.thread_ref) == (
        "sent",
        2,
        ["m1", "m2"],
        "t1",
    )
    assert row.article_ids == ids and row.plan == {"stories": [ids[:1], ids[1:]]}
    assert row.part_in_flight is None and row.lease_owner is None
    assert getattr(final, "state", None) == "sent"
    if store.on_loop is None:  # SQLite: every write on a database thread, as before
        assert on_threads.count("part_sent") == 2
        assert sum(note.startswith("part_starting") for note in on_threads) == 2
    else:  # PostgreSQL: none of them (the last part's transaction too)
        assert on_threads == []
    # the articles it handled are never offered to the channel again
    with store.engine.connect() as conn:
        handled = conn.execute(
            text("SELECT channel_id, article_id FROM delivered_articles WHERE delivery_id = :d"),
            {"d": row.id},
        ).all()
    assert sorted(handled) == [(row.channel_id, i) for i in sorted(ids)]


def test_placeholders_are_numbered_once_per_name() -> None:
    sql = "SELECT %(a)s + %(b)s, %(a)s || '%%', %(c_1)s"
    assert positional(sql) == ("SELECT $1 + $2, $1 || '%', $3", ("a", "b", "c_1"))
    assert positional("SELECT 1") == ("SELECT 1", ())


def test_the_loops_connections_keep_the_urls_server_and_tls_but_not_libpqs_own_tuning() -> None:
    """asyncpg would send an option it does not know to the server as a setting, and the
    server would refuse every connection of the pool: the statements would all go to the
    threads, quietly."""
    url = make_url(
        "postgresql+psycopg://bot:s%40cret@db.internal:6432/news"
        "?sslmode=verify-full&connect_timeout=5&keepalives=1&application_name=nd"
    )
    assert asyncpg_dsn(url) == (
        "postgresql://bot:s%40cret@db.internal:6432/news?application_name=nd&sslmode=verify-full"
    )


def _postgres(store: Store) -> OnLoop:
    if store.on_loop is None:
        pytest.skip("statements on the loop are for PostgreSQL")
    return store.on_loop


def test_a_connection_the_server_dropped_hands_the_statement_to_the_threads(
    store: Store,
) -> None:
    on_loop = _postgres(store)

    async def main() -> list[object]:
        first = await on_loop.execute("SELECT pg_backend_pid()", {})
        assert first is not None
        [(pid,)] = first.rows
        with store.engine.connect() as conn:  # as a server restart does to every connection
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        dropped = await on_loop.execute("SELECT 1", {})
        resting = await on_loop.execute("SELECT 1", {})
        on_loop._resting_until = 0.0  # the back-off is over
        return [dropped, resting, await on_loop.execute("SELECT 1", {})]

    dropped, resting, back = asyncio.run(main())
    assert dropped is None and resting is None
    assert back is not None and back.rows == [(1,)]
    on_loop.close()


def test_rows_are_tuples_unless_read_by_name(store: Store) -> None:
    on_loop = _postgres(store)

    async def main() -> tuple[Outcome | None, Outcome | None]:
        sql = "SELECT %(n)s::int AS n, 'x' AS letter"
        return await on_loop.execute(sql, {"n": 7}), await on_loop.execute(sql, {"n": 8}, True)

    plain, named = asyncio.run(main())
    assert plain is not None and plain.rows == [(7, "x")] and type(plain.rows[0]) is tuple
    assert named is not None and (named.rows[0].n, named.rows[0].letter) == (8, "x")
    # the store's statements that return rows are read by name, the others need not be
    assert [s.named for s in (ON_LOOP_CLAIM_DUE, ON_LOOP_SETTLE, ON_LOOP_PART_SENT)] == [
        True,
        True,
        False,
    ]
    on_loop.close()


def test_with_every_connection_busy_a_statement_waits_for_one(store: Store) -> None:
    on_loop = _postgres(store)
    on_loop.size = 2

    async def main() -> list[Outcome | None]:
        return list(
            await asyncio.gather(
                *(on_loop.execute("SELECT pg_backend_pid()", {}) for _ in range(2)),
                *(on_loop.execute("SELECT pg_sleep(0.1), pg_backend_pid()", {}) for _ in range(3)),
            )
        )

    outcomes = asyncio.run(main())
    assert all(o is not None for o in outcomes)  # every one ran here, none on the threads
    backends = {o.rows[0][-1] for o in outcomes if o is not None}
    assert len(backends) == 2 and len(on_loop._idle) == 2  # on the pool's two connections
    on_loop.close()


def test_a_waiter_cancelled_passes_its_place_on(store: Store) -> None:
    on_loop = _postgres(store)
    on_loop.size = 1

    async def main() -> Outcome | None:
        held = asyncio.ensure_future(on_loop.execute("SELECT pg_sleep(0.1)", {}))
        await asyncio.sleep(0)  # it holds the one connection
        given_up = asyncio.ensure_future(on_loop.execute("SELECT 1", {}))
        await asyncio.sleep(0.01)
        given_up.cancel()
        await held
        return await asyncio.wait_for(on_loop.execute("SELECT 2", {}), 5)

    done = asyncio.run(main())
    assert done is not None and done.rows == [(2,)]
    assert on_loop._busy == 0 and len(on_loop._idle) == 1
    on_loop.close()


def test_a_new_event_loop_gets_connections_of_its_own(store: Store) -> None:
    on_loop = _postgres(store)

    async def backend() -> int:
        done = await on_loop.execute("SELECT pg_backend_pid()", {})
        assert done is not None
        return int(done.rows[0][0])

    first = asyncio.run(backend())
    second = asyncio.run(backend())
    assert first != second  # the first loop's connection was dropped, not reused
    on_loop.close()


def test_a_pacing_permit_taken_on_the_loop_is_the_same_as_on_a_thread(store: Store) -> None:
    on_loop = _postgres(store)
    table = PaceTable(store.engine, on_loop)

    async def on_the_loop() -> Permit | None:
        return await table.reserve_on_loop("slack:C1", 1.0, 0.0, 30.0)

    first = asyncio.run(on_the_loop())
    second = table.reserve("slack:C1", 1.0, 0.0, 30.0)
    assert first is not None and first.wait == 0.0
    assert 0.9 < second.at - first.at < 1.1  # one interval after it, in the same bucket
    table.hold("slack:C1", 60.0, 0.0)
    held = asyncio.run(on_the_loop())
    assert held is None  # held longer than a caller waits: `reserve` says for how long
    assert not table.reserve("slack:C1", 1.0, 0.0, 30.0).taken
    table.close()
    on_loop.close()


@pytest.mark.parametrize(
    "shape",
    [
        {"stories": [[0], [1, 2]], "dropped": [3]},  # shown, told by others, filtered out
        {"stories": [[0, 1]]},
        {"dropped": [2, 3]},
        {},
        None,
    ],
)
def test_a_settled_delivery_records_what_it_handled_on_either_path(
    store: Store, shape: dict[str, list[object]] | None
) -> None:
    """The last part's one statement on the loop reads the handled articles from the row as
    `handled_articles` does on the threads."""
    channel = store.channel("slack", "C1")
    ids = _articles(store, 4)

    def real(value: object) -> object:  # the shape's indexes as the articles' ids
        return [real(v) for v in value] if isinstance(value, list) else ids[int(str(value))]

    plan = None if shape is None else {k: real(v) for k, v in shape.items()}
    shown = [ids[0]] if shape else []
    delivery = store.claim_delivery(channel.id, "2026-05-01T07:00", now=NOW, lease_owner="me")
    assert delivery is not None
    workers = Workers(summarize=1, database=1)
    async_store = AsyncStore(store, workers)

    async def main() -> None:
        await async_store.plan_delivery(delivery.id, shown, 1, plan)
        await async_store.part_sent(delivery.id, 0, "m1", None, finish=True, refs=["m1"])

    try:
        asyncio.run(main())
    finally:
        workers.close()
    with store.engine.connect() as conn:
        recorded = conn.scalars(
            text("SELECT article_id FROM delivered_articles WHERE delivery_id = :d"),
            {"d": delivery.id},
        ).all()
    assert sorted(recorded) == sorted(handled_articles(shown, plan))
    assert store.deliveries()[0].state == "sent"


def test_a_server_that_refuses_gives_every_place_back() -> None:
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:9/none")  # refused
    on_loop = OnLoop(engine, size=2)

    async def main() -> list[Outcome | None]:
        return list(await asyncio.gather(*(on_loop.execute("SELECT 1", {}) for _ in range(5))))

    assert asyncio.run(main()) == [None] * 5  # each to the threads, none left waiting
    assert on_loop._busy == 0 and not on_loop._waiters and not on_loop._idle
    engine.dispose()


def test_a_statements_own_error_is_raised_and_its_connection_kept(store: Store) -> None:
    on_loop = _postgres(store)
    on_loop.size = 1

    async def main() -> tuple[BaseException | None, Outcome | None, Outcome | None]:
        before = await on_loop.execute("SELECT pg_backend_pid()", {})
        try:
            await on_loop.execute("SELECT 1 / %(zero)s::int", {"zero": 0})
        except Exception as exc:  # the statement's own: not handed to the threads
            raised: BaseException | None = exc
        else:
            raised = None
        return raised, before, await on_loop.execute("SELECT pg_backend_pid()", {})

    raised, before, after = asyncio.run(main())
    assert raised is not None and "division by zero" in str(raised)
    assert before is not None and after is not None and before.rows == after.rows
    on_loop.close()


def test_a_url_with_libpqs_own_options_still_gets_connections_on_the_loop(store: Store) -> None:
    _postgres(store)
    url = store.engine.url.update_query_dict({"connect_timeout": "5", "keepalives": "1"})
    engine = create_engine(url)
    on_loop = OnLoop(engine)

    async def main() -> Outcome | None:
        return await on_loop.execute("SELECT 1", {})

    done = asyncio.run(main())
    assert done is not None and done.rows == [(1,)]  # ran here, not handed to the threads
    on_loop.close()
    engine.dispose()
