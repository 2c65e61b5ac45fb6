"""The hot paths' JSON reads back the values the standard library's would."""

from __future__ import annotations

import json

import pytest

from bot import fastjson

VALUES = [
    None,
    {"text": "Café “quoted” — 東京 \u2028 <b>&</b>", "n": 3, "f": 0.5, "ok": False},
    {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}], "e": []},
    {1: "an id as a key", "nested": {2: [1, 2, {"3": None}]}},
    ("a", "tuple", "as", "a", "list"),
]


@pytest.mark.parametrize("value", VALUES)
def test_written_as_the_standard_library_reads_it_and_read_as_it_wrote_it(value: object) -> None:
    expected = json.loads(json.dumps(value))
    assert json.loads(fastjson.dumps(value)) == expected
    assert json.loads(fastjson.dumps_bytes(value)) == expected
    assert fastjson.loads(json.dumps(value)) == expected
    assert fastjson.loads(json.dumps(value).encode()) == expected


def test_text_that_is_not_json_is_a_value_error() -> None:
    for bad in ("<html>Bad Gateway</html>", b"\xff\xfe", ""):
        with pytest.raises(ValueError):
            fastjson.loads(bad)


def test_what_orjson_refuses_is_written_and_read_as_the_standard_library_does() -> None:
    """A lone surrogate (text decoded with surrogateescape), an integer beyond 64 bits and a
    NaN stored by the standard library before: none of them fails now."""
    odd = {"text": "broken \udcff byte", "big": 2**70}
    assert json.loads(fastjson.dumps(odd)) == odd
    assert json.loads(fastjson.dumps_bytes(odd)) == odd
    assert fastjson.loads('{"score": NaN, "big": 1180591620717411303424}')["big"] == 2**70
