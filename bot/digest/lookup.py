"""Finding a section of a digest from what a person typed: its number, id, heading, a prefix,
or the closest match (offered as a suggestion when nothing matches)."""

from __future__ import annotations

import difflib

from bot.errors import UnknownSectionError
from bot.models import Digest, SectionDigest


def find_section(digest: Digest, wanted: str) -> SectionDigest:
    """Match by number, id, heading, prefix, then closeness; raise with the closest suggestion."""
    key = wanted.strip().lower().lstrip("#")
    sections = digest.sections
    if key.isdigit():
        number = int(key)
        for section in sections:
            if section.index == number:
                return section
    slug = "-".join(key.replace("’", "'").replace("'", "").split())
    for section in sections:
        if key in (section.id, section.heading.lower().rstrip("?:. ")) or slug == section.id:
            return section
    prefixed = [s for s in sections if s.id.startswith(slug) or slug in s.id.split("-")]
    if len(prefixed) == 1:
        return prefixed[0]
    names = [s.id for s in sections]
    close = difflib.get_close_matches(slug, names, n=1, cutoff=0.6)
    if not close:
        by_heading = {s.heading.lower(): s.id for s in sections}
        heading_match = difflib.get_close_matches(key, list(by_heading), n=1, cutoff=0.6)
        close = [by_heading[heading_match[0]]] if heading_match else []
    raise UnknownSectionError(wanted, close[0] if close else None, names)


def section_choices(digest: Digest, typed: str, limit: int = 25) -> list[tuple[str, str]]:
    """(label, value) pairs for autocomplete: sections whose id or heading contains what was typed."""
    typed = typed.strip().lower()
    rows = []
    for s in digest.sections:
        if not typed or typed in s.id or typed in s.heading.lower() or typed == str(s.index):
            rows.append((f"{s.index}. {s.heading}"[:100], s.id))
    return rows[:limit]
