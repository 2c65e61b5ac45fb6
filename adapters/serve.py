"""`newsdigest serve`: build the bot, attach the platforms that are configured, run until SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys

from bot.delivery.runner import Runner, ScheduledWork
from bot.ops import event_loop
from bot.ops.logs import setup_logging
from bot.ops.settings import Settings
from bot.wiring import Core, build_core

log = logging.getLogger(__name__)

NO_PLATFORM = """\
newsdigest: no chat platform is configured.
  Slack:   set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode)
  Discord: set DISCORD_TOKEN
  Or try it in this terminal, with no tokens at all:  newsdigest serve --console"""


def serve(settings: Settings, console: bool = False, slack_http_port: int | None = None) -> int:
    setup_logging(settings)
    slack = settings.slack_bot_token is not None
    discord = settings.discord_token is not None
    if not (console or slack or discord):
        print(NO_PLATFORM, file=sys.stderr)
        return 2
    core = build_core(settings)
    core.apply_config_channels()
    return event_loop.run(
        _serve(core, console, slack, discord, slack_http_port),
        settings.event_loop,
        settings.timer_slack_ms / 1000,
    )


async def _serve(
    core: Core, console: bool, slack: bool, discord: bool, slack_http_port: int | None
) -> int:
    runner = Runner(ScheduledWork(core.store, core.deliverer, core.poller))
    runner.name_replica(core.settings.replica_name)  # before any command can claim a delivery
    tasks: list[asyncio.Task[object]] = []
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        # not on the main thread: asyncio raises RuntimeError, uvloop ValueError
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, runner.stop)
    if slack:
        from adapters.slack.app import start_slack

        tasks.append(asyncio.create_task(start_slack(core, slack_http_port)))
    if discord:
        from adapters.discord.client import start_discord

        tasks.append(asyncio.create_task(start_discord(core)))
    if console:
        from adapters.console.poster import ConsolePoster
        from adapters.console.repl import CONSOLE_CONTEXT, run_console_async

        core.add_poster(ConsolePoster())
        core.store.channel(CONSOLE_CONTEXT.platform, CONSOLE_CONTEXT.channel_id)

        async def console_then_stop() -> None:
            await run_console_async(core.command_handler(local_files=True))
            runner.stop()

        tasks.append(asyncio.create_task(console_then_stop()))
    if core.settings.web_port:
        from adapters.web.app import start_web_server

        tasks.append(asyncio.create_task(start_web_server(core, runner)))
    if core.settings.health_port:
        from bot.ops.health import start_health_server

        tasks.append(asyncio.create_task(start_health_server(core, runner)))
    try:
        await runner.run()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        core.close()
        log.info("stopped cleanly")
    return 0
