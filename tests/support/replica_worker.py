"""One `serve` replica for the replica tests: the real Runner, a file as the platform.

    python tests/support/replica_worker.py DATABASE_URL WORK_DIR LEASE_SECONDS CONCURRENCY [RATE]

Runs what `newsdigest serve` runs for delivery (Runner: the leader lock, the scheduler's
jobs, every replica's claim loop) on the real clock. The "platform" is an append-only file,
WORK_DIR/posts.jsonl: each posted part is one line with the poster's pid, written between
two short waits (a request's way out and its answer), so a kill can fall before, during or
after a part. `find` logs each lookup to WORK_DIR/finds.jsonl and reads the posts file, as
Slack's metadata lookup reads channel history. The replica writes WORK_DIR/ready-PID once
built, starts when WORK_DIR/go exists and stops cleanly when WORK_DIR/stop exists, leaving
its metrics (what its /metrics would show) in WORK_DIR/metrics-PID.prom.

With RATE the poster paces its posts as the platform adapters do, with the pacer the bot
makes for them (`make_pacer`: shared by the replicas on PostgreSQL), to at most RATE posts a
second overall; each post line then also has `at`, the wall-clock time its request left.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.delivery.pacing import PaceLimits, Pacer, SharedPacer
from bot.delivery.polling import SourcePoller
from bot.delivery.poster import ChannelDigest, SentPart
from bot.delivery.runner import Runner, ScheduledWork
from bot.ingest.fetch import FetchOptions
from bot.ops.metrics import METRICS
from bot.store.repo import Store
from bot.summarize.extractive import ExtractiveSummarizer
from bot.wiring import database_threads, delivery_engine, make_pacer
from bot.workers import Workers

OUT, BACK = 0.06, 0.04  # seconds: a request on its way out, and its answer on the way back


def append(path: Path, record: dict[str, Any]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, (json.dumps(record) + "\n").encode())
    finally:
        os.close(fd)


class SlowFilePoster:
    platform = "file"

    def __init__(self, work: Path, pacer: Pacer | None = None) -> None:
        self.posts, self.finds = work / "posts.jsonl", work / "finds.jsonl"
        if pacer is not None:
            self.pacer = pacer  # the engine then marks a part when its pacer lets it go

    def render(self, digest: ChannelDigest) -> Sequence[Any]:
        return [{"top": digest.slot}, *({"article": d.article.title} for d in digest.digests)]

    async def send(
        self, channel: str, part: Any, part_key: str, thread_ref: str | None
    ) -> SentPart:
        record: dict[str, Any] = {"channel": channel, "key": part_key, "pid": os.getpid()}
        if hasattr(self, "pacer"):
            await self.pacer.wait(channel)
            record["at"] = time.time()
        await asyncio.sleep(OUT)
        append(self.posts, record)
        await asyncio.sleep(BACK)
        return SentPart(part_key, thread_ref or part_key)

    async def find(self, channel: str, part_key: str, thread_ref: str | None) -> SentPart | None:
        append(self.finds, {"key": part_key, "pid": os.getpid()})
        if self.posts.exists():
            for line in self.posts.read_text().splitlines():
                if json.loads(line)["key"] == part_key:
                    return SentPart(part_key, thread_ref or part_key)
        return None

    async def notice(self, channel: str, text: str) -> None:
        pass


async def main(
    url: str, work: Path, lease: float, concurrency: int, rate: float | None = None
) -> None:
    store = Store.open(url, run_migrations=False)
    workers = Workers(database=database_threads(store))
    pacer = None
    if rate is not None:  # many channels, each far under its own limit: the overall one binds
        limits = PaceLimits(per_channel_rate=100.0, per_channel_burst=1, global_rate=rate)
        pacer = make_pacer(store, workers.db, limits, "file")
    poster = SlowFilePoster(work, pacer)
    deliverer = delivery_engine(
        store,
        ExtractiveSummarizer(),
        {"file": poster},
        lookback=timedelta(days=3650),
        lease=timedelta(seconds=lease),
        concurrency=concurrency,
        claim_every=0.1,
        workers=workers,
    )
    poller = SourcePoller(deliverer.store, FetchOptions(), deliverer.posters, deliverer.digests)
    runner = Runner(
        ScheduledWork(store, deliverer, poller),
        tick=timedelta(seconds=1),
        lock_retry=timedelta(seconds=0.2),
    )
    if "NEWSDIGEST_REPLICA_NAME" in os.environ:  # as `serve` names itself
        runner.name_replica(os.environ["NEWSDIGEST_REPLICA_NAME"])
    (work / f"ready-{os.getpid()}").write_text(deliverer.owner)
    while not (work / "go").exists():
        await asyncio.sleep(0.02)

    async def stop_when_told() -> None:
        while not (work / "stop").exists():
            await asyncio.sleep(0.05)
        runner.stop()

    watcher = asyncio.create_task(stop_when_told())
    await runner.run()
    await watcher
    # what this replica's /metrics would show, for the test to read
    (work / f"metrics-{os.getpid()}.prom").write_bytes(METRICS.render())
    if isinstance(pacer, SharedPacer):
        pacer.table.close()
    workers.close()
    store.engine.dispose()


if __name__ == "__main__":
    asyncio.run(
        main(
            sys.argv[1],
            Path(sys.argv[2]),
            float(sys.argv[3]),
            int(sys.argv[4]),
            float(sys.argv[5]) if len(sys.argv) > 5 else None,
        )
    )
