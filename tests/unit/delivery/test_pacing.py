"""Pacing: GCRA buckets per channel and overall."""

from __future__ import annotations

import asyncio
import bisect
import itertools
import statistics
import time
from collections.abc import Coroutine, Iterable
from typing import Any, cast

import pytest
from sqlalchemy import create_engine, text

from bot.delivery.pacing import (
    LEAD,
    SLACK_LIMITS,
    Gate,
    PaceLimits,
    Pacer,
    PacingHold,
    SharedPacer,
)
from bot.delivery.poster import on_request_start
from bot.store.async_store import AsyncStore
from bot.store.on_loop import OnLoop, Rider
from bot.store.pacing import Bucket, PaceTable, Permit, Permits
from bot.store.repo import DeliveryInfo, DeliveryPlan, Store
from bot.wiring import make_pacer
from bot.workers import Workers


def test_pacer_spaces_posts_to_one_channel_and_overall() -> None:
    per_second = 50.0

    clock = [0.0]
    pacer = Pacer(
        PaceLimits(1.0, 1, per_second, margin=1.0, global_margin=1.0), clock=lambda: clock[0]
    )
    same = [pacer.channels.bucket("C").reserve() for _ in range(3)]
    assert same == [0.0, 1.0, 2.0]  # one a second in one channel
    pacer.defer("C", 5.0)
    assert pacer.channels.bucket("C").reserve() >= 5.0  # Retry-After holds the channel back


def test_the_overall_gate_lets_posts_through_in_turn_an_interval_apart() -> None:
    """Overall, posts pass in the order they came, one an interval; one that gave up while
    queued (its delivery cancelled) takes no turn, and a hold moves every post still queued."""
    gate = Gate(50.0)
    passed: list[tuple[int, float]] = []

    async def post(n: int) -> None:
        await gate.wait()
        passed.append((n, time.monotonic()))

    async def rush() -> None:
        posts = [asyncio.ensure_future(post(n)) for n in range(6)]
        await asyncio.sleep(0)
        posts[2].cancel()
        gate.hold_until(time.monotonic() + 0.2)  # a Retry-After while four still queue
        await asyncio.gather(*posts, return_exceptions=True)

    started = time.monotonic()
    asyncio.run(rush())
    assert [n for n, _ in passed] == [0, 1, 3, 4, 5]
    assert passed[0][1] - started < 0.2 <= passed[1][1] - started  # the first before the hold
    assert passed[-1][1] - started >= 0.2 + 3 * gate.interval  # an interval a turn after it


def test_a_gate_with_a_burst_gives_its_turns_together_and_keeps_the_rate() -> None:
    """With `burst` 3, a queue passes three posts a turn (one timer, one wake-up, for three)
    and is no faster for it: twelve posts span at least nine intervals, less the lateness a
    turn is forgiven. A hold still holds every post to its end."""
    gate = Gate(50.0, burst=3)
    passed: list[float] = []

    async def post() -> None:
        await gate.wait()
        passed.append(time.monotonic())

    async def rush() -> float:
        hold_ends = time.monotonic() + 0.1
        gate.hold_until(hold_ends)
        await asyncio.gather(*(post() for _ in range(12)))
        return hold_ends

    hold_ends = asyncio.run(rush())
    assert passed[0] >= hold_ends
    turns = [1]
    for before, after in itertools.pairwise(passed):
        if after - before < gate.interval:  # a turn's posts pass together, turns 3 apart
            turns[-1] += 1
        else:
            turns.append(1)
    assert turns == [3, 3, 3, 3]
    assert passed[-1] - passed[0] >= (12 - 3) * gate.interval * (1 - LEAD)


def test_a_second_holds_at_most_the_rate_and_a_burst() -> None:
    assert SLACK_LIMITS.per_second == 92 + 3  # 100 a second at 0.92, turns of four
    assert PaceLimits(1.0, 1, 50.0).per_second == 46


def test_a_shared_post_that_waits_wakes_with_the_rest_of_its_turn() -> None:
    """A shared slot further off is slept to the next multiple of a turn's length, so that
    the posts of one turn, whose slots follow one another, wake once together."""
    now = 1000.0037
    table = cast(PaceTable, None)  # not used
    pacer = SharedPacer(SLACK_LIMITS, table, asyncio.to_thread, "slack", clock=lambda: now)
    turn = SLACK_LIMITS.global_burst * pacer.overall.interval
    for wait in (0.001, 0.013, turn, 0.5):
        slept = pacer._with_turn(wait)
        assert wait <= slept < wait + turn + 1e-9
        assert (now + slept) / turn == pytest.approx(round((now + slept) / turn), abs=1e-3)


