"""The bot's Prometheus metrics, through the official client.

Every family is declared here, once, with its labels pre-filled for each
platform, so a scrape of a fresh process shows them all at zero: dashboards and
alerts can be written before the first digest goes out. The registry is the
bot's own (not the client's global one) with the standard process and platform
collectors added, so tests and several bots in one process do not collide.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

PLATFORMS = ("slack", "discord", "console")
SOURCE_STATES = ("ok", "failing", "paused")
SECONDS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        r = self.registry
        self.posted = Counter(
            "newsdigest_digests_posted", "Digests posted", ["platform"], registry=r
        )
        self.failed = Counter(
            "newsdigest_digests_failed",
            "Digests that could not be posted",
            ["platform"],
            registry=r,
        )
        self.rate_limited = Counter(
            "newsdigest_rate_limited",
            "Posts the platform answered with HTTP 429 (rate limited)",
            ["platform"],
            registry=r,
        )
        self.fetched = Counter(
            "newsdigest_articles_fetched", "New articles stored from sources", registry=r
        )
        self.source_failures = Counter(
            "newsdigest_source_failures", "Failed source fetches", registry=r
        )
        self.llm_fallbacks = Counter(
            "newsdigest_llm_fallbacks",
            "LLM summaries replaced whole by the extractive summarizer",
            registry=r,
        )
        self.llm_replaced_bullets = Counter(
            "newsdigest_llm_replaced_bullets",
            "LLM bullets that failed validation and were replaced or dropped",
            registry=r,
        )
        self.articles_without_bullets = Counter(
            "newsdigest_articles_without_bullets",
            "Articles with text that gave no bullet, left out of digests (never posted empty)",
            registry=r,
        )
        self.pages_fetched = Counter(
            "newsdigest_article_pages",
            "Article pages behind feed items, by outcome",
            ["outcome"],
            registry=r,
        )
        self.last_digest = Gauge(
            "newsdigest_last_digest_timestamp_seconds",
            "Unix time of the last digest posted",
            ["platform"],
            registry=r,
        )
        self.channels = Gauge("newsdigest_channels", "Channels known to the bot", registry=r)
        self.sources = Gauge("newsdigest_sources", "Sources by state", ["state"], registry=r)
        self.in_flight = Gauge(
            "newsdigest_deliveries_in_flight",
            "Deliveries being sent or waiting to retry",
            registry=r,
        )
        # this replica's share of the delivery queue (each replica's /metrics shows its own)
        self.replica = Gauge(
            "newsdigest_replica",
            "Always 1; `owner` is this replica's lease owner id, as in the deliveries table",
            ["owner"],
            registry=r,
        )
        self.claims = Counter(
            "newsdigest_delivery_claims",
            "Deliveries this replica claimed from the queue (first sends and resumed ones)",
            registry=r,
        )
        self.takeovers = Counter(
            "newsdigest_delivery_takeovers",
            "Resumed deliveries this replica claimed from another owner",
            registry=r,
        )
        self.lease_expiries = Counter(
            "newsdigest_delivery_lease_expiries",
            "Deliveries claimed because their lease had lapsed (its sender died or stalled)",
            registry=r,
        )
        self.leases_lost = Counter(
            "newsdigest_delivery_leases_lost",
            "Deliveries another replica took while this one still meant to send them",
            registry=r,
        )
        self.claimed = Gauge(
            "newsdigest_deliveries_claimed",
            "Deliveries this replica holds right now (bounded by NEWSDIGEST_DELIVERY_CONCURRENCY)",
            registry=r,
        )
        self.slot_delay = Histogram(
            "newsdigest_slot_to_post_seconds",
            "From a digest's scheduled slot to its last part posted",
            buckets=SECONDS,
            registry=r,
        )
        self.poll_seconds = Histogram(
            "newsdigest_poll_seconds", "Time to poll one source", buckets=SECONDS, registry=r
        )
        self.summarizer_seconds = Histogram(
            "newsdigest_summarizer_seconds",
            "Time to summarize one article",
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120),
            registry=r,
        )
        for platform in PLATFORMS:
            for family in (self.posted, self.failed, self.rate_limited, self.last_digest):
                family.labels(platform=platform)
        for state in SOURCE_STATES:
            self.sources.labels(state=state)
        for outcome in ("full", "teaser", "reused"):
            self.pages_fetched.labels(outcome=outcome)
        self._refresh: Callable[[Metrics], None] | None = None

    def refresh_with(self, refresh: Callable[[Metrics], None] | None) -> None:
        """Gauges read from the store (channels, sources, deliveries) are set just before a scrape."""
        self._refresh = refresh

    def digest_posted(self, platform: str) -> None:
        self.posted.labels(platform=platform).inc()
        self.last_digest.labels(platform=platform).set(time.time())

    def render(self) -> bytes:
        """The standard text exposition (CONTENT_TYPE)."""
        if self._refresh is not None:
            self._refresh(self)
        return generate_latest(self.registry)

    def value(self, name: str, **labels: str) -> float:
        return float(self.registry.get_sample_value(name, labels or None) or 0.0)


METRICS = Metrics()
