"""RSS/Atom → one Document per entry, newest first.

feedparser always gets bytes: given a str it may treat it as a file name or URL
and read or fetch it itself, which would bypass every check in fetch.py.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from typing import Any

import feedparser

from bot.errors import InputError
from bot.i18n import _
from bot.ingest.cleanup import title_without_site
from bot.ingest.html import parse_fragment
from bot.ingest.plaintext import parse_plaintext
from bot.models import Document

MAX_ENTRIES = 50


def parse_feed(
    data: bytes, source: str, max_entries: int = MAX_ENTRIES, language: str | None = None
) -> list[Document]:
    """The newest entries as documents; `language` is the server's Content-Language, used
    where neither the feed (`<language>`, `xml:lang`) nor the entry declares one."""
    if not isinstance(data, bytes):  # see module docstring
        raise TypeError("parse_feed takes bytes")
    parsed = feedparser.parse(data)
    entries = list(parsed.get("entries") or [])
    if not entries:
        reason = parsed.get("bozo_exception")
        if reason:
            raise InputError(
                _("The feed has no readable items: {error}.").format(error=type(reason).__name__)
            )
        raise InputError(_("The feed has no readable items."))
    entries.sort(key=_entry_time, reverse=True)
    feed = parsed.get("feed") or {}
    outlet = " ".join(str(feed.get("title") or "").split())[:120] or None
    declared = feed.get("language") or (feed.get("title_detail") or {}).get("language") or language
    documents = []
    for entry in entries[:max_entries]:
        doc = _entry_document(entry, source, outlet, declared)
        if doc is not None:
            documents.append(doc)
    if not documents:
        raise InputError(_("The feed's items have no article text."))
    return documents


def _entry_time(entry: Any) -> float:
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    return float(calendar.timegm(stamp)) if stamp else 0.0


def _entry_document(
    entry: Any, source: str, outlet: str | None = None, language: str | None = None
) -> Document | None:
    title = (entry.get("title") or "").strip()
    link = entry.get("link") or None
    content = ""
    content_type = ""
    detail: Any = {}
    if entry.get("content"):
        detail = entry["content"][0]
        content = detail.get("value", "")
        content_type = detail.get("type", "")
    if not content:
        detail = entry.get("summary_detail") or {}
        content = entry.get("summary", "") or ""
        content_type = detail.get("type", "text/html")
    declared = detail.get("language") or (entry.get("title_detail") or {}).get("language")
    followable = bool(link) and str(link).lower().startswith(("http://", "https://"))
    if not content.strip() and not followable:
        return None
    try:
        if not content.strip():
            doc = Document(title, (), source)
        elif "html" in content_type or "<" in content:
            doc = parse_fragment(content, source, url=link)
        else:
            doc = parse_plaintext(content, source)
    except InputError:
        doc = parse_plaintext(_strip_tags(content), source)
    if not doc.blocks and not followable:
        return None  # nothing to read here and no article to fetch
    stamp = _entry_time(entry)
    published = datetime.fromtimestamp(stamp, tz=UTC) if stamp else doc.published
    return Document(
        title=title_without_site(title, outlet) if title else doc.title,
        blocks=doc.blocks,
        source=source,
        published=published,
        dateline=doc.dateline,
        author=entry.get("author") or doc.author,
        url=link,
        guid=(entry.get("id") or None),
        outlet=outlet,
        language=declared or language,
    )


def _strip_tags(html: str) -> str:
    from lxml import html as lxml_html

    try:
        return str(lxml_html.fromstring(html).text_content())
    except Exception:
        return html
