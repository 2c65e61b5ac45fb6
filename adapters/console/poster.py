"""The console as a platform: digests print to the terminal when due."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import IO

from bot.delivery.poster import ChannelDigest, SentPart
from bot.digest.formats import posted_text
from bot.digest.templates import MAX_OUTPUT, PLAIN, header_fields, render_part
from bot.i18n import ngettext


class ConsolePoster:
    """Prints digests; it keeps no history, so a crash mid-post may print a part twice."""

    platform = "console"

    def __init__(self, out: IO[str] | None = None) -> None:
        self.out = out or sys.stdout
        self.count = 0

    def render(self, digest: ChannelDigest) -> Sequence[str]:
        """The header and a line per article (the channel's templates where it has them),
        then each article's digest."""
        count = len(digest.digests)
        new = ngettext("{count} new article", "{count} new articles", count).format(count=count)
        templates = digest.templates
        entries = digest.entry_fields() if templates is not None else []
        header = render_part(
            templates, "header", lambda: header_fields(digest.title, entries), PLAIN, MAX_OUTPUT
        )
        lines = [f"=== {digest.title} — {new} ===" if header is None else header]
        for n, d in enumerate(digest.digests):
            fields = entries[n] if entries else {}
            entry = render_part(templates, "entry", fields, PLAIN, MAX_OUTPUT)
            lines.append(
                f"  • {d.article.title} — {d.article.outlet_name}" if entry is None else entry
            )
        parts = ["\n".join(lines)]
        for n, d in enumerate(digest.digests):
            parts.append(posted_text(d, [o.name for o in digest.others(n)]))
        return parts

    async def send(
        self, channel: str, part: str, part_key: str, thread_ref: str | None
    ) -> SentPart:
        self.count += 1
        self.out.write(part + "\n\n")
        self.out.flush()
        return SentPart(f"console-{self.count}", thread_ref)

    async def find(self, channel: str, part_key: str, thread_ref: str | None) -> SentPart | None:
        return None

    async def notice(self, channel: str, text: str) -> None:
        self.out.write(f"(notice) {text}\n")
        self.out.flush()
