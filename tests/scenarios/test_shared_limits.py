"""Replicas on one PostgreSQL keep to a platform's limits together: a 429 one of them gets
holds the others back (the channel's on Slack, the whole token's on Discord).

Two "replicas" here are two bots built from the same settings on the same database, as two
`newsdigest serve` processes are (each its own core, adapter, client and pacer), against one
loopback platform. What is asserted is what reached the platform, not how long anything took.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.fake_slack import FakeSlack, slack_error
from support.loopback import LoopbackServer

from bot.delivery.pacing import SharedPacer
from bot.delivery.poster import PostError
from bot.ops.settings import Settings
from bot.wiring import Core, build_core


def postgresql_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("replicas share a PostgreSQL database (SQLite runs one process)")


@pytest.fixture()
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as running:
        yield running


def replicas(settings: Settings, n: int = 2) -> list[Core]:
    return [build_core(settings) for _ in range(n)]


def test_a_slack_429_on_one_replica_holds_that_channel_on_the_others(
    database_url: str, tmp_path: Path, server: LoopbackServer
) -> None:
    postgresql_only(database_url)
    from adapters.slack.app import SlackAdapter

    fake = FakeSlack(server)
    fake.script("chat.postMessage", slack_error("ratelimited", 429, {"Retry-After": "600"}))
    settings = Settings(
        slack_bot_token="xoxb-test-token",
        slack_api_url=fake.api_url,
        data_dir=tmp_path,
        database_url=database_url,
    )
    cores = replicas(settings)
    first, second = (SlackAdapter(core).poster for core in cores)
    assert isinstance(first.pacer, SharedPacer) and isinstance(second.pacer, SharedPacer)
    part = {"text": "hi", "blocks": []}

    async def main() -> None:
        with pytest.raises(PostError) as refused:
            await first.send("C1", part, "nd1p0", None)
        assert refused.value.retry_after == 600
        await first.pacer.settle()  # type: ignore[attr-defined]
        with pytest.raises(PostError) as held:
            await second.send("C1", part, "nd2p0", None)
        assert 500 < (held.value.retry_after or 0) <= 600 and not held.value.maybe_sent
        await second.send("C2", part, "nd3p0", None)  # other channels go on

    try:
        asyncio.run(main())
    finally:
        for core in cores:
            core.close()
    assert [p.args["channel"] for p in fake.posts()] == ["C1", "C2"]  # never C1 again


def test_a_discord_ban_on_one_replica_stops_every_replica(
    database_url: str, tmp_path: Path, server: LoopbackServer
) -> None:
    postgresql_only(database_url)
    import discord
    from support.fake_discord import FakeDiscord, discord_error

    from adapters.discord.client import DiscordAdapter

    fake = FakeDiscord(server)
    fake.scripted.append(discord_error(429, 0, "banned", {"Retry-After": "300"}))
    settings = Settings(
        discord_token="fake-token",
        discord_api_url=fake.api_url,
        data_dir=tmp_path,
        database_url=database_url,
    )
    original = discord.http.Route.BASE
    cores = replicas(settings)

    async def main() -> None:
        adapters = [DiscordAdapter(core) for core in cores]
        for adapter in adapters:
            await adapter.client.http.static_login("fake-token")
        first, second = (adapter.poster for adapter in adapters)
        part = {"content": "hi", "embeds": []}
        try:
            with pytest.raises(PostError) as banned:
                await first.send("555", part, "nd1p0", None)
            assert banned.value.retry_after == 300
            await first.pacer.settle()  # type: ignore[attr-defined]
            for n, channel in enumerate(("555", "556", "557")):  # any channel: the whole token
                with pytest.raises(PostError) as held:
                    await second.send(channel, part, f"nd2p{n}", None)
                assert 200 < (held.value.retry_after or 0) <= 300
        finally:
            for adapter in adapters:
                await adapter.client.http.close()

    try:
        asyncio.run(main())
    finally:
        discord.http.Route.BASE = original
        for core in cores:
            core.close()
    posts = [r for r in fake.requests if r[1].endswith("/messages")]
    assert len(posts) == 1  # the banned one; the other replica sent nothing
