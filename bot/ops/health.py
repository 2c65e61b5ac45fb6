"""`/healthz` and `/metrics` over HTTP (off by default; loopback by default)."""

from __future__ import annotations

import asyncio
import logging
import sys
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


def probe(settings: Any, timeout: float = 4.0) -> int:
    """Exit status for a container HEALTHCHECK: 0 when this bot's own /healthz says ok.

    It asks the port the configuration names, on loopback when the server listens on all
    interfaces, so a changed port or host networking never probes somebody else's server."""
    import urllib.error
    import urllib.request

    port = settings.health_port
    if not port:
        print(
            "newsdigest: the health endpoint is off (set NEWSDIGEST_HEALTH_PORT)", file=sys.stderr
        )
        return 1
    host = settings.health_host
    host = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    host = f"[{host}]" if ":" in host else host
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=timeout) as answer:
            body = answer.read(4096).decode("utf-8", "replace")
            healthy = answer.status == 200 and '"status": "ok"' in body.replace('":"', '": "')
    except (OSError, urllib.error.URLError) as exc:
        print(f"newsdigest: health probe failed: {exc}", file=sys.stderr)
        return 1
    print(body)
    return 0 if healthy else 1
