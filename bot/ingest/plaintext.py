"""Plain text and printable news pages → Document.

Printable pages arrive hard-wrapped, indented, with navigation lines at the top,
a headline glued to its timestamp and a copyright footer; headings are often
lost and only a run of blank lines marks where they were. This module undoes
that damage without knowing anything about sections or summaries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from bot.ingest.cleanup import (
    is_boilerplate,
    is_truncated,
    normalize_dashes,
    normalize_text,
    take_dateline,
)
from bot.models import Block, BlockKind, Document

_GLUED_TIMESTAMP = re.compile(
    r"^(?P<title>.*?\S)\s*(?P<date>\d{1,2}/\d{1,2}(?:/\d{2,4})?)\s+"
    r"(?P<time>\d{1,2}:\d{2})(?:\s*(?P<ampm>[AaPp][Mm]))?\s*$"
)
_MARKDOWN_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_SETEXT_UNDERLINE = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_TITLE_MAX_CHARS = 200
_HEADING_MAX_WORDS = 12
_FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "from",
        "with",
        "by",
        "as",
        "than",
        "that",
        "which",
        "who",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "his",
        "her",
        "its",
        "their",
        "our",
        "my",
        "your",
        "this",
        "these",
        "those",
    ]
)


@dataclass(frozen=True)
class _Line:
    text: str
    indent: int


def parse_plaintext(text: str, source: str, now: datetime | None = None) -> Document:
    """Turn raw text into a Document; `now` anchors timestamps that omit the year."""
    lines = [
        _Line(t.rstrip(), len(t) - len(t.lstrip(" \t"))) for t in normalize_text(text).split("\n")
    ]
    lines = [ln if not is_boilerplate(ln.text) else _Line("", 0) for ln in lines]
    title, published, guessed, body_start = _find_title(lines, now)
    blocks = _blocks(lines[body_start:])
    blocks, dateline = take_dateline(blocks)
    if not title:
        title = _title_from_blocks(blocks)
    return Document(
        title=title,
        blocks=tuple(blocks),
        source=source,
        published=published,
        dateline=dateline.place or dateline.agency if dateline else None,
        published_guessed=published is not None and guessed,
    )


def _find_title(lines: list[_Line], now: datetime | None) -> tuple[str, datetime | None, bool, int]:
    """(title, time printed with it, whether its year was guessed, where the body starts)."""
    for i, line in enumerate(lines):
        text = line.text.strip()
        if not text:
            continue
        md = _MARKDOWN_HEADING.match(text)
        if md and len(md.group(1)) == 1:
            return md.group(2).strip(), None, False, i + 1
        glued = _GLUED_TIMESTAMP.match(text) if len(text) <= _TITLE_MAX_CHARS + 20 else None
        if glued and len(glued.group("title")) <= _TITLE_MAX_CHARS:
            yearless = glued.group("date").count("/") == 1
            return glued.group("title").strip(), _parse_timestamp(glued, now), yearless, i + 1
        next_blank = i + 1 >= len(lines) or not lines[i + 1].text.strip()
        if next_blank and _looks_like_headline(text):
            return text, None, False, i + 1
        return "", None, False, i
    return "", None, False, len(lines)


def _looks_like_headline(text: str) -> bool:
    return (
        len(text) <= _TITLE_MAX_CHARS
        and not text.endswith((".", ",", ";"))
        and len(text.split()) >= 2
    )


def _parse_timestamp(match: re.Match[str], now: datetime | None) -> datetime | None:
    """Printable pages print "04/23 06:41": month/day, no year; assume the latest such date."""
    parts = [int(p) for p in match.group("date").split("/")]
    hour, minute = (int(p) for p in match.group("time").split(":"))
    ampm = (match.group("ampm") or "").lower()
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    reference = now or datetime.now()
    month, day = parts[0], parts[1]
    if len(parts) == 3:
        year = parts[2] + (2000 if parts[2] < 100 else 0)
    else:
        year = reference.year
    try:
        stamp = datetime(year, month, day, hour, minute)
    except ValueError:
        return None
    if len(parts) == 2 and stamp > reference:
        try:
            stamp = stamp.replace(year=year - 1)
        except ValueError:
            return None
    return stamp


def _blocks(lines: list[_Line]) -> list[Block]:
    blocks: list[Block] = []
    blank_run = 0
    group: list[_Line] = []

    def flush() -> None:
        if group:
            blocks.extend(_group_to_blocks(group))
            group.clear()

    for line in lines:
        if not line.text.strip():
            flush()
            blank_run += 1
            continue
        if blank_run >= 2 and blocks:
            blocks.append(Block(BlockKind.BREAK))
        blank_run = 0
        if group and line.indent >= 2 and group[-1].indent < 2:
            flush()  # an indented line after flush-left ones opens a new paragraph
        if _MARKDOWN_HEADING.match(line.text) or (group and _SETEXT_UNDERLINE.match(line.text)):
            if not _MARKDOWN_HEADING.match(line.text):
                heading = " ".join(ln.text.strip() for ln in group)
                group.clear()
                blocks.append(Block(BlockKind.HEADING, heading))
                continue
            flush()
        group.append(line)
    flush()
    return _drop_trailing_breaks(blocks)


def _group_to_blocks(group: list[_Line]) -> list[Block]:
    md = _MARKDOWN_HEADING.match(group[0].text)
    if md:
        rest = group[1:]
        out = [Block(BlockKind.HEADING, md.group(2).strip())]
        return out + (_group_to_blocks(rest) if rest else [])
    text = _unwrap([ln.text for ln in group])
    if not text:
        return []
    if len(group) == 1 and is_heading_line(text):
        return [Block(BlockKind.HEADING, _sentence_case(text.rstrip(":").strip()))]
    return [Block(BlockKind.PARAGRAPH, text, truncated=is_truncated(text))]


def _unwrap(lines: list[str]) -> str:
    text = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if text.endswith("-") and not text.endswith("--") and line[:1].islower():
            text += line  # a word hyphenated across the wrap
        else:
            text = f"{text} {line}" if text else line
    return normalize_dashes(" ".join(text.split()))


def is_heading_line(text: str) -> bool:
    """A standalone short line that reads as a heading, not as a sentence."""
    words = text.split()
    if not words or len(words) > _HEADING_MAX_WORDS or len(text) > 100:
        return False
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 3 and all(c.isupper() for c in letters):
        return True  # "WHY NOW?"
    if text.endswith("?"):
        return len(words) >= 2 and words[0][0].isupper()  # "So what's the bottom line?"
    if text.endswith((".", "!", ",", ";", "…", '"', "”", "'", "’")):
        return False
    if text.endswith(":"):
        return len(words) <= 6 and words[0][0].isupper()
    if not words[0][0].isupper() or words[-1].lower() in _FUNCTION_WORDS:
        return False
    significant = [w for w in words if len(w) > 3]
    capitalised = [w for w in significant if w[0].isupper()]
    title_case = bool(significant) and len(capitalised) / len(significant) >= 0.6
    return title_case or len(words) <= 5


def _sentence_case(heading: str) -> str:
    """Shouted headings ("WHY NOW?") read better as "Why now?"; dotted acronyms stay."""
    letters = [c for c in heading if c.isalpha()]
    if not letters or not all(c.isupper() for c in letters):
        return heading
    words = [w if "." in w.rstrip(".?!") else w.lower() for w in heading.split()]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _drop_trailing_breaks(blocks: list[Block]) -> list[Block]:
    while blocks and blocks[-1].kind is BlockKind.BREAK:
        blocks.pop()
    return blocks


def _title_from_blocks(blocks: list[Block]) -> str:
    for block in blocks:
        if block.kind is BlockKind.HEADING:
            return block.text
        if block.kind is BlockKind.PARAGRAPH:
            words = block.text.split()
            return " ".join(words[:12]) + ("…" if len(words) > 12 else "")
    return ""
