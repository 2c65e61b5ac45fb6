"""The one way tests put channels, their sources and stories into a store.

A channel follows a local folder of plain-text stories (the bot's own file source), the
folder is polled once, and the channel gets a schedule counted from `since` (so that the
slots a test wants are due, and none before).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.delivery.polling import local_source, poll_source
from bot.ingest.fetch import FetchOptions
from bot.store.repo import ChannelInfo, Store

RUSH_SLOT = datetime(2024, 5, 1, 8, 0, 5, tzinfo=UTC)


def write_stories(folder: Path, stories: Iterable[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n, text in enumerate(stories):
        (folder / f"{n}.txt").write_text(text)
    return folder


def seed_channel(
    store: Store,
    folder: Path,
    stories: Iterable[str],
    *,
    platform: str = "test",
    channel_id: str = "C1",
    schedule: str | None = "daily 08:00 UTC",
    since: datetime | None = None,
) -> ChannelInfo:
    """A channel following a folder of these stories, polled once, scheduled from `since`."""
    write_stories(folder, stories)
    channel = store.channel(platform, channel_id)
    assert channel is not None
    source, _ = store.subscribe(channel.id, local_source(str(folder)))
    asyncio.run(poll_source(store, source, FetchOptions()))
    if schedule is not None:
        zone = schedule.split()[-1]
        store.set_schedule(
            channel.id, schedule, zone if "/" in zone or zone == "UTC" else "UTC", since
        )
    fresh = store.channel_by_id(channel.id)
    assert fresh is not None
    return fresh


def harbour_story(channel: int, article: int) -> str:
    return (
        f"Harbour story {channel}-{article}\n\nThe harbour board of town {channel} voted on "
        f"Monday to repair pier {article} for {article + 2} million dollars. Work starts in "
        f"{article + 3} weeks and ends in the autumn, the board said.\n"
    )


def seed_rush(store: Store, tmp_path: Path, platform: str, channels: int, articles: int) -> None:
    """`channels` channels due at 08:00, each following its own folder of `articles` stories."""
    for c in range(channels):
        seed_channel(
            store,
            tmp_path / f"{platform}-{c}",
            (harbour_story(c, a) for a in range(articles)),
            platform=platform,
            channel_id=str(100000 + c),
            since=RUSH_SLOT - timedelta(hours=1),
        )