def test_a_channels_retry_after_is_slept_even_when_the_overall_queue_is_longer() -> None:
    """A post's channel wait is usually left to the overall queue when that is longer; a
    channel held by a Retry-After is slept to its end instead: the queue's turns can come a
    little sooner than it estimated (a late turn's lateness is forgiven), and a Retry-After
    is kept exactly."""
    pacer = Pacer(PaceLimits(1.0, 1, 50.0, margin=1.0, global_margin=1.0))

    async def main() -> None:
        pacer.overall.hold_until(time.monotonic() + 10.0)  # ten seconds of posts queued
        pacer.defer("C", 0.05)
        slot = asyncio.ensure_future(pacer._channel_slot("C"))
        await asyncio.sleep(0)
        assert not slot.done()  # sleeping the Retry-After, not left to the queue
        await slot
        free = asyncio.ensure_future(pacer._channel_slot("D"))  # no Retry-After: not slept
        await asyncio.sleep(0)
        assert free.done()

    asyncio.run(main())


def test_a_long_hold_fails_the_posts_it_finds_queued_instead_of_keeping_them() -> None:
    """A Retry-After longer than a sender waits in place, coming while posts queue, fails
    them as held (the engine schedules each one) rather than sleeping with their leases."""
    gate = Gate(50.0)

    async def queue_then_hold() -> list[BaseException | None]:
        gate.hold_until(time.monotonic() + 0.05)  # a short hold: three posts queue behind it
        posts = [asyncio.ensure_future(gate.wait(max_wait=60.0)) for _ in range(3)]
        await asyncio.sleep(0)
        gate.defer(300.0)  # then the platform asks for five minutes
        return list(await asyncio.gather(*posts, return_exceptions=True))

    held = asyncio.run(queue_then_hold())
    assert all(isinstance(e, PacingHold) and e.retry_after >= 299.0 for e in held)
    assert gate.pending() >= 299.0  # and the hold stands for the posts to come


def test_a_long_hold_is_not_slept_and_takes_no_slot() -> None:
    """A Retry-After longer than a sender waits in place fails the post as rate-limited
    (the engine schedules it) instead of sleeping with the delivery's lease."""
    clock = [0.0]
    pacer = Pacer(
        PaceLimits(1.0, 1, 50.0, margin=1.0, global_margin=1.0),
        clock=lambda: clock[0],
        max_wait=60.0,
    )
    pacer.defer_overall(300.0)
    with pytest.raises(PacingHold) as raised:
        asyncio.run(pacer.wait("C"))
    assert raised.value.retry_after == pytest.approx(300.0) and not raised.value.permanent
    clock[0] = 300.0  # the hold is over: the next post goes at once, nothing queued meanwhile
    assert pacer.overall.pending() == 0.0


def test_a_channels_next_post_is_spaced_from_when_the_last_one_left() -> None:
    """A post that queued behind others for the overall limit leaves later than its channel
    slot: the platform counts the channel's spacing from the post, so the pacer does too."""
    pacer = Pacer(PaceLimits(1.0, 1, 50.0, margin=1.0, global_margin=1.0))
    pacer.defer_overall(0.3)  # the overall queue ahead of this post
    asyncio.run(pacer.wait("C"))  # its channel slot was free when it joined
    assert pacer.channels.bucket("C").pending() > 0.9  # a second from leaving, not joining


# Shared pacing: real PostgreSQL, the permits' instants as the database computed them.


class RecordingTable(PaceTable):
    """The real table; it also keeps the permits it handed out, for the assertions. With
    `on_loop`, a post's two permits are taken in one statement awaited on the loop (each
    table its own connections, as separate processes have); else one by one on threads."""

    def __init__(self, store: Store, on_loop: bool = False) -> None:
        super().__init__(store.engine, OnLoop(store.engine) if on_loop else None)
        self.permits: list[tuple[str, Permit]] = []
        self.both = 0  # posts whose two permits came in one statement

    def reserve(self, key: str, interval: float, tolerance: float, max_wait: float) -> Permit:
        permit = super().reserve(key, interval, tolerance, max_wait)
        self.permits.append((key, permit))
        return permit

    async def reserve_on_loop(
        self, key: str, interval: float, tolerance: float, max_wait: float
    ) -> Permit | None:
        permit = await super().reserve_on_loop(key, interval, tolerance, max_wait)
        if permit is not None:
            self.permits.append((key, permit))
        return permit

    async def reserve_both_on_loop(
        self, channel: Bucket, overall: Bucket, max_wait: float, rider: Rider | None = None
    ) -> Permits | None:
        both = await super().reserve_both_on_loop(channel, overall, max_wait, rider)
        if both is not None:
            self.both += 1
            self.permits.append((channel.key, both.channel))
            if both.overall is not None:  # not taken: the caller takes it after its wait
                self.permits.append((overall.key, both.overall))
        return both


