"""The delivery engine on real SQLite and PostgreSQL: one post per (channel, slot), whatever happens."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support.fake_slack import FakeSlack
from support.loopback import LoopbackServer
from support.recording_poster import Crash, RecordingPoster
from support.seeding import seed_channel

from adapters.slack.poster import SlackPoster, make_client
from bot.delivery.engine import Deliverer
from bot.delivery.pacing import SLACK_LIMITS, Pacer
from bot.delivery.poster import ChannelDigest, PostError, SentPart
from bot.ops.metrics import METRICS
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


def seed_channels(store: Store, tmp_path: Path, count: int, articles: int = 2) -> None:
    for c in range(count):
        seed_channel(
            store,
            tmp_path / f"feed{c}",
            (article(100 * c + n) for n in range(articles)),
            channel_id=f"C{c}",
            since=at("2024-05-01T00:00"),
        )


def counted(name: str) -> float:
    return METRICS.value(name + "_total")


def test_the_rows_one_replica_makes_any_replica_sends(store: Store, tmp_path: Path) -> None:
    seed_channels(store, tmp_path, 3)
    poster = RecordingPoster()
    leader = deliverer(store, poster, lookback=timedelta(days=3650))
    other = deliverer(store, poster, lookback=timedelta(days=3650))
    now = at("2024-05-01T08:00:05")
    asyncio.run(leader.create_due_slots(now))
    asyncio.run(leader.create_due_slots(now))  # again (a cron job and the tick): no second row
    rows = store.deliveries()
    assert len(rows) == 3 and poster.posts == []
    assert all(d.state == "sending" and d.lease_owner is None for d in rows)
    claims = counted("newsdigest_delivery_claims")
    asyncio.run(other.drain(now))
    assert {d.state for d in store.deliveries()} == {"sent"}
    assert len(poster.posts) == 3 * 3 and len({p.key for p in poster.posts}) == 9
    assert counted("newsdigest_delivery_claims") - claims == 3
    assert poster.finds == 0  # first sends: nothing to reconcile


def test_due_slots_of_many_channels_are_made_together_each_as_its_own_would_be(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """One pass over channels in every state: due now (a row to send), already made by
    another replica (nothing new), down since yesterday (yesterday's slot skipped as replaced,
    today's made), due hours ago (skipped, with one notice) and an unusable schedule (logged;
    the others are still served)."""
    seed_channels(store, tmp_path, 5)
    due, made, down, late, broken = store.channels()
    now = at("2024-05-02T08:00:05")
    store.set_schedule(late.id, "daily 03:00 UTC", "UTC", at("2024-05-02T00:00"))
    for channel in (due, made, broken):
        store.set_schedule(channel.id, "daily 08:00 UTC", "UTC", at("2024-05-02T00:00"))
    store.claim_delivery(made.id, "2024-05-02T08:00", now=now)  # another replica's row
    with store.engine.begin() as conn:  # stored before a stricter parser, say
        conn.exec_driver_sql(f"UPDATE channels SET schedule = 'fortnightly' WHERE id = {broken.id}")
    poster = RecordingPoster()
    engine = deliverer(store, poster, lookback=timedelta(days=3650))
    with caplog.at_level(logging.INFO):
        asyncio.run(engine.create_due_slots(now))
    rows = {(d.channel_id, d.slot): (d.state, d.error) for d in store.deliveries()}
    assert rows == {
        (due.id, "2024-05-02T08:00"): ("sending", None),
        (made.id, "2024-05-02T08:00"): ("sending", None),
        (down.id, "2024-05-01T08:00"): ("skipped", "a later digest replaced it"),
        (down.id, "2024-05-02T08:00"): ("sending", None),
        (late.id, "2024-05-02T03:00"): ("skipped", "the bot was not running when it was due"),
    }
    assert [n[0] for n in poster.notices] == [late.external_id]
    assert engine.stats.skipped == 2
    assert "unusable schedule 'fortnightly'" in caplog.text
    asyncio.run(engine.create_due_slots(now))  # again: nothing new, no second notice
    assert len(store.deliveries()) == 5 and len(poster.notices) == 1


@dataclass
class SlowPoster(RecordingPoster):
    """Each send takes a moment; records how many deliveries were being sent at once."""

    sending: set[str] = field(default_factory=set)
    most: int = 0

    async def send(
        self, channel: str, part: Any, part_key: str, thread_ref: str | None
    ) -> SentPart:
        delivery, index = part_key.split("p")
        self.sending.add(delivery)
        self.most = max(self.most, len(self.sending))
        await asyncio.sleep(0.01)
        sent = await super().send(channel, part, part_key, thread_ref)
        if index == "2":  # the last of its three parts
            self.sending.discard(delivery)
        return sent


def test_a_replica_holds_at_most_its_bound_and_claims_more_as_it_finishes(
    store: Store, tmp_path: Path
) -> None:
    seed_channels(store, tmp_path, 8)
    poster = SlowPoster()
    engine = deliverer(store, poster, lookback=timedelta(days=3650), concurrency=3)
    claims = counted("newsdigest_delivery_claims")
    asyncio.run(engine.tick(at("2024-05-01T08:00:05")))
    assert 2 <= poster.most <= 3  # never more than its bound at once
    assert {d.state for d in store.deliveries()} == {"sent"} and len(poster.posts) == 8 * 3
    assert counted("newsdigest_delivery_claims") - claims == 8


def test_a_dead_replicas_delivery_is_taken_over_and_only_a_part_in_flight_is_looked_up(
    store: Store, tmp_path: Path
) -> None:
    seed_channels(store, tmp_path, 2)
    now = at("2024-05-01T08:00:05")
    poster = RecordingPoster(crash_before_post={2})  # dies sending the second part
    dead = deliverer(store, poster, lookback=timedelta(days=3650), concurrency=1)
    with pytest.raises(Crash):
        asyncio.run(dead.tick(now))
    held = [d for d in store.deliveries() if d.lease_owner == dead.owner]
    [crashed] = [d for d in held if d.parts_sent == 1]
    assert crashed.part_in_flight == 1  # the request of part 1 was leaving when it died
    survivor = deliverer(store, poster, lookback=timedelta(days=3650))
    takeovers = counted("newsdigest_delivery_takeovers")
    expiries = counted("newsdigest_delivery_lease_expiries")
    asyncio.run(survivor.drain(now + timedelta(seconds=5)))  # the lease still holds
    assert store.delivery_by_id(crashed.id).state == "sending"  # type: ignore[union-attr]
    asyncio.run(survivor.drain(now + timedelta(seconds=13)))  # 12 s lease lapsed
    assert {d.state for d in store.deliveries()} == {"sent"}
    assert len(poster.posts) == 2 * 3 and len({p.key for p in poster.posts}) == 6
    assert poster.finds == 1  # the one part in flight; the other delivery was a first send
    assert counted("newsdigest_delivery_takeovers") - takeovers == 1
    assert counted("newsdigest_delivery_lease_expiries") - expiries == 1


class DyingPacer(Pacer):
    """The process is killed while a part waits for its pacing slot."""

    def __init__(self) -> None:
        super().__init__(SLACK_LIMITS)
        self.kill_at = 2  # the second part's wait

    async def wait(self, channel: str) -> None:
        self.kill_at -= 1
        if self.kill_at == 0:
            raise Crash()
        await super().wait(channel)


def seed_slack_channel(store: Store, tmp_path: Path) -> None:
    """One Slack channel with two articles: a digest of three parts."""
    seed_channel(
        store,
        tmp_path / "feed",
        (article(n) for n in range(2)),
        platform="slack",
        since=at("2024-05-01T00:00"),
    )


def slack_engine(store: Store, poster: SlackPoster) -> Deliverer:
    """The real engine posting through `poster`, every seeded article still new."""
    return delivery_engine(
        store, ExtractiveSummarizer(), {"slack": poster}, lookback=timedelta(days=3650)
    )


def test_a_part_killed_in_the_pacer_is_resent_without_asking_slack(
    store: Store, tmp_path: Path
) -> None:
    seed_slack_channel(store, tmp_path)
    now = at("2024-05-01T08:00:05")
    with LoopbackServer() as server:
        fake = FakeSlack(server)
        first = SlackPoster(make_client("xoxb-test", fake.api_url), DyingPacer())
        engine = slack_engine(store, first)
        with pytest.raises(Crash):
            asyncio.run(engine.tick(now))
        [delivery] = store.deliveries()
        assert delivery.parts_sent == 1 and delivery.part_in_flight is None
        again = SlackPoster(make_client("xoxb-test", fake.api_url))
        survivor = slack_engine(store, again)
        asyncio.run(survivor.tick(now + timedelta(seconds=13)))
        lookups = fake.posts("conversations.replies") + fake.posts("conversations.history")
        keys = [c.args["metadata"]["event_payload"]["key"] for c in fake.posts()]
    assert lookups == []  # the part never left the pacer: nothing to ask Slack about
    assert len(keys) == len(set(keys)) == 3
    assert store.deliveries()[0].state == "sent"


def test_a_first_part_held_back_before_its_request_keeps_its_plan(
    store: Store, tmp_path: Path
) -> None:
    """The plan is stored with the first part's mark, right before its request; a part held
    back before then (a long Retry-After) still stores it, so the retry posts the very same
    stories and the filters' drops are not counted twice."""
    seed_slack_channel(store, tmp_path)
    with LoopbackServer() as server:
        fake = FakeSlack(server)
        pacer = Pacer(SLACK_LIMITS)
        pacer.defer_overall(300.0)  # Slack asked for five minutes: nothing is sent meanwhile
        poster = SlackPoster(make_client("xoxb-test", fake.api_url), pacer)
        engine = slack_engine(store, poster)
        asyncio.run(engine.tick(at("2024-05-01T08:00:05")))
        assert fake.posts() == []
    [delivery] = store.deliveries()
    assert delivery.state == "sending" and delivery.retry_at is not None
    assert delivery.part_in_flight is None  # nothing went out
    assert len(delivery.article_ids) == 2 and delivery.parts_total == 3


