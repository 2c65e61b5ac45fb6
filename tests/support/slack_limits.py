"""Slack Block Kit limits, checked on every payload the tests see."""

from __future__ import annotations

from typing import Any

MAX_BLOCKS, MAX_SECTION, MAX_HEADER, MAX_CONTEXT, MAX_TOTAL = 50, 3000, 150, 10, 12_000


def assert_slack_payload(payload: dict[str, Any]) -> None:
    assert isinstance(payload.get("text"), str) and payload["text"].strip(), "text fallback missing"
    blocks = payload.get("blocks") or []
    if isinstance(blocks, str):
        import json

        blocks = json.loads(blocks)
    assert len(blocks) <= MAX_BLOCKS
    total = 0
    for block in blocks:
        if block["type"] == "header":
            assert 0 < len(block["text"]["text"]) <= MAX_HEADER
            total += len(block["text"]["text"])
        elif block["type"] == "section":
            assert 0 < len(block["text"]["text"]) <= MAX_SECTION
            total += len(block["text"]["text"])
        elif block["type"] == "context":
            assert 0 < len(block["elements"]) <= MAX_CONTEXT
            total += sum(len(e["text"]) for e in block["elements"])
    assert total <= MAX_TOTAL
