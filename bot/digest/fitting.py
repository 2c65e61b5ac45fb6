"""Fitting text into size limits without losing it silently: shared by every renderer."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


def clip(text: str, limit: int, trailing: str = " ") -> str:
    """Cut at a word boundary and mark the cut with "…"; never longer than `limit`.

    `trailing` lists characters that must not be left at the cut (a Discord escape backslash).
    """
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(trailing) + "…"


def pack_lines(lines: Iterable[str], limit: int, trailing: str = " ") -> list[str]:
    """Join lines into texts of at most `limit` characters, splitting only between lines."""
    texts: list[str] = []
    current = ""
    for raw in lines:
        line = clip(raw, limit, trailing)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit and current:
            texts.append(current)
            current = line
        else:
            current = candidate
    if current:
        texts.append(current)
    return texts


def group_within(
    items: Iterable[T], size: Callable[[T], int], max_items: int, max_size: int
) -> list[list[T]]:
    """Consecutive groups of at most `max_items` items whose sizes add up to at most `max_size`
    (an item bigger than `max_size` alone still gets its own group); never an empty result."""
    groups: list[list[T]] = []
    current: list[T] = []
    total = 0
    for item in items:
        n = size(item)
        if current and (len(current) >= max_items or total + n > max_size):
            groups.append(current)
            current, total = [], 0
        current.append(item)
        total += n
    if current or not groups:
        groups.append(current)
    return groups
