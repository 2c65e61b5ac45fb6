"""Placeholder replaced by the health endpoint; kept importable for `serve`."""

from __future__ import annotations

from typing import Any


async def start_health_server(bot: Any, runner: Any) -> None:  # pragma: no cover
    return None
