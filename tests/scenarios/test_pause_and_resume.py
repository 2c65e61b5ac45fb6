"""`/digest pause` and `/digest resume`: an admin stops a channel's scheduled digests and
starts them again; nothing is posted while paused, and the due slot goes out on resume."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from support.recording_poster import RecordingPoster
from support.seeding import harbour_story, seed_channel

from bot.chat.replies import CommandContext, ReplyKind
from bot.ops.settings import Settings
from bot.store.repo import Store
from bot.wiring import build_core

ADMIN = CommandContext(channel_id="C1", user_id="U1", is_admin=True, platform="test")
GUEST = CommandContext(channel_id="C1", user_id="U2", platform="test")


def test_paused_channels_get_no_digest_until_resumed(store: Store, tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    slot = now.replace(hour=8, minute=0, second=0)
    if slot > now:
        slot -= timedelta(days=1)
    seed_channel(store, tmp_path / "feed", [harbour_story(1, 1)], since=slot - timedelta(hours=1))
    poster = RecordingPoster()
    core = build_core(
        Settings(lookback_hours=24 * 3650, grace_minutes=24 * 60),
        store=store,
        posters={"test": poster},
    )
    handler = core.command_handler()

    async def say(text: str, context: CommandContext = ADMIN) -> str:
        reply = await handler.handle(text, context)
        return ("ERROR " if reply.kind is ReplyKind.ERROR else "") + reply.text

    async def main() -> None:
        assert (await say("pause", GUEST)).startswith("ERROR Only workspace or server admins")
        assert (await say("pause")).startswith("Paused")
        assert "already paused" in await say("pause")
        await core.deliverer.tick(slot + timedelta(minutes=1))
        assert poster.posts == []  # nothing while paused
        assert "paused" in await say("schedule")
        assert (await say("resume")).startswith("Resumed")
        assert "not paused" in await say("resume")
        await core.deliverer.tick(slot + timedelta(minutes=2))
        assert len(poster.posts) == 2  # the due slot, within its grace: top message + article

    try:
        asyncio.run(main())
    finally:
        core.workers.close()
