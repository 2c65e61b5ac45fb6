"""Fan-out: 500 articles from 20 local feeds delivered to 200 channels.

Measures wall time, peak memory and summarizer calls. Each article a channel receives must
be summarized once, however many channels receive it (curation groups one story told by
several feeds into one entry, so fewer than 500 articles may be shown).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from bench.summarization import DEV
from bot.delivery.polling import local_source, poll_source
from bot.delivery.poster import ChannelDigest, SentPart
from bot.ingest.fetch import FetchOptions
from bot.models import Article, Digest
from bot.store.repo import Store
from bot.summarize.extractive import ExtractiveSummarizer
from bot.wiring import delivery_engine


class CountingSummarizer(ExtractiveSummarizer):
    calls = 0

    def summarize(
        self, article: Article, summary_bullets: int = 3, section_bullets: int = 3
    ) -> Digest:
        CountingSummarizer.calls += 1
        return super().summarize(article, summary_bullets, section_bullets)


class NullPoster:
    """A platform that accepts everything instantly: the benchmark measures the core."""

    platform = "bench"
    parts = 0

    def render(self, digest: ChannelDigest) -> Sequence[Any]:
        return [len(digest.digests)]

    async def send(
        self, channel: str, part: Any, part_key: str, thread_ref: str | None
    ) -> SentPart:
        NullPoster.parts += 1
        return SentPart(part_key)

    async def find(self, channel: str, part_key: str, thread_ref: str | None) -> SentPart | None:
        return None

    async def notice(self, channel: str, text: str) -> None:
        pass


def texts(n: int) -> list[str]:
    base = [json.loads(line)["article"] for line in DEV.open()] if DEV.exists() else []
    base = base or [
        f"The council met on day {i} to discuss the budget. Members agreed on a plan after a "
        f"long debate in the hall. Residents will vote next month."
        for i in range(50)
    ]
    return [f"{base[i % len(base)]} (Report {i}.)" for i in range(n)]


def write_feeds(folder: Path, feeds: int, articles: int, now: datetime) -> list[Path]:
    paths = []
    bodies = texts(articles)
    per_feed = articles // feeds
    for f in range(feeds):
        items = []
        for i in range(per_feed):
            n = f * per_feed + i
            items.append(
                f"<item><guid>a{n}</guid><link>https://example.com/{n}</link><title>Article {n}</title>"
                f"<pubDate>{format_datetime(now - timedelta(minutes=n))}</pubDate>"
                f"<description>{escape(bodies[n])}</description></item>"
            )
        path = folder / f"feed{f}.xml"
        path.write_text(
            '<?xml version="1.0"?><rss version="2.0"><channel><title>f</title>'
            + "".join(items)
            + "</channel></rss>"
        )
        paths.append(path)
    return paths


async def run(feeds: int, articles: int, channels: int) -> dict[str, float]:
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = Store.open(f"sqlite:///{folder / 'bench.sqlite3'}")
        paths = write_feeds(folder, feeds, articles, now)
        started = time.perf_counter()
        sources = [store.source(local_source(str(p))) for p in paths]
        for source in sources:
            await poll_source(store, source, FetchOptions(), now)
        polled = time.perf_counter()
        for c in range(channels):
            channel = store.channel("bench", f"C{c}")
            assert channel is not None
            for source in sources:
                store.subscribe(channel.id, source.url)
        deliverer = delivery_engine(
            store,
            CountingSummarizer(),
            {"bench": NullPoster()},
            lookback=timedelta(days=1),
            max_articles=articles,
        )
        for channel_info in store.channels():
            await deliverer.deliver(channel_info, "2024-05-01T08:00", now)
        done = time.perf_counter()
        delivered = sum(len(d.article_ids) for d in store.deliveries())
        distinct = len({i for d in store.deliveries() for i in d.article_ids})
        stored = store.count_articles()
        store.engine.dispose()
    return {
        "articles stored": stored,
        "channels": channels,
        "article deliveries": delivered,
        "distinct articles delivered": distinct,
        "summarizer calls": CountingSummarizer.calls,
        "poll seconds": polled - started,
        "deliver seconds": done - polled,
        "wall seconds": done - started,
        "peak RSS MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--channels", type=int, default=200)
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.feeds, args.articles, args.channels))
    print(
        f"Fan-out: {args.articles} articles from {args.feeds} local feeds to {args.channels} channels (SQLite)"
    )
    print()
    print("| measure | value |")
    print("|---|---|")
    for key, value in result.items():
        print(
            f"| {key} | {value:.2f} |"
            if isinstance(value, float) and not value.is_integer()
            else f"| {key} | {int(value)} |"
        )
    ok = result["articles stored"] == args.articles and (
        result["summarizer calls"] == result["distinct articles delivered"]
    )
    print("each delivered article summarized once: " + ("yes" if ok else "NO"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
