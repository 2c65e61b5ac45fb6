"""Which event loop `serve` runs on: uvloop when it is installed, else asyncio's own.

Every connection the bot holds shares one event loop, and in a rush of digests the loop's own
machinery (timers, callbacks, socket readiness) is a share of each digest's CPU: uvloop does
that work in C. It measured 2–8% less CPU per channel digest in `make bench`'s replicas run
(two alternating pairs on the same code). `event_loop = "asyncio"`
(NEWSDIGEST_EVENT_LOOP=asyncio) opts out, and a machine without uvloop (it has no Windows
build) falls back to asyncio and says so in the log.

The loop's thread can be given a timer slack (`timer_slack_ms`; Linux): the kernel may then
end its sleeps up to that much late, so that a timer that comes due (a post's pacing slot, a
lease renewal) rides on a wake-up that happens anyway (a database answer, a platform's reply)
instead of waking an idle CPU for itself. On a virtual machine a wake-up costs more CPU than
the Python it runs (`make bench`, wakeups). In `make bench`'s replicas run 10 ms halved the
loop's wake-ups per channel digest (about 11.5 to 6) and took about a fifth off its CPU; but
the posts it releases together arrive bunched, and the 10,000-channel rush on one replica met
4–8 times the 429s (5 ms: 146, 10 ms: 220–358, off: 37). So it is off by default: a post is
never early for it, only up to that much late."""

from __future__ import annotations

import asyncio
import ctypes
import gc
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


PR_SET_TIMERSLACK, PR_GET_TIMERSLACK = 29, 30  # prctl(2), Linux


def _prctl(option: int, value: int = 0) -> int | None:
    """prctl(2) for this thread; None where there is none (not Linux, no such libc)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl.restype = ctypes.c_long
        return int(libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0))
    except (OSError, AttributeError):  # no libc with prctl (a static or unusual build)
        return None


def set_timer_slack(seconds: float) -> bool:
    """Let the kernel end this thread's sleeps up to `seconds` late (threads it starts
    inherit it); False where that cannot be set (not Linux), or for 0 (the kernel's own)."""
    return seconds > 0 and _prctl(PR_SET_TIMERSLACK, round(seconds * 1e9)) == 0


def timer_slack() -> float | None:
    """This thread's timer slack in seconds (None where there is none to read)."""
    slack = _prctl(PR_GET_TIMERSLACK)
    return slack / 1e9 if slack is not None and slack >= 0 else None


# allocations between young collections (Python's default is 700): a rush allocates
# millions of short-lived containers, and a pass every 700 also walked the many that had not
# died yet; at 10,000 the collector's CPU in the 2,000-channel rush fell from 0.68 to 0.31 s
YOUNG = 10_000


def settle_heap() -> None:
    """Keep the garbage collector's full passes off what was made before the loop starts.

    The modules, the SDKs and SQLAlchemy's metadata (and, for `serve`, the core) live as long
    as the process, yet every full collection walked them again: some 200,000 objects, about
    80 ms each time with the loop stopped, five times in a 2,000-channel rush (`make bench`,
    replicas). Frozen (`gc.freeze`, after collecting what is already garbage), they are never
    walked again; what the loop makes later is collected as before, young objects every
    `YOUNG` allocations. All the collector's CPU in that rush: 0.79 s before, 0.31 s now."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, *gc.get_threshold()[1:])


def run(main: Coroutine[Any, Any, T], choice: LoopChoice, slack: float = 0.0) -> T:
    """`asyncio.run(main)` on the chosen loop, its thread's timers `slack` seconds loose
    while it runs (0: left as they are)."""
    name, factory = loop_factory(choice)
    log.debug("event loop: %s", name)
    settle_heap()
    before = timer_slack() if slack > 0 else None
    if slack > 0 and not set_timer_slack(slack):
        log.debug("timer slack is not available here: sleeps end on time")
    try:
        with asyncio.Runner(loop_factory=factory) as runner:
            return runner.run(main)
    finally:
        if before is not None:
            set_timer_slack(before)
