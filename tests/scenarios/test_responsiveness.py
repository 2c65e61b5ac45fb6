"""The event loop stays free while the bot works: /healthz answers during slow LLM calls.

Slack fails a slash command not acknowledged within 3 s and Discord drops a gateway whose
heartbeats stall; both share the loop with /healthz. Here a slow OpenAI-compatible server
(1.5 s a request) summarizes a digest of several articles while /healthz is probed: probes
must be answered *while* LLM requests are in flight, which a blocked loop cannot do.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from aiohttp import web
from support.fake_llm import completion, faithful_reply
from support.loopback import LoopbackServer, Response, free_port
from support.recording_poster import RecordingPoster
from support.seeding import RUSH_SLOT as SLOT
from support.seeding import seed_rush

from bot.ops.health import make_app
from bot.ops.settings import Settings
from bot.store.repo import Store
from bot.wiring import build_core


class Beat:
    """A scheduler that is alive: its beat is always now (a beat read at import time went
    stale, and /healthz said 503, once the suite had run for three minutes)."""

    is_leader = True

    @property
    def last_beat(self) -> datetime:
        return datetime.now(UTC)


def _drip():  # type: ignore[no-untyped-def]
    yield b'<?xml version="1.0"?><rss version="2.0"><channel><title>slow</title>'
    for _ in range(40):
        time.sleep(0.1)
        yield b" "


def test_healthz_answers_while_llm_requests_are_in_flight(store: Store, tmp_path: Path) -> None:
    """…and while a source drips its feed a byte at a time."""
    seed_rush(store, tmp_path, "test", 2, 3)
    windows: list[tuple[float, float]] = []
    lock = threading.Lock()
    with LoopbackServer() as server:

        def slow(request):  # type: ignore[no-untyped-def]
            started = time.monotonic()
            time.sleep(1.5)
            with lock:
                windows.append((started, time.monotonic()))
            return completion(json.dumps(faithful_reply(json.loads(request.body))))

        server.route("/v1/chat/completions", slow)
        server.route(
            "/drip.xml", lambda _r: Response(200, _drip(), {"Content-Type": "application/rss+xml"})
        )
        [first, *_] = store.channels()
        store.subscribe(first.id, f"{server.url}/drip.xml")
        settings = Settings(
            fetch_allow="127.0.0.1/32",
            fetch_timeout=3,
            summarizer="llm",
            openai_base_url=f"{server.url}/v1",
            openai_api_key="test",
            llm_timeout=10,
            lookback_hours=24 * 3650,
            summarize_concurrency=2,
        )
        bot = build_core(settings, store=store, posters={"test": RecordingPoster()})

        async def main() -> list[float]:
            runner = web.AppRunner(make_app(store, Beat()))
            await runner.setup()
            port = free_port()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            answered: list[float] = []
            work = asyncio.gather(
                bot.deliverer.tick(SLOT + timedelta(seconds=1)), bot.poller.poll_due()
            )
            try:
                async with httpx.AsyncClient() as http:
                    while not work.done():
                        response = await http.get(f"http://127.0.0.1:{port}/healthz")
                        assert response.status_code == 200
                        answered.append(time.monotonic())
                        await asyncio.sleep(0.05)
                await work
            finally:
                await runner.cleanup()
                bot.workers.close()
            return answered

        answered = asyncio.run(main())
    assert len(windows) == 6  # one LLM request per article, two channels of three
    during = [t for t in answered if any(a < t < b for a, b in windows)]
    assert len(during) >= 10, (len(during), len(answered))
    assert bot.deliverer.stats.posted == 2
