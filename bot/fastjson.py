"""JSON for the paths every post takes: a post's body and the platform's answer, the JSON
parameters and columns of the statements awaited on the event loop, a new digest's stored
text. The standard library's encoder took about 35 µs a Block Kit post on this project's
machines and its decoder 45 µs an answer; orjson's compiled ones take 1 and 12 (`make bench`,
replicas). The text is compact UTF-8 rather than ASCII escapes, the same JSON values; keys
that are not strings are written as strings, as the standard library writes them.

What orjson refuses (a lone surrogate in a string, an integer beyond 64 bits, a stored
`NaN` the standard library once wrote) goes to the standard library instead, so nothing that
was stored or sent before fails now."""

from __future__ import annotations

import json
from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(value: Any) -> str:
    return dumps_bytes(value).decode()


def dumps_bytes(value: Any) -> bytes:
    try:
        return orjson.dumps(value, option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError included
        return json.dumps(value).encode()


def loads(data: str | bytes) -> Any:
    """Raises ValueError on text that is not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)
