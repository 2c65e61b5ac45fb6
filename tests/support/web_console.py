"""A running web console for tests: the real aiohttp app of `newsdigest serve`, on a free
loopback port, on an event loop of its own in a thread (so Playwright's sync API and plain
HTTP clients can both drive it), over a real store with channels of two workspaces.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from adapters.web.app import make_web_app
from bot.ops.settings import Settings
from bot.ops.signin import OPERATOR, Scope, SignIns, sign_in_link
from bot.store.repo import ChannelInfo, Store
from bot.wiring import Core, build_core
from support.recording_poster import RecordingPoster
from support.seeding import harbour_story, seed_channel

T = TypeVar("T")
HOSTILE_TITLE = '<script>alert(1)</script><img src=x onerror="alert(2)">Pier vote'


class Beat:
    """What /healthz reads of the scheduler: alive, and leading."""

    last_beat: datetime | None = datetime.now(UTC)
    is_leader = True


@dataclass
class Console:
    url: str
    core: Core
    store: Store
    ours: ChannelInfo  # workspace T1's channel
    theirs: ChannelInfo  # workspace T2's channel
    poster: RecordingPoster
    loop: asyncio.AbstractEventLoop

    def link(self, scope: Scope = OPERATOR, user: str = "slack:U1") -> str:
        token = SignIns(self.store).mint(scope, user)
        return sign_in_link(self.url, token)

    def on_loop(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)


def seed_two_workspaces(store: Store, tmp_path: Path) -> tuple[ChannelInfo, ChannelInfo]:
    """A Slack channel in workspace T1 and one in T2, each following its own stories; T1's
    first story has a hostile title."""
    stories = [
        f"{HOSTILE_TITLE}\n\n{harbour_story(1, 1).split(chr(10), 2)[2]}",
        harbour_story(1, 2),
    ]
    ours = seed_channel(store, tmp_path / "t1", stories, platform="slack", channel_id="C1")
    theirs = seed_channel(
        store, tmp_path / "t2", [harbour_story(2, 7)], platform="slack", channel_id="C2"
    )
    store.channel("slack", "C1", tenant="T1")
    store.channel("slack", "C2", tenant="T2")
    found = store.channel_by_id(ours.id), store.channel_by_id(theirs.id)
    assert found[0] is not None and found[1] is not None
    return found[0], found[1]


@contextmanager
def running_console(store: Store, tmp_path: Path) -> Iterator[Console]:
    # seeding polls on asyncio.run: in a thread of its own, as Playwright owns this one's loop
    with ThreadPoolExecutor(1) as seeder:
        ours, theirs = seeder.submit(seed_two_workspaces, store, tmp_path).result()
    poster = RecordingPoster(platform="slack")
    settings = Settings(web_port=1, lookback_hours=24 * 3650, grace_minutes=24 * 60)
    core = build_core(settings, store=store, posters={"slack": poster})
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def on_loop(coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(60)

    async def start() -> web.AppRunner:
        runner = web.AppRunner(make_web_app(core, Beat()))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        return runner

    app_runner = on_loop(start())
    port = app_runner.addresses[0][1]
    try:
        yield Console(f"http://127.0.0.1:{port}", core, store, ours, theirs, poster, loop)
    finally:
        on_loop(app_runner.cleanup())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
        core.workers.close()