def postgresql_only(store: Store) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("replicas share pacing through PostgreSQL")


@pytest.fixture(params=["threads", "loop"])
def path(request: pytest.FixtureRequest) -> str:
    """How the permits are taken: one by one on threads, or both at once on the loop."""
    return str(request.param)


def replicas(store: Store, limits: PaceLimits, n: int, path: str) -> list[SharedPacer]:
    """`n` replicas' pacers: each its own connection pool, as separate processes have."""
    return [
        SharedPacer(limits, RecordingTable(store, path == "loop"), asyncio.to_thread, "slack")
        for _ in range(n)
    ]


def close(pacers: list[SharedPacer]) -> None:
    for pacer in pacers:
        pacer.table.close()
        if pacer.table.on_loop is not None:
            pacer.table.on_loop.close()


def granted(pacers: list[SharedPacer], key: str) -> list[float]:
    return sorted(
        p.at
        for pacer in pacers
        for k, p in cast(RecordingTable, pacer.table).permits
        if k == key and p.taken
    )


def most_in_one_second(instants: list[float]) -> int:
    return max(bisect.bisect_left(instants, t + 1.0) - n for n, t in enumerate(instants))


@pytest.mark.parametrize("burst", [1, 4])
def test_three_replicas_keep_to_the_overall_rate_together(
    store: Store, path: str, burst: int
) -> None:
    """Their permits' instants, as the database computed them, are an interval apart or
    more: with turns of four too, which only let a replica's posts leave together."""
    postgresql_only(store)
    limits = PaceLimits(
        per_channel_rate=1000.0, per_channel_burst=1, global_rate=200.0, global_burst=burst
    )
    pacers = replicas(store, limits, 3, path)

    async def replica(pacer: SharedPacer, r: int) -> None:
        # each replica alone may post at the full rate: together they would post at 3×
        await asyncio.gather(*(pacer.wait(f"C{r}-{n}") for n in range(60)))

    asyncio.run(_all(replica(p, r) for r, p in enumerate(pacers)))
    overall = granted(pacers, "slack:*")
    assert len(overall) == 180
    interval = 1 / (limits.global_rate * limits.global_margin)
    gaps = [b - a for a, b in itertools.pairwise(overall)]
    assert min(gaps) >= interval - 1e-6  # never two permits closer than the rate allows
    assert most_in_one_second(overall) <= limits.global_rate
    for pacer in pacers:  # every replica got its share, interleaved with the others'
        table = cast(RecordingTable, pacer.table)
        assert len(table.permits) >= 120
        assert table.both == (0 if path == "threads" else 60)
    close(pacers)


def test_replicas_posting_to_one_channel_keep_to_its_rate(store: Store, path: str) -> None:
    postgresql_only(store)
    limits = PaceLimits(per_channel_rate=25.0, per_channel_burst=1, global_rate=1000.0)
    pacers = replicas(store, limits, 2, path)
    asyncio.run(_all(pacer.wait("C1") for pacer in pacers for _ in range(5)))
    channel = granted(pacers, "slack:C1")
    assert len(channel) == 10
    gaps = [b - a for a, b in itertools.pairwise(channel)]
    assert min(gaps) >= 1 / (limits.per_channel_rate * limits.margin) - 1e-6
    # one overall slot a post, however they were taken: none reserved and left unused while
    # a post waited for the channel
    overall = granted(pacers, "slack:*")
    assert len(overall) == 10 and min(b - a for a, b in itertools.pairwise(overall)) > 0
    close(pacers)


