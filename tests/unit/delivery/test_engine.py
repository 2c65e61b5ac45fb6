"""The delivery engine on real SQLite and PostgreSQL: one post per (channel, slot), whatever happens."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.recording_poster import Crash, RecordingPoster
from support.seeding import seed_channel

from bot.delivery.engine import Deliverer
from bot.delivery.poster import PostError
from bot.store.repo import ChannelInfo, Store
from bot.summarize.extractive import ExtractiveSummarizer
from bot.wiring import delivery_engine

NY_0130 = "daily 01:30 America/New_York"


def article(n: int) -> str:
    return (
        f"Story number {n} makes the news\n\nThe town council met for the {n}th time this year to "
        f"discuss the budget. Members agreed on a plan worth {n} million dollars after a long debate. "
        f"Residents will vote on the plan next month at the town hall.\n"
    )


def seed(
    store: Store,
    tmp_path: Path,
    articles: int = 3,
    schedule: str = "daily 08:00 UTC",
    since: datetime | None = None,
) -> ChannelInfo:
    return seed_channel(
        store,
        tmp_path / "feed",
        (article(n) for n in range(articles)),
        schedule=schedule,
        since=since,
    )


def deliverer(store: Store, poster: RecordingPoster, **kw: object) -> Deliverer:
    return delivery_engine(store, ExtractiveSummarizer(), {"test": poster}, **kw)  # type: ignore[arg-type]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_one_post_per_slot_and_summarized_once(store: Store, tmp_path: Path) -> None:
    seed(store, tmp_path, since=at("2024-05-01T00:00"))
    poster = RecordingPoster()
    engine = deliverer(store, poster, lookback=timedelta(days=3650))
    now = at("2024-05-01T08:00:30")
    asyncio.run(engine.tick(now))
    asyncio.run(engine.tick(now + timedelta(seconds=30)))
    assert len({p.key.split("p")[0] for p in poster.posts}) == 1
    assert len(poster.posts) == 4  # top message + 3 articles
    assert engine.digests.summarized == 3
    [delivery] = store.deliveries()
    assert delivery.state == "sent" and delivery.parts_sent == 4


def test_crash_between_post_and_record_does_not_repost(store: Store, tmp_path: Path) -> None:
    seed(store, tmp_path, since=at("2024-05-01T00:00"))
    poster = RecordingPoster(crash_after_post={1})
    now = at("2024-05-01T08:00:30")
    with pytest.raises(Crash):
        asyncio.run(deliverer(store, poster, lookback=timedelta(days=3650)).tick(now))
    assert len(poster.posts) == 1
    asyncio.run(  # restarted after the crashed sender's lease has lapsed
        deliverer(store, poster, lookback=timedelta(days=3650)).tick(now + timedelta(minutes=2))
    )
    assert [p.key for p in poster.posts] == [f"nd1p{i}" for i in range(4)]
    assert store.deliveries()[0].state == "sent"
    assert poster.finds == 1  # one lookup: the part that was out without its record


def test_a_delivery_claimed_but_never_planned_is_sent_without_lookups(
    store: Store, tmp_path: Path
) -> None:
    channel = seed(store, tmp_path, since=at("2024-05-01T00:00"))
    now = at("2024-05-01T08:00:30")
    claimed = store.claim_delivery(  # by a replica killed before it planned anything
        channel.id,
        "2024-05-01T08:00",
        now=now,
        lease_owner="killed",
        lease_until=now + timedelta(seconds=30),
    )
    assert claimed is not None and not claimed.article_ids
    poster = RecordingPoster()
    asyncio.run(
        deliverer(store, poster, lookback=timedelta(days=3650)).tick(now + timedelta(minutes=2))
    )
    assert [p.key for p in poster.posts] == [f"nd{claimed.id}p{i}" for i in range(4)]
    assert poster.finds == 0  # nothing can have been sent: the platform is not asked


def test_crash_after_part_two_resumes_in_the_same_thread(store: Store, tmp_path: Path) -> None:
    seed(store, tmp_path, since=at("2024-05-01T00:00"))
    poster = RecordingPoster(crash_before_post={3})
    now = at("2024-05-01T08:00:30")
    with pytest.raises(Crash):
        asyncio.run(deliverer(store, poster, lookback=timedelta(days=3650)).tick(now))
    assert len(poster.posts) == 2
    asyncio.run(  # restarted after the crashed sender's lease has lapsed
        deliverer(store, poster, lookback=timedelta(days=3650)).tick(now + timedelta(minutes=2))
    )
    assert len(poster.posts) == 4
    assert {p.thread for p in poster.posts[1:]} == {"m1"}


@pytest.mark.parametrize("late, posts", [(timedelta(minutes=30), 4), (timedelta(hours=5), 0)])
def test_crash_before_post_within_and_after_grace(
    store: Store, tmp_path: Path, late: timedelta, posts: int, caplog: pytest.LogCaptureFixture
) -> None:
    seed(store, tmp_path, since=at("2024-05-01T00:00"))
    poster = RecordingPoster(crash_before_post={1})
    now = at("2024-05-01T08:00:30")
    with pytest.raises(Crash):
        asyncio.run(deliverer(store, poster, lookback=timedelta(days=3650)).tick(now))
    with store.engine.begin() as conn:
        from sqlalchemy import text

        conn.execute(text("UPDATE deliveries SET created_at = :c"), {"c": now})
    with caplog.at_level(logging.INFO):
        asyncio.run(deliverer(store, poster, lookback=timedelta(days=3650)).tick(now + late))
    assert len(poster.posts) == posts
    [delivery] = store.deliveries()
    assert delivery.state == ("sent" if posts else "skipped")
    assert len(poster.notices) == (0 if posts else 1)


def test_three_days_down_posts_at_most_once(store: Store, tmp_path: Path) -> None:
    seed(store, tmp_path, since=at("2024-05-01T00:00"))
    poster = RecordingPoster()
    engine = deliverer(store, poster, lookback=timedelta(days=3650))
    asyncio.run(engine.tick(at("2024-05-04T09:00")))  # slots on the 1st, 2nd, 3rd, 4th at 08:00
    states = sorted((d.slot, d.state) for d in store.deliveries())
    assert states == [
        ("2024-05-01T08:00", "skipped"),
        ("2024-05-02T08:00", "skipped"),
        ("2024-05-03T08:00", "skipped"),
        ("2024-05-04T08:00", "sent"),
    ]
    assert len({p.key.split("p")[0] for p in poster.posts}) == 1


def test_down_past_grace_skips_with_one_notice(store: Store, tmp_path: Path) -> None:
    seed(store, tmp_path, since=at("2024-05-01T00:00"))
    poster = RecordingPoster()
    engine = deliverer(store, poster, lookback=timedelta(days=3650))
    asyncio.run(engine.tick(at("2024-05-01T13:00")))
    asyncio.run(engine.tick(at("2024-05-01T13:01")))
    assert poster.posts == [] and len(poster.notices) == 1
    assert [d.state for d in store.deliveries()] == ["skipped"]


def test_autumn_clock_change_gives_one_delivery(store: Store, tmp_path: Path) -> None:
    seed(store, tmp_path, schedule=NY_0130, since=at("2024-11-02T00:00"))
    poster = RecordingPoster()
    engine = deliverer(store, poster, lookback=timedelta(days=3650))
    # 01:30 EDT is 05:30 UTC, 01:30 EST is 06:30 UTC: APScheduler fires at both
    asyncio.run(engine.tick(at("2024-11-03T05:30:05")))
    asyncio.run(engine.tick(at("2024-11-03T06:30:05")))
    day = [d for d in store.deliveries() if d.slot.startswith("2024-11-03")]
    assert len(day) == 1 and day[0].state == "sent"


def test_spring_forward_day_still_delivers(store: Store, tmp_path: Path) -> None:
    seed(store, tmp_path, schedule="daily 02:30 America/New_York", since=at("2024-03-09T12:00"))
    poster = RecordingPoster()
    engine = deliverer(store, poster, lookback=timedelta(days=3650))
    asyncio.run(engine.tick(at("2024-03-10T08:00")))  # 02:30 does not exist that day
    assert [d.slot for d in store.deliveries() if d.state == "sent"] == ["2024-03-10T02:30"]


def test_rate_limit_sets_retry_at_without_sleeping(store: Store, tmp_path: Path) -> None:
    seed(store, tmp_path, since=at("2024-05-01T00:00"))
    poster = RecordingPoster(fail_next=[PostError("ratelimited", retry_after=3600)])
    engine = deliverer(store, poster, lookback=timedelta(days=3650))
    now = datetime.now(UTC).replace(hour=8, minute=0, second=30, microsecond=0)
    [channel] = store.channels()
    store.set_schedule(channel.id, channel.schedule, channel.timezone, now - timedelta(hours=1))
    asyncio.run(engine.tick(now))
    [delivery] = store.deliveries()
    assert delivery.state == "sending" and delivery.retry_at is not None
    assert delivery.retry_at >= now + timedelta(minutes=59)  # Retry-After, on the engine's clock
    asyncio.run(engine.tick(now + timedelta(minutes=1)))
    assert poster.posts == []


def test_permanent_error_pauses_the_channel_once(store: Store, tmp_path: Path) -> None:
    seed(store, tmp_path, since=at("2024-05-01T00:00"))
    poster = RecordingPoster(fail_next=[PostError("not_in_channel", permanent=True)])
    engine = deliverer(store, poster, lookback=timedelta(days=3650))
    asyncio.run(engine.tick(at("2024-05-01T08:00:30")))
    asyncio.run(engine.tick(at("2024-05-02T08:00:30")))
    channel = store.channel("test", "C1")
    assert (
        channel is not None and channel.paused and "not_in_channel" in (channel.paused_reason or "")
    )
    assert [d.state for d in store.deliveries()] == ["failed"]


def test_nothing_new_posts_nothing(store: Store, tmp_path: Path) -> None:
    seed(store, tmp_path, articles=2, since=at("2024-05-01T00:00"))
    poster = RecordingPoster()
    engine = deliverer(store, poster, lookback=timedelta(days=3650))
    asyncio.run(engine.tick(at("2024-05-01T08:00:30")))
    asyncio.run(engine.tick(at("2024-05-02T08:00:30")))
    assert len({p.key.split("p")[0] for p in poster.posts}) == 1
    assert [d.state for d in store.deliveries()] == ["sent", "skipped"]
