"""`/healthz` and `/metrics` over HTTP (off by default; loopback by default)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from aiohttp import web

from bot.ops.metrics import CONTENT_TYPE, METRICS, Metrics

log = logging.getLogger(__name__)


class HealthSource(Protocol):
    """What /healthz asks: is the loop alive, and does the database answer."""

    last_beat: datetime | None


def health_status(
    store: Any, runner: HealthSource, stale_after: timedelta
) -> tuple[bool, dict[str, Any]]:
    now = datetime.now(UTC)
    beat = runner.last_beat
    scheduler_ok = beat is not None and now - beat <= stale_after
    try:
        database_ok = bool(store.ping())
    except Exception as exc:
        log.warning("health check: database unreachable: %s", type(exc).__name__)
        database_ok = False
    body = {
        "status": "ok" if scheduler_ok and database_ok else "unhealthy",
        "scheduler": "alive" if scheduler_ok else "stalled",
        "leader": bool(getattr(runner, "is_leader", False)),
        "database": "reachable" if database_ok else "unreachable",
    }
    return scheduler_ok and database_ok, body


def store_gauges(store: Any) -> Any:
    """Sets the gauges that come from the database; a failing database leaves them as they were."""

    def refresh(metrics: Metrics) -> None:
        try:
            counts = store.ops_counts()
        except Exception as exc:
            log.warning("metrics: database unreachable: %s", type(exc).__name__)
            return
        metrics.channels.set(counts["channels"])
        metrics.in_flight.set(counts["in_flight"])
        for state in ("ok", "failing", "paused"):
            metrics.sources.labels(state=state).set(counts[state])

    return refresh


def make_app(
    store: Any, runner: HealthSource, stale_after: timedelta = timedelta(minutes=3)
) -> web.Application:
    METRICS.refresh_with(store_gauges(store))

    async def healthz(_request: web.Request) -> web.Response:
        ok, body = await asyncio.to_thread(health_status, store, runner, stale_after)
        return web.json_response(body, status=200 if ok else 503)

    async def metrics(_request: web.Request) -> web.Response:
        body = await asyncio.to_thread(METRICS.render)
        return web.Response(
            body=body,
            headers={"Content-Type": CONTENT_TYPE, "X-Content-Type-Options": "nosniff"},
        )

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


async def start_health_server(bot: Any, runner: HealthSource) -> None:
    """Serve until cancelled on NEWSDIGEST_HEALTH_HOST:NEWSDIGEST_HEALTH_PORT."""
    settings = bot.settings
    app_runner = web.AppRunner(make_app(bot.store, runner), access_log=None)
    await app_runner.setup()
    await web.TCPSite(app_runner, settings.health_host, settings.health_port).start()
    log.info("health endpoint on http://%s:%d/healthz", settings.health_host, settings.health_port)
    try:
        await asyncio.Event().wait()
    finally:
        await app_runner.cleanup()