def test_a_retry_after_seen_by_one_replica_holds_back_the_other(store: Store, path: str) -> None:
    postgresql_only(store)
    first, second = replicas(store, SLACK_LIMITS, 2, path)

    async def main() -> float:
        first.defer("C1", 120.0)  # Slack: chat.postMessage's limit is per channel
        first.defer_overall(0.2)  # Discord's global limit, a ban: the whole token
        await first.settle()
        # the row holds the end plus the tolerance: a turn of several may start that early
        hold_ends = bucket_tat(store, "slack:*") - first.overall.tolerance
        with pytest.raises(PacingHold) as raised:
            await second.wait("C1")
        assert 100.0 < raised.value.retry_after <= 120.0
        await second.wait("C2")  # another channel: only the short overall hold applies
        with pytest.raises(PacingHold):  # the replica that saw the 429 knew it at once
            await first.wait("C1")
        return hold_ends

    hold_ends = asyncio.run(main())
    [c2] = [p for k, p in cast(RecordingTable, second.table).permits if k == "slack:*"]
    assert c2.at >= hold_ends  # the other replica's post waited for the end of the hold
    close([first, second])


def bucket_tat(store: Store, key: str) -> float:
    with store.engine.connect() as conn:
        tat = conn.execute(text("SELECT tat FROM pace_buckets WHERE key = :k"), {"k": key})
        return float(tat.scalar_one())


def test_sqlite_paces_in_process_and_postgresql_shares(store: Store) -> None:
    pacer = make_pacer(store, asyncio.to_thread, SLACK_LIMITS, "slack")
    if store.engine.dialect.name == "sqlite":
        assert type(pacer) is Pacer  # one process: nothing to share
    else:
        assert isinstance(pacer, SharedPacer)
        pacer.table.close()
    assert type(make_pacer(store, asyncio.to_thread, SLACK_LIMITS, "slack", False)) is Pacer


def test_posts_go_on_locally_paced_when_the_database_is_away(store: Store) -> None:
    postgresql_only(store)
    table = PaceTable(store.engine)
    table.engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:9/none")  # refused
    # the pacer's clock stands still: however long the refused connections take on a busy
    # machine, the next local slot is a whole interval away only if this post took one
    pacer = SharedPacer(SLACK_LIMITS, table, asyncio.to_thread, "slack", clock=lambda: 1000.0)
    asyncio.run(pacer.wait("C1"))  # the local bucket alone: no exception, no post lost
    assert pacer.channels.bucket("C1").reserve() > 0.5


def test_idle_buckets_are_pruned(store: Store) -> None:
    postgresql_only(store)
    table = PaceTable(store.engine)
    table.reserve("slack:C1", 1.0, 0.0, 60.0)
    table.reserve("slack:*", 0.01, 0.0, 60.0)
    assert table.prune(3600.0) == 0  # just used
    assert table.prune(-3600.0) == 2  # as if an hour had passed
    table.close()


async def _all(work: Iterable[Coroutine[Any, Any, None]]) -> None:
    await asyncio.gather(*work)


def _one_replica_with_a_delivery(store: Store) -> tuple[SharedPacer, AsyncStore, DeliveryInfo]:
    """A replica's pacer taking both permits on the loop, its store, and a delivery to mark."""
    postgresql_only(store)
    [pacer] = replicas(store, SLACK_LIMITS, 1, "loop")
    async_store = AsyncStore(store, Workers(summarize=1, database=1))
    channel = store.channel("slack", "C1")
    assert channel is not None
    delivery = store.claim_delivery(channel.id, "2026-05-01T07:00")
    assert delivery is not None
    return pacer, async_store, delivery


def test_the_part_mark_rides_with_the_permits_only_when_nothing_is_left_to_wait(
    store: Store,
) -> None:
    """The "request starting" mark goes in the permits' statement when both slots are due at
    once; when the overall slot is further off (another replica's posts ahead), it is made
    by the hook after the wait, as without a rider, so it never precedes a real wait."""
    pacer, async_store, delivery = _one_replica_with_a_delivery(store)
    hooked: list[float] = []

    # the first part's mark carries the delivery's plan, as the engine stores it
    planned = DeliveryPlan([7, 8], 2, {"stories": [[7], [8]]})

    async def post(part: int) -> None:
        plan = planned if part == 0 else None

        async def hook() -> None:
            hooked.append(time.monotonic())
            await async_store.part_starting(delivery.id, part, plan)

        with on_request_start(hook, async_store.part_starting_rider(delivery.id, part, plan)):
            await pacer.wait(f"C{part}")

    async def main() -> tuple[int | None, float]:
        await post(0)  # nothing ahead: the mark rode with the permits, and the plan with it
        marked = store.delivery_by_id(delivery.id)
        assert marked is not None and not hooked
        assert (marked.article_ids, marked.parts_total, marked.plan) == ([7, 8], 2, planned.plan)
        pacer.table.hold("slack:*", 0.3, 0.0)  # another replica's posts fill the next 0.3 s
        started = time.monotonic()
        await post(1)
        return (marked.part_in_flight if marked else None), started

    first_mark, started = asyncio.run(main())
    assert first_mark == 0
    assert len(hooked) == 1 and hooked[0] - started >= 0.25  # made after the wait, by the hook
    row = store.delivery_by_id(delivery.id)
    assert row is not None and row.part_in_flight == 1
    assert cast(RecordingTable, pacer.table).both == 2
    close([pacer])
    async_store.workers.close()


