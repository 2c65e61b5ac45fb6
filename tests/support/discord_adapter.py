"""The real Discord adapter (discord.py client and all) logged in to the loopback Discord,
for a test to drive: `with_discord(fake, tmp_path, test)` runs `test(adapter)` on a fresh
core and cleans up after it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import discord

from adapters.discord.client import DiscordAdapter
from bot.ops.settings import Settings
from bot.wiring import build_core
from support.fake_discord import APP_ID, BOT_USER, FakeDiscord


def with_discord(
    fake: FakeDiscord,
    tmp_path: Path,
    test: Callable[[DiscordAdapter], Awaitable[None]],
    **settings: Any,
) -> None:
    async def main() -> None:
        configured = Settings(
            discord_token="fake-token", discord_api_url=fake.api_url, data_dir=tmp_path, **settings
        )
        bot = build_core(configured)
        adapter = DiscordAdapter(bot)
        client = adapter.client
        await client.http.static_login("fake-token")  # against the loopback API
        client._connection.application_id = APP_ID
        client._connection.user = discord.ClientUser(state=client._connection, data=BOT_USER)  # type: ignore[arg-type]
        try:
            await test(adapter)
        finally:
            await client.http.close()
            bot.store.engine.dispose()

    asyncio.run(main())
