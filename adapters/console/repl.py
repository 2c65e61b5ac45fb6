"""Read `/digest …` lines from a terminal (or a pipe) and print the command layer's replies."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Iterable
from typing import IO

from bot.chat.handler import CommandHandler
from bot.chat.replies import CommandContext, Reply, ReplyKind

PROMPT = "digest> "
CONSOLE_CONTEXT = CommandContext(
    channel_id="local", user_id="local", is_admin=True, platform="console"
)


def render_reply(reply: Reply) -> str:
    """Console rendering is the reply's own plain text; errors are marked so they stand out."""
    if reply.kind is ReplyKind.ERROR:
        return f"! {reply.text}"
    return reply.text  # the command layer worded it in the channel's language


async def run_console_async(
    handler: CommandHandler,
    lines: Iterable[str] | None = None,
    out: IO[str] | None = None,
    context: CommandContext = CONSOLE_CONTEXT,
) -> int:
    """Answer each input line until EOF or 'quit'; interactive when stdin is a terminal."""
    out = out or sys.stdout
    interactive = lines is None and sys.stdin.isatty()
    source = iter(lines) if lines is not None else None
    if interactive:
        out.write("newsdigest console — type /digest help, or quit to leave.\n")
    while True:
        if interactive:
            out.write(PROMPT)
            out.flush()
        line = next(source, None) if source is not None else await _read_stdin_line()
        if not line:
            break
        text = line.strip()
        if not text:
            continue
        if text.lower() in ("quit", "exit", "/quit"):
            break
        if not interactive:
            out.write(f"{PROMPT}{text}\n")
        reply = await handler.handle(text, context)
        out.write(render_reply(reply) + "\n\n")
        out.flush()
    return 0


_STDIN_LINES: asyncio.Queue[str] | None = None


async def _read_stdin_line() -> str:
    """A line from stdin without holding up shutdown.

    The read blocks in a daemon thread of its own: a line read in the loop's default
    executor would keep `asyncio.run` (and so SIGTERM or Ctrl-C) waiting until stdin closes."""
    global _STDIN_LINES
    if _STDIN_LINES is None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str] = asyncio.Queue()

        def pump() -> None:
            while True:
                line = sys.stdin.readline()
                try:
                    loop.call_soon_threadsafe(queue.put_nowait, line)
                except RuntimeError:  # the loop has closed
                    return
                if not line:
                    return

        threading.Thread(target=pump, name="console-stdin", daemon=True).start()
        _STDIN_LINES = queue
    return await _STDIN_LINES.get()


def run_console(
    handler: CommandHandler,
    lines: Iterable[str] | None = None,
    out: IO[str] | None = None,
    context: CommandContext = CONSOLE_CONTEXT,
) -> int:
    return asyncio.run(run_console_async(handler, lines, out, context))
