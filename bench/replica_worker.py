"""One replica for bench/replicas.py: the bot's delivery loop against the loopback Slack.

    python -m bench.replica_worker DATABASE_URL SLACK_URL WORK_DIR lead|follow

What `newsdigest serve` runs for delivery on every replica (`Deliverer.run_claims`: claim due
rows, a lease each, render, post, record), with the Slack poster and the pacer the bot makes
for it (shared by the replicas through PostgreSQL), on the event loop `serve` runs on. The
`lead` replica also makes the slot's rows when told to go, as the leader's catch-up tick does
(`create_due_slots`); the bench kills only followers, so that no leader hand-over is needed for
the rows to exist. The replica writes WORK_DIR/ready-PID (its lease owner) once built, starts
when WORK_DIR/go exists and stops cleanly when WORK_DIR/stop exists, leaving its counts in
WORK_DIR/stats-PID.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.slack.poster import SlackPoster, make_client
from bot.delivery.pacing import SLACK_LIMITS, SharedPacer
from bot.ops import event_loop
from bot.ops.settings import Settings
from bot.store.repo import Store
from bot.summarize.extractive import ExtractiveSummarizer
from bot.wiring import database_threads, delivery_engine, make_pacer
from bot.workers import Workers


async def main(url: str, slack_url: str, work: Path, role: str) -> None:
    store = Store.open(url, run_migrations=False)
    workers = Workers(database=database_threads(store))
    pacer = make_pacer(store, workers.db, SLACK_LIMITS, "slack")
    client = make_client("xoxb-bench", slack_url)
    poster = SlackPoster(client, pacer)
    deliverer = delivery_engine(
        store,
        ExtractiveSummarizer(),
        {"slack": poster},
        lookback=timedelta(days=3650),
        workers=workers,
    )
    (work / f"ready-{os.getpid()}").write_text(deliverer.owner)
    while not (work / "go").exists():
        await asyncio.sleep(0.02)
    stop = asyncio.Event()

    async def stop_when_told() -> None:
        while not (work / "stop").exists():
            await asyncio.sleep(0.05)
        stop.set()

    watcher = asyncio.create_task(stop_when_told())
    claims = asyncio.create_task(deliverer.run_claims(stop))
    if role == "lead":
        await deliverer.create_due_slots(datetime.now(UTC))
        (work / "made").write_text("")  # the slot's rows exist: the lead may now be killed
    await claims
    await watcher
    await client.close_pool()
    stats = deliverer.stats
    (work / f"stats-{os.getpid()}.json").write_text(
        json.dumps({"posted": stats.posted, "rate_limited": stats.rate_limited})
    )
    if isinstance(pacer, SharedPacer):
        pacer.table.close()
    workers.close()
    store.engine.dispose()


if __name__ == "__main__":
    # the loop `serve` runs on, with its timer slack (Settings.event_loop, timer_slack_ms):
    # NEWSDIGEST_EVENT_LOOP=asyncio or NEWSDIGEST_TIMER_SLACK_MS=10 compares
    settings = Settings()
    event_loop.run(
        main(sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4]),
        settings.event_loop,
        settings.timer_slack_ms / 1000,
    )
