"""The 08:00 rush against rate-limited loopback Slack and Discord: paced, concurrent, exactly once.

The servers enforce the platforms' published posting limits and answer 429s as the
platforms do; the bot must pace itself so that they are rare, wait out the ones that
still come for exactly their Retry-After, and never post a part twice, including when
the periodic resume races a first send that is still in flight.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path

import discord
from support.fake_discord import FakeDiscord
from support.fake_slack import FakeSlack, slack_error
from support.loopback import LoopbackServer
from support.platform_limits import discord_limits, slack_limits
from support.seeding import RUSH_SLOT as SLOT
from support.seeding import seed_rush

from adapters.discord.poster import DiscordPoster
from adapters.slack.poster import SlackPoster, make_client
from bot.delivery.engine import Deliverer
from bot.delivery.pacing import DISCORD_LIMITS, SLACK_LIMITS, PaceLimits, Pacer
from bot.store.repo import Store
from bot.summarize.extractive import ExtractiveSummarizer
from bot.wiring import delivery_engine, make_pacer


def pacer(store: Store, limits: PaceLimits, platform: str) -> Pacer:
    """The pacer the bot makes: shared through the database on PostgreSQL, so these rushes
    also show that shared pacing keeps 429s as rare as pacing in memory does."""
    return make_pacer(store, asyncio.to_thread, limits, platform)


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
        poster = SlackPoster(
            make_client("xoxb-test", fake.api_url), pacer(store, SLACK_LIMITS, "slack")
        )
        asyncio.run(engine(store, poster).tick(SLOT))
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
                poster = DiscordPoster(client, pacer(store, DISCORD_LIMITS, "discord"))
                await engine(store, poster).tick(SLOT)
            finally:
                await client.http.close()

        asyncio.run(main())
    headers = [c for c in fake.channel_messages if fake.channel(c)["type"] == 0]
    assert len(headers) == channels  # each channel's header, its articles in the header's thread
    assert all(len(fake.thread_of(c)) == 1 for c in headers)
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
