"""The 08:00 rush: N channels due the same minute, against rate-limited loopback Slack and Discord.

The loopback platforms enforce the published limits (Slack: 1 post/s per channel with
bursts of 3 and 100 posts/s overall; Discord: 5 messages per 5 s per channel and 50
requests/s overall; 50 ms a call) and answer 429s as the platforms do. The rate-limit
floor is the least time those limits allow for the posts the rush needs; the figure that
matters is time to the last post divided by that floor (1.0 is perfect). CPU seconds are
the bot process's own (the servers run in another process).

    python -m bench.rush [slack|discord] [N ...]   default: both, 100 1000 10000, plus the 300 × 3 Slack rush
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.delivery.engine import Deliverer
from bot.delivery.polling import content_hash
from bot.digest.sections import build_article
from bot.ingest.plaintext import parse_plaintext
from bot.store.repo import Store
from bot.summarize.extractive import ExtractiveSummarizer
from bot.wiring import delivery_engine

SLOT = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
LIMITS = {"slack": (100.0, 1.0, 3), "discord": (50.0, 1.0, 5)}  # overall/s, per channel/s, burst


def story(c: int, a: int) -> str:
    return (
        f"Harbour vote {c}-{a} passes\n\nThe harbour board of town {c} voted on Monday to repair "
        f"pier {a} for {a + 2} million dollars, ending a year of debate. Engineers said the pier "
        f"had lost a quarter of its strength since {2000 + a}. Work starts in {a + 3} weeks and "
        "ends in the autumn, the board said. Fishermen welcomed the vote but asked for a "
        "temporary landing during the works.\n"
    )


def seed(store: Store, platform: str, channels: int, articles: int) -> None:
    for c in range(channels):
        channel = store.channel(platform, str(200_000 + c))
        assert channel is not None
        source, _ = store.subscribe(channel.id, f"https://example.org/{platform}/{c}.xml")
        for a in range(articles):
            article = build_article(parse_plaintext(story(c, a), f"feed-{c}"))
            store.add_article(
                source.id,
                article,
                [f"hash:{c}:{a}"],
                content_hash(article),
                SLOT - timedelta(hours=1),
            )
        store.set_schedule(channel.id, "daily 08:00 UTC", "UTC", SLOT - timedelta(days=1))


def server(kind: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.loopback_servers", kind],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, json.loads(process.stdout.readline())["url"]


def stats(url: str) -> dict[str, Any]:
    base = url.split("/api")[0]
    with urllib.request.urlopen(f"{base}/_stats", timeout=30) as answer:
        return dict(json.loads(answer.read()))


async def deliver(platform: str, url: str, store: Store) -> Deliverer:
    if platform == "slack":
        from adapters.slack.poster import SlackPoster, make_client

        client = make_client("xoxb-bench", url)
        engine = delivery_engine(
            store,
            ExtractiveSummarizer(),
            {"slack": SlackPoster(client)},
            lookback=timedelta(days=3650),
        )
        try:
            await engine.tick(SLOT + timedelta(seconds=5))
        finally:
            await client.close_pool()
        return engine
    import discord

    from adapters.discord.poster import DiscordPoster

    discord.http.Route.BASE = url
    client = discord.Client(intents=discord.Intents.none())
    await client.http.static_login("bench-token")
    try:
        engine = delivery_engine(
            store,
            ExtractiveSummarizer(),
            {"discord": DiscordPoster(client)},
            lookback=timedelta(days=3650),
        )
        await engine.tick(SLOT + timedelta(seconds=5))
        return engine
    finally:
        await client.http.close()


def floor_seconds(platform: str, posts: int, per_channel_posts: int) -> float:
    overall, per_channel, burst = LIMITS[platform]
    return max(posts / overall, max(per_channel_posts - burst, 0) / per_channel)


def run(platform: str, channels: int, articles: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'rush.sqlite3'}")
        seed(store, platform, channels, articles)
        process, url = server(platform)
        try:
            cpu0 = resource.getrusage(resource.RUSAGE_SELF)
            started = time.monotonic()
            engine = asyncio.run(deliver(platform, url, store))
            elapsed = time.monotonic() - started
            cpu1 = resource.getrusage(resource.RUSAGE_SELF)
            seen = stats(url)
        finally:
            assert process.stdin is not None
            process.stdin.close()
            process.wait(timeout=30)
        states = {d.state for d in store.deliveries()}
        store.engine.dispose()
    if platform == "slack":
        per_channel = 1 + articles
        posts = channels * per_channel
        floor = floor_seconds(platform, posts, per_channel)
    else:
        # a header, then the articles in a thread under it: Discord's global limit counts every
        # request the digest needed (the messages, the thread, the channel's type once)
        posts = seen["messages"]
        per_channel = posts // max(channels, 1)
        floor = floor_seconds(platform, seen["accepted"], per_channel)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return {
        "platform": platform,
        "channels": channels,
        "articles": articles,
        "posts": posts,
        "seconds": elapsed,
        "floor": floor,
        "ratio": elapsed / floor,
        "cpu_ms_per_channel": 1000 * cpu / channels,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "429s": seen["rejected"],
        "duplicates": seen["duplicates"],
        "all_sent": states == {"sent"} and seen["channels"] == channels,
        "posted": engine.stats.posted,
    }


def main(argv: list[str]) -> int:
    platforms = [a for a in argv if a in LIMITS] or list(LIMITS)
    sizes = [int(a) for a in argv if a.isdigit()] or [100, 1000, 10_000]
    cases = [("slack", 300, 3)] if "slack" in platforms else []
    cases += [(p, n, 1) for n in sizes for p in platforms]
    print("Rush: N channels due at once against rate-limited loopback platforms (50 ms a call)")
    print(
        f"{'platform':9} {'channels':>8} {'posts':>7} {'floor s':>8} {'took s':>8} {'ratio':>6} "
        f"{'CPU ms/ch':>9} {'peak RSS':>9} {'429s':>5} {'doubles':>7} {'all sent':>8}"
    )
    for platform, channels, articles in cases:
        r = run(platform, channels, articles)
        label = f"{channels}×{articles}" if articles > 1 else str(channels)
        print(
            f"{platform:9} {label:>8} {r['posts']:>7} {r['floor']:>8.1f} {r['seconds']:>8.1f} "
            f"{r['ratio']:>6.2f} {r['cpu_ms_per_channel']:>9.1f} {r['rss_mb']:>7.0f}MB "
            f"{r['429s']:>5} {r['duplicates']:>7} {'yes' if r['all_sent'] else 'NO':>8}",
            flush=True,
        )
    print("floor = posts ÷ the platform's overall limit (or the per-channel pace if larger); on")
    print("Discord every request the digests needed (messages, threads, channel lookups) counts;")
    print("ratio = time to the last post ÷ floor; peak RSS is the bot process's high-water mark.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
