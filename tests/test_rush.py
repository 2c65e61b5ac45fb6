"""The 08:00 rush against rate-limited loopback Slack and Discord: paced, concurrent, exactly once.

The servers enforce the platforms' published posting limits and answer 429s as the
platforms do; the bot must pace itself so that they are rare, wait out the ones that
still come for exactly their Retry-After, and never post a part twice, including when
the periodic resume races a first send that is still in flight.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import discord
import pytest
from fake_discord import FakeDiscord
from fake_slack import FakeSlack, slack_error
from loopback import LoopbackServer
from platform_limits import discord_limits, slack_limits
from sqlalchemy import text

from adapters.discord.poster import DiscordPoster
from adapters.slack.poster import SlackPoster, make_client
from bot.delivery.engine import Deliverer
from bot.delivery.pacing import PaceLimits, Pacer
from bot.delivery.polling import local_source, poll_source
from bot.ingest.fetch import FetchOptions
from bot.store.repo import Store
from bot.summarize.extractive import ExtractiveSummarizer
from bot.wiring import delivery_engine

SLOT = datetime(2024, 5, 1, 8, 0, 5, tzinfo=UTC)


def seed_rush(store: Store, tmp_path: Path, platform: str, channels: int, articles: int) -> None:
    """`channels` channels due at 08:00, each following its own folder of `articles` stories."""
    for c in range(channels):
        folder = tmp_path / f"{platform}-{c}"
        folder.mkdir()
        for a in range(articles):
            (folder / f"{a}.txt").write_text(
                f"Harbour story {c}-{a}\n\nThe harbour board of town {c} voted on Monday to repair "
                f"pier {a} for {a + 2} million dollars. Work starts in {a + 3} weeks and ends in "
                "the autumn, the board said.\n"
            )
        channel = store.channel(platform, str(100000 + c))
        assert channel is not None
        source, _ = store.subscribe(channel.id, local_source(str(folder)))
        asyncio.run(poll_source(store, source, FetchOptions()))
        store.set_schedule(channel.id, "daily 08:00 UTC", "UTC")
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE channels SET schedule_since = :s"), {"s": SLOT - timedelta(hours=1)}
        )


def engine(store: Store, poster: object) -> Deliverer:
    return delivery_engine(
        store,
        ExtractiveSummarizer(),
        {poster.platform: poster},  # type: ignore[attr-defined]
        lookback=timedelta(days=3650),
    )


def test_slack_rush_is_paced_and_exactly_once(store: Store, tmp_path: Path) -> None:
    channels, articles = 40, 2
    seed_rush(store, tmp_path, "slack", channels, articles)
    with LoopbackServer() as server:
        fake = FakeSlack(server, limits=slack_limits(latency=0.02))
        asyncio.run(engine(store, SlackPoster(make_client("xoxb-test", fake.api_url))).tick(SLOT))
        keys = [
            c.args["metadata"]["event_payload"]["key"] for c in fake.posts() if "metadata" in c.args
        ]
        accepted = [m for msgs in fake.messages.values() for m in msgs]
    assert len(fake.messages) == channels
    assert all(len(msgs) == 1 + articles for msgs in fake.messages.values())
    sent_keys = Counter(m["metadata"]["event_payload"]["key"] for m in accepted)
    assert max(sent_keys.values()) == 1
    assert len(keys) - len(accepted) == fake.limits.rejected  # every extra call was a 429
    assert fake.limits.rejected <= len(accepted) // 50  # pacing keeps 429s rare
    assert {d.state for d in store.deliveries()} == {"sent"}


def test_discord_rush_is_paced_and_exactly_once(store: Store, tmp_path: Path) -> None:
    channels, articles = 60, 2
    seed_rush(store, tmp_path, "discord", channels, articles)
    with LoopbackServer() as server:
        fake = FakeDiscord(server, limits=discord_limits(latency=0.02))

        async def main() -> None:
            discord.http.Route.BASE = fake.api_url
            client = discord.Client(intents=discord.Intents.none())
            await client.http.static_login("fake-token")
            try:
                await engine(store, DiscordPoster(client)).tick(SLOT)
            finally:
                await client.http.close()

        asyncio.run(main())
    assert len(fake.channel_messages) == channels
    nonces = Counter(b["nonce"] for msgs in fake.channel_messages.values() for b in msgs)
    assert max(nonces.values()) == 1
    assert fake.limits.rejected_global <= 2  # the global 50/s is (next to) never hit
    assert fake.limits.rejected <= channels // 10
    assert {d.state for d in store.deliveries()} == {"sent"}


def test_a_429_is_waited_out_for_its_retry_after_in_the_same_run(
    store: Store, tmp_path: Path
) -> None:
    seed_rush(store, tmp_path, "slack", 1, 1)
    with LoopbackServer() as server:
        fake = FakeSlack(server)
        fake.script("chat.postMessage", slack_error("ratelimited", 429, {"Retry-After": "1"}))
        asyncio.run(engine(store, SlackPoster(make_client("xoxb-test", fake.api_url))).tick(SLOT))
        calls = fake.posts()
    [delivery] = store.deliveries()
    assert delivery.state == "sent" and delivery.attempts == 0  # not handed to a later tick
    assert len(calls) == 3  # the refused call, then the top message and its reply
    assert calls[1].at - calls[0].at >= 0.95  # waited Retry-After (1 s) before trying again


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


def test_pacer_spaces_posts_to_one_channel_and_overall() -> None:
    per_second = 50.0

    clock = [0.0]
    pacer = Pacer(PaceLimits(1.0, 1, per_second, margin=1.0), clock=lambda: clock[0])
    same = [pacer.channels.bucket("C").reserve() for _ in range(3)]
    assert same == [0.0, 1.0, 2.0]  # one a second in one channel
    overall = [pacer.overall.reserve() for _ in range(3)]
    assert overall == pytest.approx([0.0, 1 / per_second, 2 / per_second])
    pacer.defer("C", 5.0)
    assert pacer.channels.bucket("C").reserve() >= 5.0  # Retry-After holds the channel back