@pytest.mark.parametrize(
    ("error", "lookups"),
    [
        (PostError("slow down", retry_after=600), 0),  # refused for sure: nothing went out
        (PostError("Slack error: internal_error"), 1),  # who knows: ask before resending
    ],
)
def test_a_retry_asks_the_platform_only_when_the_failed_part_may_be_out(
    store: Store, tmp_path: Path, error: PostError, lookups: int
) -> None:
    seed(store, tmp_path, since=at("2024-05-01T00:00"))
    poster = RecordingPoster(fail_next=[error])
    engine = deliverer(store, poster, lookback=timedelta(days=3650))
    now = at("2024-05-01T08:00:05")
    asyncio.run(engine.tick(now))
    [delivery] = store.deliveries()
    assert delivery.state == "sending" and delivery.retry_at is not None
    asyncio.run(engine.tick(delivery.retry_at))
    assert store.deliveries()[0].state == "sent" and len(poster.posts) == 4
    assert poster.finds == lookups


class CountingPoster(RecordingPoster):
    """Counts renderings, to tell a digest rendered once for several channels."""

    renders: int = 0

    def render(self, digest: ChannelDigest) -> Sequence[Any]:
        self.renders += 1
        return super().render(digest)


def following_one_feed(store: Store, tmp_path: Path, channels: int) -> list[ChannelInfo]:
    """Several channels subscribed to the same feed, scheduled for the same slot."""
    first = seed_channel(
        store,
        tmp_path / "feed",
        (article(n) for n in range(3)),
        schedule="daily 08:00 UTC",
        since=at("2024-05-01T00:00"),
    )
    [source] = store.channel_sources(first.id)
    found = [first]
    for c in range(1, channels):
        channel = store.channel("test", f"C{c + 1}")
        assert channel is not None
        store.subscribe(channel.id, source.url)
        store.set_schedule(channel.id, "daily 08:00 UTC", "UTC", at("2024-05-01T00:00"))
        found.append(channel)
    return found


def test_channels_with_the_same_digest_share_one_rendering(store: Store, tmp_path: Path) -> None:
    channels = following_one_feed(store, tmp_path, 3)
    store.set_channel_settings(channels[2].id, bullets_per_article=1)  # a digest of its own
    poster = CountingPoster()
    engine = deliverer(store, poster, lookback=timedelta(days=3650))
    asyncio.run(engine.tick(at("2024-05-01T08:00:30")))
    assert poster.renders == 2  # one for the two alike, one for the channel with fewer bullets
    by_channel: dict[str, list[Any]] = {}
    for post in poster.posts:
        by_channel.setdefault(post.channel, []).append(post.part)
    assert len(by_channel) == 3 and all(len(parts) == 4 for parts in by_channel.values())
    assert by_channel["C1"] == by_channel["C2"]  # the very same parts, each posted in its own
    keys = [p.key for p in poster.posts]
    assert len(keys) == len(set(keys)) == 12  # every channel's own part keys, once each
    assert {d.state for d in store.deliveries()} == {"sent"}
    assert {d.parts_sent for d in store.deliveries()} == {4}
