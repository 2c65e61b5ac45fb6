"""`serve`'s event loop: uvloop by default, asyncio's when asked or when uvloop is missing."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from pathlib import Path

import pytest

from bot.ops import event_loop
from bot.ops.settings import Settings

uvloop = pytest.importorskip("uvloop")  # not on Windows, where it has no build


@pytest.fixture(autouse=True)
def no_operator_choice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The defaults, whatever this machine's environment or config file says."""
    monkeypatch.delenv("NEWSDIGEST_EVENT_LOOP", raising=False)
    monkeypatch.delenv("NEWSDIGEST_TIMER_SLACK_MS", raising=False)
    monkeypatch.setenv("NEWSDIGEST_CONFIG", str(tmp_path / "none.toml"))


async def running_loop() -> type[asyncio.AbstractEventLoop]:
    await asyncio.sleep(0)
    return type(asyncio.get_running_loop())


def test_uvloop_by_default() -> None:
    assert Settings().event_loop == "uvloop"
    assert event_loop.run(running_loop(), "uvloop") is uvloop.Loop


def test_asyncio_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSDIGEST_EVENT_LOOP", "asyncio")
    choice = Settings().event_loop
    assert choice == "asyncio"
    assert not issubclass(event_loop.run(running_loop(), choice), uvloop.Loop)


def test_falls_back_to_asyncio_without_uvloop(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # as on a machine without it
    with caplog.at_level(logging.WARNING):
        loop = event_loop.run(running_loop(), "uvloop")
    assert not issubclass(loop, uvloop.Loop)
    assert "uvloop is not installed" in caplog.text


def test_a_bad_choice_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSDIGEST_EVENT_LOOP", "trio")
    with pytest.raises(ValueError, match="event_loop"):
        Settings()


async def slack_inside() -> float | None:
    await asyncio.sleep(0)
    return event_loop.timer_slack()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="timer slack is Linux's")
def test_the_loop_runs_with_the_timer_slack_and_gives_it_back() -> None:
    before = event_loop.timer_slack()
    assert Settings().timer_slack_ms == 0.0  # off unless asked for
    assert event_loop.run(slack_inside(), "uvloop", 0.01) == pytest.approx(0.01)
    assert event_loop.timer_slack() == before  # the caller's thread as it was
    assert event_loop.run(slack_inside(), "uvloop", 0.0) == before  # 0: the kernel's own


def test_timer_slack_is_a_number_of_milliseconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSDIGEST_TIMER_SLACK_MS", "5")
    assert Settings().timer_slack_ms == 5.0
    monkeypatch.setenv("NEWSDIGEST_TIMER_SLACK_MS", "-1")
    with pytest.raises(ValueError, match="timer_slack_ms"):
        Settings()


def test_the_loop_runs_with_what_was_made_before_it_frozen() -> None:
    """What was made before the loop starts is kept off the collector's full passes, and
    young collections come less often (see `settle_heap`)."""
    threshold = gc.get_threshold()

    async def heap() -> tuple[int, int]:
        return gc.get_freeze_count(), gc.get_threshold()[0]

    try:
        gc.unfreeze()
        gc.set_threshold(700, 10, 10)  # Python's default (other tests here ran the loop)
        frozen, young = event_loop.run(heap(), "asyncio")
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
    assert frozen > 10_000  # the modules, this test run's objects
    assert young == event_loop.YOUNG > 700