def test_a_delivery_row_held_elsewhere_never_holds_up_the_permits(store: Store) -> None:
    """The permits' statement holds the overall bucket's row, which every replica's posts
    wait on: the riding mark skips a delivery row another transaction holds (the hook marks
    it after the wait instead), so that transaction never holds up anyone's permits."""
    pacer, async_store, delivery = _one_replica_with_a_delivery(store)
    hooked: list[int] = []

    async def hook() -> None:
        hooked.append(1)

    async def main() -> None:
        rider = async_store.part_starting_rider(delivery.id, 0)
        with on_request_start(hook, rider):
            await asyncio.wait_for(pacer.wait("C1"), 5)  # not stuck behind the lock

    with store.engine.connect() as holder:  # another transaction holds the delivery's row
        holder.execute(
            text("SELECT id FROM deliveries WHERE id = :d FOR UPDATE"), {"d": delivery.id}
        )
        asyncio.run(main())
        holder.rollback()
    assert hooked == [1]  # the mark was left to the hook
    assert cast(RecordingTable, pacer.table).both == 1
    row = store.delivery_by_id(delivery.id)
    assert row is not None and row.part_in_flight is None  # the rider made nothing
    close([pacer])
    async_store.workers.close()


def test_queued_posts_follow_the_shared_row_and_find_their_slots_due(store: Store) -> None:
    """Posts queued in a replica learn their turn from the shared row, not from when they
    joined: when the row is further on (a stalled statement left it so), the first post
    finds out and the rest are let through at their shared slots, so none waits there a
    second time and each one's "request starting" mark can ride with its permits."""
    postgresql_only(store)
    limits = PaceLimits(per_channel_rate=1000.0, per_channel_burst=1, global_rate=100.0)
    [pacer] = replicas(store, limits, 1, "loop")
    table = cast(RecordingTable, pacer.table)
    table.hold("slack:*", 0.3, 0.0)  # the shared row 0.3 s on

    async def rush() -> None:
        await asyncio.gather(*(pacer.wait(f"C{n}") for n in range(12)))

    asyncio.run(rush())
    waits = [permit.wait for key, permit in table.permits if key == "slack:*"]
    assert len(waits) == 12 and waits[0] > 0.15  # the first learnt how far on the row was
    # each post it queued: about 0.3 s at the shared row before (its instant fixed as it
    # joined), now a quarter interval
    assert statistics.median(waits[1:]) < 0.15
    table.close()


def test_a_channel_still_to_wait_takes_no_overall_slot(store: Store) -> None:
    """A slot reserved overall and then left unused while the channel's wait is slept is lost
    to every replica; the statement leaves the overall row alone until the channel is due."""
    postgresql_only(store)
    table = PaceTable(store.engine, OnLoop(store.engine))
    channel = Bucket("slack:C1", 1.0, 0.0)
    overall = Bucket("slack:*", 0.01, 0.0)

    async def both() -> Permits | None:
        return await table.reserve_both_on_loop(channel, overall, 30.0)

    first = asyncio.run(both())  # the channel's first post: both slots taken
    assert first is not None and first.overall is not None and first.channel.wait == 0.0
    second = asyncio.run(both())  # the channel's next slot is a second off
    assert second is not None and second.overall is None
    assert 0.9 < second.channel.wait <= 1.0  # the channel's slot is taken all the same
    # the overall bucket moved on by the first post only: its next slot is (nearly) now
    assert table.reserve("slack:*", 0.01, 0.0, 30.0).wait < 0.01
    assert table.on_loop is not None
    table.on_loop.close()
    table.close()
