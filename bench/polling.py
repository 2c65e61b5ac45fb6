"""Polling at scale, against slow loopback news sites (100 ms a request).

1. 1,000 feeds on 50 sites (127.0.0.2–51), polled the way the bot does (concurrently,
   at most 2 requests at once per host), against polling one feed after another (timed on
   the first 100 feeds, the same code with no concurrency).
2. One 50-item teaser feed on one site: reading the 50 article pages politely (2 at once,
   the default 0.25 s between starts per host, and with no interval), against one page
   after another; and the same 50 items spread over 10 sites.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.delivery.polling import TeaserPages, poll_source
from bot.ingest.fetch import USER_AGENT, FetchOptions, fetch
from bot.ingest.netguard import AddressPolicy
from bot.ingest.politeness import Politeness
from bot.ingest.teasers import PageReader
from bot.store.repo import SourceInfo, Store

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)
LOOPBACK = AddressPolicy.from_setting("127.0.0.0/8")


def sites(
    hosts: int, feeds_per_host: int, latency: float
) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.loopback_servers",
            "sites",
            str(hosts),
            str(feeds_per_host),
            str(latency),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, json.loads(process.stdout.readline())


def stop(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.close()
    process.wait(timeout=30)


def settings(interval: float = 0.25) -> FetchOptions:
    return FetchOptions(policy=LOOPBACK, politeness=Politeness(2, interval, USER_AGENT))


def subscribe_all(store: Store, feeds: list[str]) -> list[SourceInfo]:
    channel = store.channel("bench", "C1")
    assert channel is not None
    return [store.subscribe(channel.id, url)[0] for url in feeds]


async def poll_concurrently(
    store: Store, sources: list[SourceInfo], fetch_settings: FetchOptions
) -> int:
    gate = asyncio.Semaphore(16)  # NEWSDIGEST_POLL_CONCURRENCY's default

    async def one(source: SourceInfo) -> int:
        async with gate:
            return (await poll_source(store, source, fetch_settings, NOW)).new_articles

    return sum(await asyncio.gather(*(one(s) for s in sources)))


async def poll_one_by_one(
    store: Store, sources: list[SourceInfo], fetch_settings: FetchOptions
) -> int:
    return sum([(await poll_source(store, s, fetch_settings, NOW)).new_articles for s in sources])


def feeds_bench() -> list[str]:
    process, farm = sites(50, 20, 0.1)
    lines = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = Store.open(f"sqlite:///{Path(tmp) / 'poll.sqlite3'}")
            sources = subscribe_all(store, farm["feeds"])
            plain = replace(settings(), politeness=Politeness(2, 0.0, USER_AGENT))
            started = time.monotonic()
            new = asyncio.run(poll_concurrently(store, sources, plain))
            together = time.monotonic() - started
            store2 = Store.open(f"sqlite:///{Path(tmp) / 'poll2.sqlite3'}")
            first = subscribe_all(store2, farm["feeds"][:100])
            started = time.monotonic()
            asyncio.run(poll_one_by_one(store2, first, FetchOptions(policy=LOOPBACK)))
            one_by_one = (time.monotonic() - started) * len(sources) / len(first)
            lines.append(
                f"1,000 feeds on 50 sites: {together:.1f} s concurrently ({len(sources) / together:.0f} feeds/s, "
                f"{new} articles) vs {one_by_one:.0f} s one after another (from 100 feeds): "
                f"{one_by_one / together:.1f}x faster"
            )
            store.engine.dispose()
            store2.engine.dispose()
    finally:
        stop(process)
    return lines


async def read_pages(urls: list[str], fetch_settings: FetchOptions) -> None:
    reader = PageReader(fetch_settings)
    await asyncio.gather(*(reader.read(u) for u in urls))


async def one_after_another(urls: list[str]) -> None:
    for url in urls:
        await fetch(url, FetchOptions(policy=LOOPBACK))


def teaser_bench() -> list[str]:
    process, farm = sites(10, 1, 0.1)
    lines = []
    try:
        one_site = [f"{farm['sites'][0]}/articles/{n}.html" for n in range(50)]
        spread = [f"{farm['sites'][n % 10]}/articles/{n}.html" for n in range(50)]
        timings = {}
        for name, urls, fetch_settings in (
            ("polite default (2 at once, 0.25 s apart)", one_site, settings(0.25)),
            ("2 at once, no interval", one_site, settings(0.0)),
            ("50 items over 10 sites, polite default", spread, settings(0.25)),
        ):
            started = time.monotonic()
            asyncio.run(read_pages(urls, fetch_settings))
            timings[name] = time.monotonic() - started
        started = time.monotonic()
        asyncio.run(one_after_another(one_site))
        sequential = time.monotonic() - started
        lines.append(
            f"50 teaser items, article pages at 100 ms each: one after another {sequential:.1f} s"
        )
        for name, took in timings.items():
            lines.append(f"  {name}: {took:.1f} s ({sequential / took:.1f}x)")
        with tempfile.TemporaryDirectory() as tmp:
            store = Store.open(f"sqlite:///{Path(tmp) / 'follow.sqlite3'}")
            [source] = subscribe_all(store, [farm["feeds"][0]])
            polite = settings()
            started = time.monotonic()
            result = asyncio.run(
                poll_source(store, source, polite, NOW, follow=TeaserPages(PageReader(polite)))
            )
            lines.append(
                f"  a whole poll of a 3-item teaser feed with its pages: {time.monotonic() - started:.2f} s, "
                f"{result.new_articles} full articles"
            )
            store.engine.dispose()
    finally:
        stop(process)
    return lines


def main() -> int:
    print("Polling (loopback sites, 100 ms a request)")
    for line in feeds_bench() + teaser_bench():
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
