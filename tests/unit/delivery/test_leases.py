"""Leases on delivery rows: one sender at a time, a dead sender's lease lapses."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path

from support.fake_slack import FakeSlack
from support.loopback import LoopbackServer
from support.platform_limits import slack_limits
from support.seeding import RUSH_SLOT as SLOT
from support.seeding import seed_rush

from adapters.slack.poster import SlackPoster, make_client
from bot.delivery.engine import Deliverer
from bot.store.repo import Store
from bot.summarize.extractive import ExtractiveSummarizer
from bot.wiring import delivery_engine


def engine(store: Store, poster: object) -> Deliverer:
    return delivery_engine(
        store,
        ExtractiveSummarizer(),
        {poster.platform: poster},  # type: ignore[attr-defined]
        lookback=timedelta(days=3650),
    )


def test_resume_never_races_a_first_send_in_flight(store: Store, tmp_path: Path) -> None:
    """A slow platform keeps the first send in flight while the tick runs, again and again."""
    seed_rush(store, tmp_path, "slack", 3, 2)
    with LoopbackServer() as server:
        fake = FakeSlack(server, limits=slack_limits(latency=0.4))
        deliverer = engine(store, SlackPoster(make_client("xoxb-test", fake.api_url)))

        async def main() -> None:
            [channel, *_] = store.channels()
            first = asyncio.create_task(deliverer.deliver(channel, "2024-05-01T08:00", SLOT))
            await asyncio.sleep(0.1)
            for n in range(6):  # the 30-s tick, compressed: resumes and cron jobs at once
                await deliverer.tick(SLOT + timedelta(seconds=n))
            await first

        asyncio.run(main())
        accepted = [m for msgs in fake.messages.values() for m in msgs]
    keys = Counter(m["metadata"]["event_payload"]["key"] for m in accepted)
    assert keys and max(keys.values()) == 1
    assert len(accepted) == 3 * 3
    assert {d.state for d in store.deliveries()} == {"sent"}


def test_a_dead_senders_lease_lapses_and_the_delivery_resumes(store: Store, tmp_path: Path) -> None:
    seed_rush(store, tmp_path, "slack", 1, 1)
    [channel] = store.channels()
    held = store.claim_delivery(
        channel.id,
        "2024-05-01T08:00",
        now=SLOT,
        lease_owner="dead",
        lease_until=SLOT + timedelta(seconds=60),
    )
    assert held is not None
    with LoopbackServer() as server:
        fake = FakeSlack(server)
        deliverer = engine(store, SlackPoster(make_client("xoxb-test", fake.api_url)))
        asyncio.run(deliverer.tick(SLOT + timedelta(seconds=30)))
        assert fake.posts() == []  # its sender may still be at work
        asyncio.run(deliverer.tick(SLOT + timedelta(seconds=61)))
        assert len(fake.posts()) == 2
    assert store.deliveries()[0].state == "sent"
