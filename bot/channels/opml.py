"""OPML, the file every feed reader and feed bot exports: a channel's sources in and out.

An OPML file comes from someone else's tool, so it is read as hostile: defusedxml refuses
entity definitions (billion laughs, external entities) and DTDs outright, the file and the
number of outlines are capped, and each outline's link must be an http(s) URL. A file
that cannot be read at all imports nothing; a readable file with some bad outlines yields
the good ones and a reason for each rejected one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, SubElement, tostring  # nosec B405: writing only

from bot.errors import InputError
from bot.i18n import _, ngettext

if TYPE_CHECKING:
    from bot.store.repo import Store

MAX_BYTES = 2 * 1024 * 1024
MAX_OUTLINES = 2_000
MAX_URL = 2_000


@dataclass(frozen=True)
class OpmlFeed:
    url: str
    title: str


@dataclass
class OpmlFile:
    feeds: list[OpmlFeed] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (what, why)


def read_opml(data: bytes) -> OpmlFile:
    """The feeds an OPML file lists (each once, in order), and the outlines it had to reject.

    Raises InputError when the file as a whole cannot be used."""
    import defusedxml.ElementTree as SafeTree
    from defusedxml import DefusedXmlException

    if len(data) > MAX_BYTES:
        raise InputError(
            _("That OPML file is too large (over {size} MB).").format(size=MAX_BYTES // 2**20)
        )
    try:
        root = SafeTree.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise InputError(
            _("That OPML file declares entities or a DTD, which are refused ({kind}).").format(
                kind=type(exc).__name__
            )
        ) from exc
    except SafeTree.ParseError as exc:
        raise InputError(
            _("That is not a readable OPML file: {reason}.").format(reason=exc)
        ) from exc
    if _local(root.tag) != "opml" or root.find("body") is None:
        raise InputError(_("That XML file is not OPML (no <opml> with a <body>)."))
    outlines = root.iter("outline")
    result = OpmlFile()
    seen: set[str] = set()
    for count, outline in enumerate(outlines, 1):
        if count > MAX_OUTLINES:
            raise InputError(
                _("That OPML file has more than {limit} outlines; nothing was imported.").format(
                    limit=MAX_OUTLINES
                )
            )
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        title = (outline.get("title") or outline.get("text") or "").strip()[:300]
        if not url:
            if outline.get("type", "").lower() in ("rss", "atom"):
                result.rejected.append((title or "?", _("no xmlUrl")))
            continue  # a folder of outlines
        reason = _url_problem(url)
        if reason is not None:
            result.rejected.append((url[:200], reason))
        elif url not in seen:
            seen.add(url)
            result.feeds.append(OpmlFeed(url, title))
    return result


def write_opml(title: str, feeds: Sequence[OpmlFeed]) -> bytes:
    """An OPML 2.0 document other tools import: one outline per feed."""
    opml = Element("opml", version="2.0")
    head = SubElement(opml, "head")
    SubElement(head, "title").text = title
    body = SubElement(opml, "body")
    for feed in feeds:
        SubElement(
            body, "outline", type="rss", text=feed.title or feed.url, title=feed.title or feed.url
        ).set("xmlUrl", feed.url)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(opml, encoding="unicode").encode()


def _url_problem(url: str) -> str | None:
    if len(url) > MAX_URL:
        return _("the link is too long")
    try:
        parts = urlsplit(url)
    except ValueError:
        return _("not a valid link")
    if parts.scheme.lower() not in ("http", "https"):
        return _("only http and https links can be followed")
    if not parts.hostname:
        return _("the link has no host")
    return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


@dataclass(frozen=True)
class ImportReport:
    added: int
    already: int
    rejected: list[tuple[str, str]]

    def describe(self, channel: str) -> str:
        lines = [
            ngettext(
                "Imported {added} feed into {channel} ({already} already followed).",
                "Imported {added} feeds into {channel} ({already} already followed).",
                self.added,
            ).format(added=self.added, channel=channel, already=self.already)
        ]
        if self.rejected:
            lines.append(_("Rejected {count}:").format(count=len(self.rejected)))
            lines += [f"  {what}: {why}" for what, why in self.rejected]
        return "\n".join(lines)


def import_feeds(store: Store, channel_id: int, opml: OpmlFile) -> ImportReport:
    """Follow every feed of the file in the channel; a feed it follows already stays as is.

    Feeds are not fetched here (a file may list hundreds): the poller reads them on its next
    round, and one that fails shows as failing in /digest sources like any other."""
    added = already = 0
    for feed in opml.feeds:
        _source, created = store.subscribe(channel_id, feed.url)
        added += created
        already += not created
    return ImportReport(added, already, list(opml.rejected))


def export_feeds(store: Store, channel_id: int, title: str) -> bytes:
    """The channel's web sources as OPML (local folders the console follows are not feeds)."""
    feeds = [
        OpmlFeed(s.url, "")
        for s in store.channel_sources(channel_id)
        if s.url.lower().startswith(("http://", "https://"))
    ]
    return write_opml(title, feeds)
