"""The long-running loop behind `newsdigest serve`: every replica delivers, the leader schedules.

Every replica runs the delivery loop (`Deliverer.run_claims`): it claims due delivery rows a
few at a time and sends them. The leader alone runs the APScheduler jobs, which make those
rows when slots fall due and poll the sources. On SQLite (one process) only the leader
delivers. Jobs live in a persistent SQLAlchemy job store in the bot's own database. Job
functions are module-level (APScheduler persists references, not closures) and reach the
work they drive through `_ACTIVE`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.delivery.engine import Deliverer
from bot.delivery.identity import ReplicaName
from bot.delivery.leader import LeaderLock
from bot.delivery.polling import SourcePoller
from bot.delivery.schedule import channel_schedule
from bot.store.repo import Store

log = logging.getLogger(__name__)


class ScheduledWork:
    """What the scheduler's jobs drive: delivery ticks, polls and each channel's slots."""

    def __init__(self, store: Store, deliverer: Deliverer, poller: SourcePoller) -> None:
        self.store = store
        self.deliverer = deliverer
        self.poller = poller


_ACTIVE: ScheduledWork | None = None
TICK = timedelta(seconds=30)
LOCK_RETRY = timedelta(seconds=5)  # how soon a waiting process notices the leader is gone
POLL = timedelta(seconds=60)


async def tick_job() -> None:
    """Catch-up: rows for slots the cron jobs missed (say, while no replica led)."""
    if _ACTIVE is not None:
        await _ACTIVE.deliverer.create_due_slots()


async def poll_job() -> None:
    if _ACTIVE is not None:
        await _ACTIVE.poller.poll_due()


async def channel_job(channel_id: int) -> None:
    """A channel's cron fired: fresh articles, then the slot's row (the slot is computed from the
    schedule, not from this moment); the replicas' delivery loops claim and send it."""
    if _ACTIVE is None:
        return
    channel = await asyncio.to_thread(_ACTIVE.store.channel_by_id, channel_id)
    posters = _ACTIVE.deliverer.posters
    if channel and channel.schedule and not channel.paused and channel.platform in posters:
        await _ACTIVE.poller.poll_due()
        await _ACTIVE.deliverer.run_channel(channel, datetime.now(UTC))


class Runner:
    def __init__(
        self,
        work: ScheduledWork,
        tick: timedelta = TICK,
        poll: timedelta = POLL,
        lock_retry: timedelta = LOCK_RETRY,
    ) -> None:
        self.work = work
        self.shared_database = work.store.engine.dialect.name == "postgresql"
        self.tick = tick
        self.poll = poll
        self.lock_retry = lock_retry
        self.lock = LeaderLock(work.store.engine)
        self.name: ReplicaName | None = None
        self.scheduler: AsyncIOScheduler | None = None
        self.last_beat: datetime | None = None
        self._stop = asyncio.Event()

    @property
    def is_leader(self) -> bool:
        return self.scheduler is not None

    def stop(self) -> None:
        self._stop.set()

    def name_replica(self, wanted: str | None) -> str:
        """Hold this replica's name (the host's by default) and deliver under it, so that a
        restart under the same name resumes what a killed run left at once (see
        `bot/delivery/identity.py`). Call before anything claims; released when `run` ends."""
        self.name = ReplicaName.hold(self.work.store.engine, wanted)
        self.work.deliverer.take_name(self.name)
        return self.name.name

    def may_deliver(self) -> bool:
        """Any replica on PostgreSQL; on SQLite only the one process that leads."""
        return self.shared_database or self.is_leader

    async def run(self) -> None:
        """Until stopped: lead when possible, keep the channel jobs in step with the store."""
        global _ACTIVE
        _ACTIVE = self.work
        delivering = asyncio.create_task(
            self.work.deliverer.run_claims(self._stop, active=self.may_deliver)
        )
        try:
            while not self._stop.is_set():
                self.last_beat = datetime.now(UTC)
                try:
                    await self._lead()
                except Exception as exc:  # the database restarting, say: try again next round
                    log.warning("could not take or keep the schedule: %s", type(exc).__name__)
                # the leader keeps the channel jobs in step every tick; a waiting process
                # tries the lock more often, so that a dead leader is replaced in seconds
                wait = self.tick if self.scheduler is not None else min(self.tick, self.lock_retry)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=wait.total_seconds())
        finally:
            self._stop.set()
            await delivering  # hands back what it could not finish
            self._stop_scheduler()
            self.lock.release()
            if self.name is not None:
                self.name.release()
            _ACTIVE = None

    async def _lead(self) -> None:
        """Take the leader lock when free, notice when it was lost, and keep the channel jobs
        in step. The lock's statements and the jobs' reads (every channel) run on a worker
        thread: the loop also carries every command and every delivery."""
        if self.scheduler is None:
            if await asyncio.to_thread(self.lock.try_acquire):
                self._start_scheduler()
        elif not await asyncio.to_thread(self.lock.still_held):
            self._stop_scheduler()
        if self.scheduler is not None:
            await asyncio.to_thread(self.sync_channel_jobs)

    def _start_scheduler(self) -> None:
        log.info("this process now runs the schedule")
        store = SQLAlchemyJobStore(engine=self.work.store.engine, tablename="apscheduler_jobs")
        grace = int(self.work.deliverer.grace.total_seconds())
        scheduler = AsyncIOScheduler(
            jobstores={"default": store},
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace},
        )
        scheduler.start()
        try:
            for job, every, job_id in (
                (tick_job, self.tick, "tick"),
                (poll_job, self.poll, "poll"),
            ):
                scheduler.add_job(
                    job,
                    IntervalTrigger(seconds=every.total_seconds()),
                    id=job_id,
                    replace_existing=True,
                    next_run_time=datetime.now(UTC),
                )
        except Exception:  # the job store unreachable: no half-started scheduler left running
            scheduler.shutdown(wait=False)
            raise
        self.scheduler = scheduler  # its channel jobs are added by `_lead`, right after

    def _stop_scheduler(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None

    def sync_channel_jobs(self) -> None:
        """One cron job per scheduled channel, built from day names in the channel's time zone."""
        assert self.scheduler is not None
        wanted: dict[str, CronTrigger] = {}
        for channel in self.work.store.channels():
            schedule = channel_schedule(channel)
            if schedule is not None and not channel.paused:
                wanted[f"channel-{channel.id}"] = CronTrigger(
                    timezone=schedule.zone, **schedule.cron_fields()
                )
        existing = {
            job.id: job for job in self.scheduler.get_jobs() if job.id.startswith("channel-")
        }
        for job_id, job in existing.items():
            if job_id not in wanted:
                job.remove()
        for job_id, trigger in wanted.items():
            job = existing.get(job_id)
            if job is None or str(job.trigger) != str(trigger):
                self.scheduler.add_job(
                    channel_job,
                    trigger,
                    args=[int(job_id.split("-")[1])],
                    id=job_id,
                    replace_existing=True,
                )
