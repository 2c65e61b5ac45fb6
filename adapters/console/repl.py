"""Read `/digest …` lines from a terminal (or a pipe) and print the command layer's replies."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import IO

from bot.commands import CommandContext, CommandHandler, Reply, ReplyKind

PROMPT = "digest> "


def render_reply(reply: Reply) -> str:
    """Console rendering is the reply's own plain text; errors are marked so they stand out."""
    if reply.kind is ReplyKind.ERROR:
        return f"! {reply.text}"
    return reply.text


def run_console(
    handler: CommandHandler,
    lines: Iterable[str] | None = None,
    out: IO[str] | None = None,
    context: CommandContext | None = None,
) -> int:
    """Answer each input line until EOF or 'quit'; interactive when stdin is a terminal."""
    out = out or sys.stdout
    context = context or CommandContext(channel_id="console", user_id="local", is_admin=True)
    interactive = lines is None and sys.stdin.isatty()
    source = iter(lines if lines is not None else sys.stdin)
    if interactive:
        out.write("newsdigest console — type /digest help, or quit to leave.\n")
    while True:
        if interactive:
            out.write(PROMPT)
            out.flush()
        line = next(source, None)
        if line is None:
            break
        text = line.strip()
        if not text:
            continue
        if text.lower() in ("quit", "exit", "/quit"):
            break
        if not interactive:
            out.write(f"{PROMPT}{text}\n")
        out.write(render_reply(handler.handle(text, context)) + "\n\n")
        out.flush()
    return 0
