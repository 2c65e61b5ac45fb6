"""Platform-neutral renderings of a Digest: the JSON contract, Markdown and plain text.

Platform payloads (Block Kit, embeds) live with their adapters; these are the
formats the CLI prints and scripts consume.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.digest.channel_view import channel_view
from bot.models import Digest, SectionDigest


def digest_to_json(digest: Digest, only_section: SectionDigest | None = None) -> dict[str, Any]:
    """The stable JSON contract of `newsdigest digest --format json` (extra keys are allowed)."""
    article = digest.article
    sections = [only_section] if only_section else list(digest.sections)
    return {
        "title": article.title,
        "language": article.language,
        "published": article.published.isoformat() if article.published else None,
        "dateline": article.dateline,
        "source": article.url or article.source,
        "summary": [b.text for b in digest.summary],
        "sections": [
            {
                "id": s.id,
                "index": s.index,
                "heading": s.heading,
                "titled": s.titled,
                "bullets": [b.text for b in s.bullets],
                "sentence_ids": [list(b.sentence_ids) for b in s.bullets],
            }
            for s in sections
        ],
        "summary_sentence_ids": [list(b.sentence_ids) for b in digest.summary],
        "author": article.author,
        "summarizer": digest.summarizer,
        "teaser_only": article.teaser is not None,
        "teaser_reason": article.teaser,
    }


def digest_to_markdown(
    digest: Digest, only_section: SectionDigest | None = None, full: bool = False
) -> str:
    """The posted digest as Markdown; `full` adds every section's bullets (as `--full`)."""
    article = digest.article
    lines = [f"# {article.title}", ""]
    meta = meta_line(digest)
    if meta:
        lines += [f"_{meta}_", ""]
    if only_section is None and not full:
        view = channel_view(digest)
        lines += ["## Summary", "", *(f"- {b.text}" for b in view.summary), ""]
        for line in view.sections:
            marker = "" if line.titled else " _(untitled)_"
            assert line.bullet is not None
            lines += [f"## {line.index}. {line.heading}{marker}", "", f"- {line.bullet.text}", ""]
        if view.listed:
            names = " · ".join(f"{s.heading} (`{s.id}`)" for s in view.listed)
            lines += [f"_Also in this article: {names}_", ""]
        return "\n".join(lines).rstrip() + "\n"
    if only_section is None:
        lines += ["## Summary", "", *(f"- {b.text}" for b in digest.summary), ""]
    for section in [only_section] if only_section else digest.sections:
        marker = "" if section.titled else " _(untitled)_"
        lines += [f"## {section.index}. {section.heading}{marker}", ""]
        lines += [f"- {b.text}" for b in section.bullets] + [""]
    return "\n".join(lines).rstrip() + "\n"


def posted_text(digest: Digest, also: Sequence[str] = ()) -> str:
    """The posted digest as plain text, for the console; `also` names other outlets."""
    view = channel_view(digest)
    lines = [f"--- {digest.article.title}", *(f"  • {b.text}" for b in view.summary)]
    for line in view.sections:
        assert line.bullet is not None
        lines += [f"  {line.heading}", f"    • {line.bullet.text}"]
    if view.listed:
        lines.append("  Also in this article: " + " · ".join(s.heading for s in view.listed))
    if also:
        lines.append("  Also: " + ", ".join(also))
    if digest.article.teaser:
        lines.append(f"  (teaser only: {digest.article.teaser})")
    if digest.article.url:
        lines.append(f"  {digest.article.url}")
    return "\n".join(lines)


def meta_line(digest: Digest) -> str:
    article = digest.article
    parts = []
    if article.published:
        parts.append(article.published.strftime("%Y-%m-%d %H:%M"))
    if article.dateline:
        parts.append(article.dateline)
    if article.author:
        parts.append(f"by {article.author}")
    parts.append(article.url or article.source)
    if article.teaser:
        parts.append(f"teaser only: {article.teaser}")
    return " · ".join(p for p in parts if p)


def article_to_text(title: str, blocks: list[tuple[str, str]]) -> str:
    """`newsdigest extract`: the title, then headings and paragraphs separated by blank lines."""
    return "\n\n".join([title, *(text for _, text in blocks)]) + "\n"
