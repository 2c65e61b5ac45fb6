"""HTML pages → Document, with trafilatura finding the main text and metadata.

trafilatura already drops navigation and comments; we keep its headings (they
become sections), run the same junk and dateline cleanup as for plain text, and
turn an empty extraction into a clear error instead of an empty digest.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import trafilatura

from bot.errors import InputError
from bot.i18n import _
from bot.ingest.cleanup import (
    is_boilerplate,
    is_truncated,
    normalize_dashes,
    normalize_text,
    take_dateline,
    title_without_site,
)
from bot.models import Block, BlockKind, Document

_HEADING_TAGS = {"head", "h1", "h2", "h3", "h4", "h5", "h6"}
_HTML_LANG = re.compile(
    r"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*)", re.I
)
_META = re.compile(r"<meta\b[^>]*>", re.I)
_META_LANG = re.compile(
    r"(?:property|name|http-equiv)\s*=\s*[\"']?(og:locale|content-language|language|dc\.language)\b",
    re.I,
)
_META_CONTENT = re.compile(r"\bcontent\s*=\s*[\"']?([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*)", re.I)
HEAD_BYTES = 64 * 1024  # where a page declares its language
_MAX_HEADING_CHARS = 150


PRECISION_KEEP = 0.7  # chosen by cross-validation on the extraction pages (bench.extraction)


def _extract(html: str, url: str | None, keep: float | None = None) -> Any:
    """trafilatura's extraction in its precision mode, which keeps less boilerplate, unless
    that leaves out much of what its default mode finds (then a real part of the article
    would be lost): precision without losing recall."""
    default, precise = extractions(html, url)
    return choose(default, precise, PRECISION_KEEP if keep is None else keep)


def extractions(html: str, url: str | None) -> tuple[Any, Any]:
    """trafilatura's default and precision-mode extractions of a page."""
    options: dict[str, Any] = {
        "url": url,
        "with_metadata": True,
        "include_comments": False,
        "include_formatting": False,
    }
    default = trafilatura.bare_extraction(html, **options)
    precise = trafilatura.bare_extraction(html, favor_precision=True, **options)
    return default, precise


def choose(default: Any, precise: Any, keep: float) -> Any:
    """The precise extraction unless it keeps less than `keep` of the default's text."""
    if precise is None or getattr(precise, "body", None) is None:
        return default
    if default is None or getattr(default, "body", None) is None:
        return precise
    kept = len(" ".join(precise.body.itertext()))
    found = len(" ".join(default.body.itertext()))
    return precise if kept >= keep * found else default


def declared_language(html: str) -> str | None:
    """What the page says its language is: `<html lang>`, else a meta tag (`og:locale`,
    `Content-Language`); the text may still overrule it (bot/text/language.py)."""
    head = html[:HEAD_BYTES]
    found = _HTML_LANG.search(head)
    if found:
        return found.group(1)
    for meta in _META.findall(head):
        if _META_LANG.search(meta):
            content = _META_CONTENT.search(meta)
            if content:
                return content.group(1)
    return None


def parse_html(
    html: str, source: str, url: str | None = None, language: str | None = None
) -> Document:
    """Extract the article body; raise InputError when the page holds no article text.
    `language` is what the server declared (Content-Language), used when the page says none."""
    try:
        result = _extract(html, url)
    except (ValueError, RecursionError, MemoryError) as exc:  # pathological markup
        raise InputError(_("No article text found: the page could not be parsed.")) from exc
    body = getattr(result, "body", None) if result is not None else None
    blocks = _blocks(body) if body is not None else []
    if not any(b.kind is BlockKind.PARAGRAPH for b in blocks):
        raise InputError(_("No article text found on the page."))
    sitename = normalize_text(getattr(result, "sitename", None) or "").strip() or None
    title = title_without_site(
        normalize_text(getattr(result, "title", None) or "").strip(),
        sitename,
        url or getattr(result, "url", None),
    )
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
        outlet=sitename,
        language=declared_language(html) or language,
    )


_FRAGMENT_BLOCKS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "dd")
_FRAGMENT_DROP = "//script|//style|//figure|//iframe|//form|//noscript|//img|//video|//audio"


def parse_fragment(html: str, source: str, url: str | None = None) -> Document:
    """A feed item's own HTML: already the article or its teaser, so no page to clean.

    trafilatura looks for the main text of a whole page and costs milliseconds per call; a
    fragment only needs its block elements turned into blocks."""
    from lxml import etree
    from lxml import html as lxml_html

    try:
        root = lxml_html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError) as exc:
        raise InputError(_("No article text found: the item's HTML could not be parsed.")) from exc
    for element in root.xpath(_FRAGMENT_DROP.replace("//", ".//")):
        element.drop_tree()
    texts: list[tuple[str, str]] = []
    if root.text and root.text.strip():
        texts.append(("p", root.text))
    for element in root.iter(*_FRAGMENT_BLOCKS):
        if any(a.tag in _FRAGMENT_BLOCKS for a in element.iterancestors()):
            continue  # its text is part of an enclosing block
        texts.append((str(element.tag), element.text_content()))
        if element.tail and element.tail.strip():
            texts.append(("p", element.tail))
    if not any(tag in _FRAGMENT_BLOCKS for tag, _ in texts[1:]) and len(texts) <= 1:
        texts = [("p", root.text_content())]  # inline markup only: one paragraph
    blocks: list[Block] = []
    for tag, raw in texts:
        text = normalize_dashes(" ".join(normalize_text(raw).split()))
        if not text or is_boilerplate(text) or _is_label(text):
            continue
        if tag in _HEADING_TAGS and len(text) <= _MAX_HEADING_CHARS:
            blocks.append(Block(BlockKind.HEADING, text.rstrip(":")))
        else:
            blocks.append(Block(BlockKind.PARAGRAPH, text, truncated=is_truncated(text)))
    blocks, dateline = take_dateline(blocks)
    return Document(
        title=_first_words(blocks),
        blocks=tuple(blocks),
        source=source,
        dateline=(dateline.place or dateline.agency) if dateline else None,
        url=url,
    )


def _is_label(text: str) -> bool:
    """A short all-capitals line ("SANTA FE, N.M.", "BREAKING"): a dateline or kicker, no sentence."""
    cased = [c for c in text if c.isupper() or c.islower()]  # scripts without case are no label
    return bool(cased) and len(text.split()) <= 6 and not any(c.islower() for c in cased)


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
