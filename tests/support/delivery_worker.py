"""A bot process for the multi-process delivery test: a fake clock, a file as the platform.

    python tests/delivery_worker.py DATABASE_URL POSTS_FILE T0_ISO FAKE_SECONDS_PER_REAL_SECOND RUN_SECONDS

Runs the real Deliverer and LeaderLock; only the process holding the lock ticks. The
"platform" is an append-only file: each posted part is one line, and `find` reads the
file, as Slack's metadata lookup reads channel history.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.delivery.leader import LeaderLock
from bot.delivery.poster import ChannelDigest, SentPart
from bot.store.repo import Store
from bot.summarize.extractive import ExtractiveSummarizer
from bot.wiring import delivery_engine


class FilePoster:
    platform = "file"

    def __init__(self, path: str) -> None:
        self.path = path

    def render(self, digest: ChannelDigest) -> Sequence[Any]:
        return [{"top": digest.slot}, *({"article": d.article.title} for d in digest.digests)]

    async def send(
        self, channel: str, part: Any, part_key: str, thread_ref: str | None
    ) -> SentPart:
        line = json.dumps(
            {"channel": channel, "key": part_key, "thread": thread_ref, "pid": os.getpid()}
        )
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)
        return SentPart(part_key, thread_ref or part_key)

    async def find(self, channel: str, part_key: str, thread_ref: str | None) -> SentPart | None:
        if not os.path.exists(self.path):
            return None
        with open(self.path) as fh:
            for line in fh:
                if json.loads(line)["key"] == part_key:
                    return SentPart(part_key, thread_ref or part_key)
        return None

    async def notice(self, channel: str, text: str) -> None:
        pass


async def main(url: str, posts: str, t0: str, speed: float, run_for: float) -> None:
    store = Store.open(url, run_migrations=False)
    deliverer = delivery_engine(
        store,
        ExtractiveSummarizer(),
        {"file": FilePoster(posts)},
        grace=timedelta(hours=20),
        lookback=timedelta(days=3650),
        max_articles=1,
    )
    lock = LeaderLock(store.engine)
    start_fake = datetime.fromisoformat(t0)
    started = float(os.environ.get("WORKER_EPOCH", time.time()))
    deadline = started + run_for  # a restarted worker stops with the others
    while time.time() < deadline:
        fake_now = start_fake + timedelta(seconds=max(time.time() - started, 0.0) * speed)
        if lock.try_acquire():
            await deliverer.tick(fake_now)
        await asyncio.sleep(0.02)
    lock.release()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])))
