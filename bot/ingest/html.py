"""HTML pages → Document, with trafilatura finding the main text and metadata.

trafilatura already drops navigation and comments; we keep its headings (they
become sections), run the same junk and dateline cleanup as for plain text, and
turn an empty extraction into a clear error instead of an empty digest.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import trafilatura

from bot.errors import InputError
from bot.ingest.cleanup import (
    is_boilerplate,
    is_truncated,
    normalize_dashes,
    normalize_text,
    take_dateline,
)
from bot.models import Block, BlockKind, Document

_HEADING_TAGS = {"head", "h1", "h2", "h3", "h4", "h5", "h6"}
_MAX_HEADING_CHARS = 150


def parse_html(html: str, source: str, url: str | None = None) -> Document:
    """Extract the article body; raise InputError when the page holds no article text."""
    try:
        result = trafilatura.bare_extraction(
            html, url=url, with_metadata=True, include_comments=False, include_formatting=False
        )
    except (ValueError, RecursionError, MemoryError) as exc:  # pathological markup
        raise InputError("No article text found: the page could not be parsed.") from exc
    body = getattr(result, "body", None) if result is not None else None
    blocks = _blocks(body) if body is not None else []
    if not any(b.kind is BlockKind.PARAGRAPH for b in blocks):
        raise InputError("No article text found on the page.")
    title = normalize_text(getattr(result, "title", None) or "").strip()
    if blocks and blocks[0].kind is BlockKind.HEADING and blocks[0].text.strip() == title:
        blocks = blocks[1:]  # the page repeats its <h1> title inside the body
    blocks, dateline = take_dateline(blocks)
    if not title:
        title = next((b.text for b in blocks if b.kind is BlockKind.HEADING), "") or _first_words(
            blocks
        )
    return Document(
        title=title,
        blocks=tuple(blocks),
        source=source,
        published=_parse_date(getattr(result, "date", None)),
        dateline=(dateline.place or dateline.agency) if dateline else None,
        author=getattr(result, "author", None) or None,
        url=url or getattr(result, "url", None) or None,
    )


def _blocks(body: Any) -> list[Block]:
    blocks: list[Block] = []
    for element in body:
        tag = str(element.tag).lower()
        if tag == "list":
            texts = [_text(item) for item in element]
        elif tag == "table":
            texts = [" | ".join(_text(cell) for cell in row) for row in element]
        else:
            texts = [_text(element)]
        for text in texts:
            if not text or is_boilerplate(text):
                continue
            if tag in _HEADING_TAGS and len(text) <= _MAX_HEADING_CHARS:
                blocks.append(Block(BlockKind.HEADING, text.rstrip(":")))
            else:
                blocks.append(Block(BlockKind.PARAGRAPH, text, truncated=is_truncated(text)))
    return blocks


def _text(element: Any) -> str:
    return normalize_dashes(" ".join(normalize_text("".join(element.itertext())).split()))


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _first_words(blocks: list[Block]) -> str:
    words = next((b.text for b in blocks if b.kind is BlockKind.PARAGRAPH), "").split()
    return " ".join(words[:12]) + ("…" if len(words) > 12 else "")
