"""Shared harness: a target is a function of bytes that may raise only the project's own errors."""

from __future__ import annotations

import sys
from collections.abc import Callable

import atheris

with atheris.instrument_imports():
    from bot.errors import NewsdigestError


def run(target: Callable[[bytes], object]) -> None:
    def one_input(data: bytes) -> None:
        try:
            target(data)
        except NewsdigestError:
            pass  # a clear, typed refusal is the correct answer to junk

    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
