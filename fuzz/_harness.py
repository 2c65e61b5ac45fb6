"""Shared harness: a target is a function of bytes that may raise only the project's own errors."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable

import atheris

with atheris.instrument_imports():
    from bot.errors import NewsdigestError


def run(target: Callable[[bytes], object]) -> None:
    def one_input(data: bytes) -> None:
        with contextlib.suppress(
            NewsdigestError
        ):  # a clear, typed refusal is the right answer to junk
            target(data)

    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
