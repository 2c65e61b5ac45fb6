"""JSON for the paths every post takes: a post's body and the platform's answer, the JSON
parameters and columns of the statements awaited on the event loop, a new digest's stored
text. The standard library's encoder took about 35 µs a Block Kit post on this project's
machines and its decoder 45 µs an answer; orjson's compiled ones take 1 and 12 (`make bench`,
replicas). The text is compact UTF-8 rather than ASCII escapes, the same JSON values; keys
that are not strings are written as strings, as the standard library writes them."""

from __future__ import annotations

from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(value: Any) -> str:
    return orjson.dumps(value, option=_OPTIONS).decode()


def dumps_bytes(value: Any) -> bytes:
    return orjson.dumps(value, option=_OPTIONS)


def loads(data: str | bytes) -> Any:
    """Raises ValueError (orjson.JSONDecodeError) on text that is not JSON."""
    return orjson.loads(data)
