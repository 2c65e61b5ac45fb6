"""Discord's Cloudflare ban: posting stops for the cool-off."""

from __future__ import annotations

import asyncio

import pytest
from support.loopback import LoopbackServer

from bot.delivery.poster import PostError


def test_cloudflare_ban_stops_posting_for_the_cool_off() -> None:
    import discord
    from support.fake_discord import FakeDiscord, discord_error

    from adapters.discord.poster import DiscordPoster

    original = discord.http.Route.BASE
    with LoopbackServer() as server:
        fake = FakeDiscord(server)
        fake.scripted.append(discord_error(429, 0, "banned", {"Retry-After": "300"}))

        async def main() -> None:
            discord.http.Route.BASE = fake.api_url
            client = discord.Client(intents=discord.Intents.none())
            await client.http.static_login("fake-token")
            poster = DiscordPoster(client)
            try:
                for n in range(10):
                    with pytest.raises(PostError) as raised:
                        await poster.send("555", {"content": "hi", "embeds": []}, f"nd1p{n}", None)
                    assert raised.value.retry_after and raised.value.retry_after > 200
            finally:
                await client.http.close()

        asyncio.run(main())
        posts = [r for r in fake.requests if r[1].endswith("/messages")]
    discord.http.Route.BASE = original
    assert len(posts) <= 5
