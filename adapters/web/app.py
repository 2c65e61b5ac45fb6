"""`newsdigest serve`'s web console: the aiohttp application and the server that runs it.

Server-rendered HTML (Jinja2, autoescaped) that works without JavaScript, with its one style
sheet served from here (no CDN, so the CSP can stay `default-src 'self'`). Off unless
`web_port` is set; on 127.0.0.1 unless `web_host` says otherwise.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from adapters.web.pages import Console
from adapters.web.security import make_session_middleware, security_headers
from bot.wiring import Core

log = logging.getLogger(__name__)
HERE = Path(__file__).parent


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every value is escaped; nothing in a template is marked safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    return env


def make_web_app(core: Core, runner: Any) -> web.Application:
    settings = core.settings
    sign_ins = core.sign_ins()
    secure = (settings.web_url or "").startswith("https://")
    console = Console(core, core.command_handler(), sign_ins, runner, templates(), secure)
    app = web.Application(
        middlewares=[make_session_middleware(sign_ins, core.workers.db, console.unauthorized)],
        client_max_size=256 * 1024,  # forms are small; an OPML file comes by link
    )
    app.on_response_prepare.append(security_headers)
    console.routes(app)
    app.router.add_static("/static/", HERE / "static", show_index=False)
    return app


async def start_web_server(core: Core, runner: Any) -> None:
    """Serve the console until cancelled on web_host:web_port."""
    settings = core.settings
    assert settings.web_port is not None
    app_runner = web.AppRunner(make_web_app(core, runner), access_log=None)
    await app_runner.setup()
    await web.TCPSite(app_runner, settings.web_host, settings.web_port).start()
    log.info("web console on %s (sign in: /digest web, or newsdigest web-link)", settings.web_url)
    try:
        await asyncio.Event().wait()
    finally:
        await app_runner.cleanup()
