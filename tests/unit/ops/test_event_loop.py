"""`serve`'s event loop: uvloop by default, asyncio's when asked or when uvloop is missing."""

from __future__ import annotations

import asyncio
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
