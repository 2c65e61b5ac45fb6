"""Metrics: every family from the first scrape; the Grafana dashboard asks only for exposed names."""

from __future__ import annotations

import re

from support.paths import ROOT


def test_a_fresh_scrape_shows_every_family_and_the_process() -> None:
    from bot.ops.metrics import CONTENT_TYPE, Metrics

    text = Metrics().render().decode()
    for family in (
        "newsdigest_digests_posted_total",
        "newsdigest_digests_failed_total",
        "newsdigest_rate_limited_total",
        "newsdigest_articles_fetched_total",
        "newsdigest_source_failures_total",
        "newsdigest_llm_fallbacks_total",
        "newsdigest_llm_replaced_bullets_total",
        "newsdigest_last_digest_timestamp_seconds",
        "newsdigest_channels",
        "newsdigest_sources",
        "newsdigest_deliveries_in_flight",
        "newsdigest_delivery_claims_total",
        "newsdigest_delivery_takeovers_total",
        "newsdigest_delivery_lease_expiries_total",
        "newsdigest_delivery_leases_lost_total",
        "newsdigest_deliveries_claimed",
        "newsdigest_slot_to_post_seconds_bucket",
        "newsdigest_poll_seconds_bucket",
        "newsdigest_summarizer_seconds_bucket",
    ):
        assert family in text, family
    assert 'newsdigest_digests_posted_total{platform="slack"} 0.0' in text
    assert 'newsdigest_sources{state="paused"} 0.0' in text
    assert "process_cpu_seconds_total" in text and "python_info" in text
    assert CONTENT_TYPE.startswith("text/plain; version=")


def test_the_grafana_dashboard_uses_only_exposed_metrics() -> None:
    import json

    from bot.ops.metrics import Metrics

    exposed = set(re.findall(r"^([a-z_]+)(?:\{|\s)", Metrics().render().decode(), re.M))
    dashboard = json.loads((ROOT / "config" / "grafana-dashboard.json").read_text())
    queries = [
        target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])
    ]
    assert len(queries) >= 8
    for query in queries:
        for name in re.findall(r"\b(newsdigest_[a-z_]+|process_[a-z_]+)\b", query):
            assert name in exposed, name
