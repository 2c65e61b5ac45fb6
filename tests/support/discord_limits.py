"""Discord message limits, checked on every payload the tests see."""

from __future__ import annotations

from typing import Any


def assert_discord_payload(payload: dict[str, Any]) -> None:
    assert len(payload.get("content") or "") <= 2000
    embeds = payload.get("embeds") or []
    assert len(embeds) <= 10
    total = 0
    for embed in embeds:
        assert len(embed.get("title", "")) <= 256
        assert len(embed.get("description", "")) <= 4096
        fields = embed.get("fields", [])
        assert len(fields) <= 25
        for field in fields:
            assert 0 < len(field["name"]) <= 256 and 0 < len(field["value"]) <= 1024
        assert len((embed.get("footer") or {}).get("text", "")) <= 2048
        author = (embed.get("author") or {}).get("name")
        assert author is None or 0 < len(author) <= 256
        total += (
            len(author or "")
            + len(embed.get("title", ""))
            + len(embed.get("description", ""))
            + len((embed.get("footer") or {}).get("text", ""))
            + sum(len(f["name"]) + len(f["value"]) for f in fields)
        )
    assert total <= 6000
    mentions = payload.get("allowed_mentions")
    assert mentions is None or mentions.get("parse") == []
