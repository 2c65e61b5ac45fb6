"""Two real bot processes on one database, killed at random: exactly one post per (channel, slot)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from support.paths import ROOT
from support.seeding import seed_channel

from bot.store.repo import Store

CHANNELS = 20
READY_AFTER = 2.5  # seconds a fresh worker needs to import and connect
SLOTS = 3
T0 = datetime(2024, 5, 1, 7, 0, tzinfo=UTC)
SPEED = 24_000.0  # fake seconds per real second: a fake day every 3.6 s
RUN_FOR = 60 * 3600 / SPEED  # fake T0+60h: past the third 08:00 slot (T0+49h), before the fourth


def seed(store: Store, tmp_path: Path) -> None:
    for c in range(CHANNELS):
        stories = (
            f"Channel {c} story {a}\n\nThe harbour board of town {c} met for session {a} on Monday and "
            f"voted to repair pier number {a}. The repairs will take {a + 2} months to finish.\n"
            for a in range(SLOTS)
        )
        seed_channel(
            store, tmp_path / f"feed{c}", stories, platform="file", channel_id=f"C{c}", since=T0
        )


def start_worker(url: str, posts: Path, epoch: float) -> subprocess.Popen[bytes]:
    env = {**os.environ, "WORKER_EPOCH": str(epoch), "PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}"}
    return subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tests" / "support" / "delivery_worker.py"),
            url,
            str(posts),
            T0.isoformat(),
            str(SPEED),
            str(RUN_FOR),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_two_processes_random_kills_exactly_one_post_per_slot(
    database_url: str, tmp_path: Path
) -> None:
    store = Store.open(database_url)
    seed(store, tmp_path)
    posts = tmp_path / "posts.jsonl"
    epoch = time.time() + 4.0  # the fake clock starts once both workers have imported everything
    rng = random.Random(42)
    workers = [start_worker(database_url, posts, epoch), start_worker(database_url, posts, epoch)]
    started = [time.time(), time.time()]
    kills = 0
    time.sleep(4.0)
    deadline = epoch + RUN_FOR - 1.5
    while time.time() < deadline:
        time.sleep(rng.uniform(0.3, 0.9))
        victim = rng.randrange(2)
        if time.time() - started[1 - victim] < READY_AFTER:
            continue  # keep one warm process, as a real deployment has while another restarts
        workers[victim].send_signal(signal.SIGKILL)
        workers[victim].wait()
        kills += 1
        workers[victim] = start_worker(database_url, posts, epoch)
        started[victim] = time.time()
    for worker in workers:
        worker.wait(timeout=RUN_FOR + 30)
    assert kills >= 3
    lines = [json.loads(line) for line in posts.read_text().splitlines()]
    keys = Counter(line["key"] for line in lines)
    assert max(keys.values()) == 1, [k for k, n in keys.items() if n > 1]
    deliveries = store.deliveries()
    scheduled = [d for d in deliveries if not d.slot.startswith("now-")]
    assert len(scheduled) == CHANNELS * SLOTS
    assert Counter(d.state for d in scheduled) == {"sent": CHANNELS * SLOTS}
    top_parts = [k for k in keys if k.endswith("p0")]
    assert len(top_parts) == CHANNELS * SLOTS
    store.engine.dispose()
