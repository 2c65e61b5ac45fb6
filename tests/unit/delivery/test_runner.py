"""The APScheduler runner: one cron job per scheduled channel, persisted, built from day names."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text
from support.recording_poster import RecordingPoster
from support.seeding import harbour_story, seed_channel

from bot.delivery.leader import LeaderLock
from bot.delivery.runner import Runner, ScheduledWork
from bot.ops.settings import Settings
from bot.wiring import build_core


def test_channel_jobs_follow_the_store_and_persist(tmp_path: Path) -> None:
    bot = build_core(Settings(data_dir=tmp_path))
    monday = bot.store.channel("console", "A")
    daily = bot.store.channel("console", "B")
    assert monday is not None and daily is not None
    bot.store.set_schedule(monday.id, "mon 08:00 Europe/Berlin", "Europe/Berlin")
    bot.store.set_schedule(daily.id, "daily 01:30 America/New_York", "America/New_York")

    async def main() -> None:
        runner = Runner(ScheduledWork(bot.store, bot.deliverer, bot.poller))
        await runner._lead()  # the lock is free: it takes it and adds the channels' jobs
        try:
            assert runner.scheduler is not None
            jobs = {job.id: job for job in runner.scheduler.get_jobs()}
            assert {"tick", "poll", f"channel-{monday.id}", f"channel-{daily.id}"} <= set(jobs)
            trigger = str(jobs[f"channel-{monday.id}"].trigger)
            assert "day_of_week='mon'" in trigger and "hour='8'" in trigger
            assert str(jobs[f"channel-{monday.id}"].trigger.timezone) == "Europe/Berlin"
            bot.store.set_schedule(daily.id, None, "UTC")
            runner.sync_channel_jobs()
            assert f"channel-{daily.id}" not in {job.id for job in runner.scheduler.get_jobs()}
            with bot.store.engine.connect() as conn:
                stored = conn.execute(text("SELECT id FROM apscheduler_jobs")).scalars().all()
            assert f"channel-{monday.id}" in stored
        finally:
            runner._stop_scheduler()
            runner.lock.release()

    asyncio.run(main())
    bot.store.engine.dispose()


def test_only_one_runner_leads(tmp_path: Path) -> None:
    first = build_core(Settings(data_dir=tmp_path))
    second = build_core(Settings(data_dir=tmp_path))
    a, b = (Runner(ScheduledWork(c.store, c.deliverer, c.poller)) for c in (first, second))
    assert a.lock.try_acquire()
    assert not b.lock.try_acquire()
    a.lock.release()
    assert b.lock.try_acquire()
    b.lock.release()
    first.store.engine.dispose()
    second.store.engine.dispose()


def test_a_waiting_runner_takes_over_soon_after_the_leader_stops(tmp_path: Path) -> None:
    first = build_core(Settings(data_dir=tmp_path))
    second = build_core(Settings(data_dir=tmp_path))
    hour = timedelta(hours=1)  # the tick: far longer than the test may take
    leader = Runner(ScheduledWork(first.store, first.deliverer, first.poller), tick=hour)
    waiting = Runner(
        ScheduledWork(second.store, second.deliverer, second.poller),
        tick=hour,
        lock_retry=timedelta(milliseconds=50),
    )

    async def main() -> None:
        led = asyncio.create_task(leader.run())
        while not leader.is_leader:
            await asyncio.sleep(0.01)
        follows = asyncio.create_task(waiting.run())
        await asyncio.sleep(0.2)
        assert not waiting.is_leader
        leader.stop()
        await led  # the lock is free now
        for _ in range(400):  # it tries every 50 ms, not once an hour
            if waiting.is_leader:
                break
            await asyncio.sleep(0.01)
        assert waiting.is_leader
        waiting.stop()
        await follows

    asyncio.run(main())
    first.store.engine.dispose()
    second.store.engine.dispose()


def test_a_replica_that_does_not_lead_delivers_on_postgresql_only(
    database_url: str, tmp_path: Path
) -> None:
    poster = RecordingPoster()
    core = build_core(
        Settings(data_dir=tmp_path, database_url=database_url, delivery_claim_seconds=0.05),
        posters={"test": poster},
    )
    seed_channel(
        core.store,
        tmp_path / "feed",
        [harbour_story(0, 0)],
        schedule=None,
    )
    [channel] = core.store.channels()
    leader = LeaderLock(core.store.engine)  # another replica leads, and makes the rows
    assert leader.try_acquire()
    assert core.store.claim_delivery(channel.id, "now-2024-05-01T08:00:00") is not None
    runner = Runner(ScheduledWork(core.store, core.deliverer, core.poller))

    async def main() -> None:
        running = asyncio.create_task(runner.run())
        for _ in range(400):
            await asyncio.sleep(0.01)
            if poster.posts:
                break
        runner.stop()
        await running

    asyncio.run(main())
    leader.release()
    assert not runner.is_leader
    shared = core.store.engine.dialect.name == "postgresql"
    assert len(poster.posts) == (2 if shared else 0)  # on SQLite only the leader sends
    core.store.engine.dispose()
