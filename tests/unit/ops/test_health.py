"""/healthz and /metrics over HTTP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from support.loopback import free_port

from bot.ops.health import make_app
from bot.ops.metrics import METRICS
from bot.store.repo import Store


class Beat:
    def __init__(self, when: datetime | None) -> None:
        self.last_beat = when
        self.is_leader = True


@pytest.mark.parametrize("alive", [True, False])
def test_healthz_and_metrics_over_http(tmp_path: Path, alive: bool) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'h.sqlite3'}")
    METRICS.digest_posted("slack")
    METRICS.summarizer_seconds.observe(0.004)

    async def main() -> None:
        runner = web.AppRunner(make_app(store, Beat(datetime.now(UTC) if alive else None)))
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            async with httpx.AsyncClient() as http:
                health = await http.get(f"http://127.0.0.1:{port}/healthz")
                metrics = await http.get(f"http://127.0.0.1:{port}/metrics")
        finally:
            await runner.cleanup()
        assert health.status_code == (200 if alive else 503)
        assert health.json()["database"] == "reachable"
        assert metrics.status_code == 200
        assert 'newsdigest_digests_posted_total{platform="slack"}' in metrics.text
        assert "newsdigest_summarizer_seconds_bucket" in metrics.text

    asyncio.run(main())
    store.engine.dispose()
