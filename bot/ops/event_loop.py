"""Which event loop `serve` runs on: uvloop when it is installed, else asyncio's own.

Every connection the bot holds shares one event loop, and in a rush of digests the loop's own
machinery (timers, callbacks, socket readiness) is a share of each digest's CPU: uvloop does
that work in C. It measured 2–8% less CPU per channel digest in `make bench`'s replicas run
(two alternating pairs on the same code). `event_loop = "asyncio"` (NEWSDIGEST_EVENT_LOOP=asyncio) opts out, and a machine
without uvloop (it has no Windows build) falls back to asyncio and says so in the log."""

from __future__ import annotations

import asyncio
import importlib
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
LoopChoice = Literal["uvloop", "asyncio"]


def loop_factory(choice: LoopChoice) -> tuple[str, Callable[[], asyncio.AbstractEventLoop]]:
    """The loop's name and a factory for it: the one asked for, or asyncio's when uvloop is
    asked for and not installed."""
    if choice == "uvloop":
        try:
            uvloop = importlib.import_module("uvloop")
        except ImportError:
            # no surprise where uvloop has no build (Windows); elsewhere it is worth a look
            level = logging.INFO if sys.platform == "win32" else logging.WARNING
            log.log(level, "uvloop is not installed: running on asyncio's own event loop")
        else:
            new: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
            return "uvloop", new
    return "asyncio", asyncio.new_event_loop


def run(main: Coroutine[Any, Any, T], choice: LoopChoice) -> T:
    """`asyncio.run(main)` on the chosen loop."""
    name, factory = loop_factory(choice)
    log.debug("event loop: %s", name)
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)
