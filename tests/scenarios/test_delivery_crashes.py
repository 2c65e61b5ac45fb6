"""Crashes and faults mid-delivery: a digest is posted once, whatever dies when."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import text
from support.fake_slack import FakeSlack
from support.loopback import LoopbackServer
from support.recording_poster import Crash, RecordingPoster
from support.seeding import seed_channel

from adapters.slack.poster import SlackPoster, make_client
from bot.delivery.engine import Deliverer
from bot.delivery.polling import local_source, poll_source
from bot.delivery.poster import PostError, SentPart
from bot.ingest.fetch import FetchOptions
from bot.store.repo import ChannelInfo, Store
from bot.summarize.extractive import ExtractiveSummarizer
from bot.wiring import delivery_engine


def seed_stories(
    store: Store, tmp_path: Path, platform: str = "test", articles: int = 2
) -> ChannelInfo:
    stories = (
        f"Story {n} headline\n\nThe mayor opened bridge number {n} on Monday "
        f"after four years of work. Traffic will improve by {n + 10} percent.\n"
        for n in range(articles)
    )
    return seed_channel(
        store,
        tmp_path / f"feed-{platform}",
        stories,
        platform=platform,
        since=datetime(2024, 5, 1, tzinfo=UTC),
    )


SLOT_TIME = datetime(2024, 5, 1, 8, 0, 30, tzinfo=UTC)


class CrashingSlackPoster(SlackPoster):
    """The real Slack poster, killed right after Slack accepted the first part."""

    crashed = False

    async def send(
        self, channel: str, part: dict[str, Any], part_key: str, thread_ref: str | None
    ) -> SentPart:
        sent = await super().send(channel, part, part_key, thread_ref)
        if not self.crashed:
            self.crashed = True
            raise Crash()
        return sent


def test_crash_after_slack_accepted_is_reconciled_by_metadata(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    channel = seed_stories(store, tmp_path, "slack")
    with LoopbackServer() as server:
        fake = FakeSlack(server)
        client = make_client("xoxb-test", fake.api_url)
        with pytest.raises(Crash):
            asyncio.run(
                delivery_engine(
                    store,
                    ExtractiveSummarizer(),
                    {"slack": CrashingSlackPoster(client)},
                    lookback=timedelta(days=3650),
                ).tick(SLOT_TIME)
            )
        with caplog.at_level(logging.INFO, logger="bot.delivery.engine"):
            asyncio.run(
                delivery_engine(
                    store,
                    ExtractiveSummarizer(),
                    {"slack": SlackPoster(make_client("xoxb-test", fake.api_url))},
                    lookback=timedelta(days=3650),
                ).tick(SLOT_TIME + timedelta(minutes=2))  # after the crashed sender's lease lapsed
            )
        keys = [c.args["metadata"]["event_payload"]["key"] for c in fake.posts()]
    assert len(keys) == len(set(keys)) == 3  # top + 2 articles, the first one not posted twice
    [delivery] = store.deliveries(channel.id)
    assert delivery.state == "sent"
    [posted] = [r.getMessage() for r in caplog.records if "posted digest" in r.getMessage()]
    assert posted.startswith("posted digest to slack:") and posted.endswith("(resumed)")


FAIL_SETTLING = {  # the write that settles a delivery as sent fails: a real database error
    "postgresql": [
        "CREATE FUNCTION fail_settling() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'database went away'; END $$",
        "CREATE TRIGGER fail_settling BEFORE UPDATE ON deliveries FOR EACH ROW "
        "WHEN (NEW.state = 'sent' AND OLD.state <> 'sent') EXECUTE FUNCTION fail_settling()",
    ],
    "sqlite": [
        "CREATE TRIGGER fail_settling BEFORE UPDATE OF state ON deliveries "
        "WHEN NEW.state = 'sent' AND OLD.state <> 'sent' "
        "BEGIN SELECT RAISE(ABORT, 'database went away'); END",
    ],
}


def test_db_error_on_the_sent_update_is_repaired_without_reposting(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The last part's record, which also marks the delivery sent (one transaction), fails
    (on PostgreSQL that write is awaited on the loop's own connection, bot/store/on_loop.py)."""
    store = Store.open(database_url)
    seed_stories(store, tmp_path)
    with store.engine.begin() as conn:
        for statement in FAIL_SETTLING[store.engine.dialect.name]:
            conn.execute(text(statement))
    poster = RecordingPoster()
    engine = delivery_engine(
        store, ExtractiveSummarizer(), {"test": poster}, lookback=timedelta(days=3650)
    )
    with caplog.at_level(logging.ERROR):
        asyncio.run(engine.tick(SLOT_TIME))
    assert store.deliveries()[0].state == "sending" and len(poster.posts) == 3
    assert store.deliveries()[0].part_in_flight == 2  # the last part is out, unrecorded
    with store.engine.begin() as conn:  # the database is back
        conn.execute(
            text("DROP TRIGGER fail_settling" + (" ON deliveries" if store.on_loop else ""))
        )
    asyncio.run(engine.tick(SLOT_TIME + timedelta(seconds=30)))
    assert store.deliveries()[0].state == "sent" and len(poster.posts) == 3
    assert poster.finds == 1  # found on the platform, not posted again
    store.engine.dispose()


