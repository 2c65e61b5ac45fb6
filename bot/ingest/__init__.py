"""Any source (path, URL, stdin bytes) → Documents, with the kind sniffed from the content."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import InputError
from bot.i18n import _
from bot.ingest.detect import SourceKind, decode_text, detect_kind
from bot.ingest.plaintext import parse_plaintext
from bot.models import Document

if TYPE_CHECKING:  # the fetcher (httpx), HTML (trafilatura) and feeds load only when used
    from bot.ingest.fetch import FetchOptions

MAX_FILE_BYTES = 10 * 1024 * 1024

__all__ = [
    "MAX_FILE_BYTES",
    "SourceKind",
    "load_source",
    "parse_bytes",
    "read_source",
    "read_source_bytes",
]


def is_url(source: str) -> bool:
    return "://" in source[:16] or source.lower().startswith(("data:", "mailto:"))


def read_source_bytes(source: str) -> tuple[bytes, str | None, str | None]:
    """Return (bytes, content type, final URL) for a local path or "-" (stdin).

    URLs are fetched by `read_source`, on the event loop."""
    if is_url(source):
        raise InputError(f"{source} is a link: read it with read_source.")  # a caller's mistake
    if source == "-":
        data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        _check_size(len(data), MAX_FILE_BYTES, "standard input")
        return data, None, None
    path = Path(source)
    if not path.exists():
        raise InputError(_("No such file: {source}").format(source=source))
    if path.is_dir():
        raise InputError(
            _("{source} is a folder; give a file, a URL or '-'.").format(source=source)
        )
    _check_size(path.stat().st_size, MAX_FILE_BYTES, source)
    try:
        return path.read_bytes(), None, None
    except OSError as exc:
        raise InputError(
            _("Cannot read {source}: {reason}.").format(source=source, reason=exc.strerror)
        ) from exc


def _check_size(size: int, limit: int, what: str) -> None:
    if size > limit:
        raise InputError(
            _("{what} is {size:.1f} MB; the limit is {limit:.0f} MB.").format(
                what=what, size=size / 1024 / 1024, limit=limit / 1024 / 1024
            )
        )


def parse_bytes(
    data: bytes,
    source: str,
    content_type: str | None = None,
    url: str | None = None,
    language: str | None = None,
) -> list[Document]:
    """Parse already-read bytes into one Document (page, text) or several (feed); `language`
    is what the server declared (Content-Language), used where the content declares none."""
    kind = detect_kind(data, content_type)
    if kind is SourceKind.FEED:
        from bot.ingest.feed import parse_feed

        try:
            return parse_feed(data, source, language=language)
        except InputError:
            if b"<html" not in data[:4096].lower():
                raise
            kind = SourceKind.HTML  # an HTML page served where a feed was expected
    text = decode_text(data, content_type)
    if kind is SourceKind.HTML:
        from bot.ingest.html import parse_html

        return [parse_html(text, source, url=url, language=language)]
    doc = parse_plaintext(text, source)
    if not doc.blocks:
        raise InputError(_("No article text found: the input has no paragraphs."))
    return [replace(doc, language=language)] if language else [doc]


def load_source(source: str) -> list[Document]:
    """Read and parse a local source (a path, or "-" for stdin); every failure is an InputError
    with a clear message."""
    data, content_type, url = read_source_bytes(source)
    label = "stdin" if source == "-" else source
    try:
        return parse_bytes(data, label, content_type, url)
    except InputError:
        raise
    except RecursionError as exc:
        raise InputError(
            _("No article text found: the page is nested too deeply to read.")
        ) from exc


async def read_source(source: str, fetch_settings: FetchOptions | None = None) -> list[Document]:
    """`load_source` for code on an event loop: a URL is fetched on the loop (it only waits),
    reading a file and parsing run on a worker thread."""
    if not is_url(source):
        return await asyncio.to_thread(load_source, source)
    from bot.ingest.fetch import fetch

    result = await fetch(source, fetch_settings)
    return await asyncio.to_thread(
        _parse_fetched, result.body, result.content_type, result.url, result.content_language
    )


def _parse_fetched(
    data: bytes, content_type: str | None, url: str, language: str | None
) -> list[Document]:
    try:
        return parse_bytes(data, url, content_type, url, language)
    except RecursionError as exc:
        raise InputError(
            _("No article text found: the page is nested too deeply to read.")
        ) from exc
