"""Tell a feed from a web page from plain text by looking at the bytes, not the file name."""

from __future__ import annotations

import re
from enum import Enum

from bot.errors import InputError
from bot.i18n import _

_MAGIC = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"GIF8": "a GIF image",
    b"\xff\xd8\xff": "a JPEG image",
    b"PK\x03\x04": "a ZIP archive (or an Office document)",
    b"\x1f\x8b": "gzip-compressed data",
    b"\x7fELF": "a program",
    b"RIFF": "a media file",
}
_FEED_ROOT = re.compile(rb"<(?:rss|feed|rdf:rdf)[\s>]", re.IGNORECASE)
_HTML_HINT = re.compile(rb"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]", re.IGNORECASE)
_TAG = re.compile(
    rb"</?(?:p|div|article|section|h[1-6]|span|a|br|ul|li|table)[\s>/]", re.IGNORECASE
)
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([\w-]+)""", re.IGNORECASE)


class SourceKind(str, Enum):
    TEXT = "text"
    HTML = "html"
    FEED = "feed"


def detect_kind(data: bytes, content_type: str | None = None) -> SourceKind:
    head = data[:8192]
    if not data.strip():
        raise InputError(_("The input is empty."))
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise InputError(_("The input is {what}, not an article.").format(what=what))
    if _looks_binary(head):
        raise InputError(_("The input is binary data, not an article."))
    stripped = data[:65536].lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:9].lower() in (b"<?xml ver", b"<!doctype") and _ENTITY.search(stripped):
        # Feeds never need their own entities; declaring them is how XML bombs and XXE work.
        raise InputError(_("The document declares XML entities; refused for safety."))
    sniff = stripped[:4096]
    if _FEED_ROOT.search(sniff) and not _HTML_HINT.search(sniff[:512]):
        return SourceKind.FEED
    if _HTML_HINT.search(sniff) or len(_TAG.findall(head)) >= 3:
        return SourceKind.HTML
    if content_type and "html" in content_type and stripped.startswith(b"<"):
        return SourceKind.HTML
    return SourceKind.TEXT


def _looks_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls > max(8, len(head) // 100)


def decode_text(data: bytes, content_type: str | None = None) -> str:
    """Decode by BOM, declared charset, UTF-8, then a best guess; never fail."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    declared = _declared_charset(data, content_type)
    for encoding in filter(None, (declared, "utf-8")):
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:200_000]).best()
        if best is not None and best.encoding:
            return data.decode(best.encoding, errors="replace")
    except ImportError:  # pragma: no cover - charset_normalizer ships with trafilatura
        pass
    return data.decode("cp1252", errors="replace")


def _declared_charset(data: bytes, content_type: str | None) -> str | None:
    if content_type and "charset=" in content_type:
        return content_type.split("charset=")[-1].split(";")[0].strip() or None
    match = _CHARSET.search(data[:4096])
    return match.group(1).decode("ascii", "ignore") if match else None