class DeliveryMachine(RuleBasedStateMachine):
    """Ticks, failures, crashes, restarts, new articles and a second process, in any order."""

    @initialize()
    def setup(self) -> None:
        import tempfile

        self.tmp = Path(tempfile.mkdtemp())
        self.store = Store.open(f"sqlite:///{self.tmp / 'sm.sqlite3'}")
        self.poster = RecordingPoster()
        self.now = datetime(2024, 5, 1, 7, 50, tzinfo=UTC)
        self.articles = 0
        self.folder = self.tmp / "feed"
        self.folder.mkdir()
        channel = self.store.channel("test", "C1")
        assert channel is not None
        self.source, _ = self.store.subscribe(channel.id, local_source(str(self.folder)))
        self.store.set_schedule(channel.id, "daily 08:00 UTC", "UTC", self.now)
        self.processes = [self._process()]
        self.feed_update()

    def _process(self) -> Deliverer:
        return delivery_engine(
            self.store,
            ExtractiveSummarizer(),
            {"test": self.poster},
            lookback=timedelta(days=3650),
            grace=timedelta(hours=2),
        )

    @rule()
    def feed_update(self) -> None:
        self.articles += 1
        (self.folder / f"{self.articles}.txt").write_text(
            f"Update {self.articles}\n\nThe board met for session {self.articles} and agreed the plan "
            f"after a debate. Work starts in week {self.articles}.\n"
        )
        source = self.store.source_by_id(self.source.id)
        assert source is not None
        asyncio.run(poll_source(self.store, source, FetchOptions(), self.now))

    @rule(hours=st.integers(min_value=0, max_value=30), which=st.integers(0, 1))
    def tick(self, hours: int, which: int) -> None:
        self.now += timedelta(hours=hours, minutes=7)
        process = self.processes[which % len(self.processes)]
        try:
            asyncio.run(process.tick(self.now))
        except Crash:
            self.processes = [
                self._process() for _ in self.processes
            ]  # the crashed process restarts

    @rule(kind=st.sampled_from(["fail", "rate", "crash_after", "crash_before"]))
    def fault(self, kind: str) -> None:
        if kind == "fail":
            self.poster.fail_next.append(PostError("boom"))
        elif kind == "rate":
            self.poster.fail_next.append(PostError("slow down", retry_after=600))
        elif kind == "crash_after":
            self.poster.crash_after_post.add(self.poster.attempts + 1)
        else:
            self.poster.crash_before_post.add(self.poster.attempts + 1)

    @rule()
    def second_process(self) -> None:
        if len(self.processes) == 1:
            self.processes.append(self._process())

    @invariant()
    def at_most_one_post_per_part(self) -> None:
        if not hasattr(self, "store"):
            return
        keys = [p.key for p in self.poster.posts]
        assert len(keys) == len(set(keys))

    def teardown(self) -> None:
        if hasattr(self, "store"):
            # settle: no more faults, time moves on; every slot must end sent or skipped
            self.poster.fail_next.clear()
            self.poster.crash_after_post.clear()
            self.poster.crash_before_post.clear()
            for _ in range(12):
                self.now += timedelta(minutes=15)
                asyncio.run(self.processes[0].tick(self.now))
            states = {d.state for d in self.store.deliveries() if not d.slot.startswith("now-")}
            assert states <= {"sent", "skipped"}, states
            self.store.engine.dispose()


TestDeliveryMachine = DeliveryMachine.TestCase
