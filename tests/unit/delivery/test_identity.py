"""A replica's name: held while it runs, so that a restart under it resumes its own claims."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from support.recording_poster import RecordingPoster
from support.seeding import harbour_story, seed_channel

from bot.delivery.identity import ReplicaName, clean_name
from bot.delivery.runner import Runner, ScheduledWork
from bot.ops.settings import Settings
from bot.wiring import build_core


def test_names_cannot_hold_the_owner_separators() -> None:
    assert clean_name("bot:1+x y") == "bot-1-x-y"
    assert clean_name("  ") == "replica"
    assert len(clean_name("a" * 100)) == 32
    assert clean_name(None)  # the host's name


def test_one_live_process_holds_a_name(database_url: str, tmp_path: Path) -> None:
    core = build_core(Settings(data_dir=tmp_path, database_url=database_url))
    first = ReplicaName.hold(core.store.engine, "bot-1")
    second = ReplicaName.hold(core.store.engine, "bot-1")
    other = ReplicaName.hold(core.store.engine, "bot-2")
    try:
        assert first.held and other.held and not second.held
        assert first.owner_prefix == "bot-1:"
        assert second.owner_prefix == f"bot-1+{os.getpid()}:"  # never matches `bot-1:`
        first.release()
        again = ReplicaName.hold(core.store.engine, "bot-1")
        assert again.held
        again.release()
    finally:
        for name in (first, second, other):
            name.release()
        core.store.engine.dispose()


def test_a_restarted_replica_resumes_its_own_deliveries_at_once(
    database_url: str, tmp_path: Path
) -> None:
    """Killed with a 10-minute lease on a digest, the replica comes back under its name and
    sends it now; a digest another live replica holds stays that replica's."""
    poster = RecordingPoster()
    core = build_core(
        Settings(
            data_dir=tmp_path,
            database_url=database_url,
            delivery_claim_seconds=0.05,
            delivery_lease_seconds=600,
        ),
        posters={"test": poster},
    )
    for n in range(2):
        seed_channel(
            core.store,
            tmp_path / f"feed{n}",
            [harbour_story(n, 0)],
            schedule=None,
            channel_id=f"C{n}",
        )
    now = datetime.now(UTC)
    rows = {}
    for channel, dead_or_live in zip(
        core.store.channels(), ("bot-1:4242:dead", "bot-2:7:live"), strict=True
    ):
        made = core.store.claim_delivery(channel.id, "now-2024-05-01T08:00:00")
        assert made is not None
        [claimed] = core.store.claim_due(
            dead_or_live, now, now + timedelta(minutes=10), 1, ["test"]
        )
        rows[dead_or_live] = claimed.delivery.id
    runner = Runner(ScheduledWork(core.store, core.deliverer, core.poller))
    assert runner.name_replica("bot-1") == "bot-1"
    assert core.deliverer.owner.startswith(f"bot-1:{os.getpid()}:")

    async def main() -> None:
        running = asyncio.create_task(runner.run())
        for _ in range(1000):  # ten seconds at most, far less than the ten-minute lease
            await asyncio.sleep(0.01)
            if core.store.delivery_by_id(rows["bot-1:4242:dead"]).state == "sent":  # type: ignore[union-attr]
                break
        runner.stop()
        await running

    asyncio.run(main())
    resumed = core.store.delivery_by_id(rows["bot-1:4242:dead"])
    untouched = core.store.delivery_by_id(rows["bot-2:7:live"])
    assert resumed is not None and resumed.state == "sent"
    assert untouched is not None and untouched.state == "sending"
    assert untouched.lease_owner == "bot-2:7:live" and untouched.lease_until is not None
    assert {p.channel for p in poster.posts} == {"C0"}
    assert runner.name is not None and not runner.name.held  # released when the runner stopped
    core.store.engine.dispose()
