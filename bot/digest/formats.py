"""Platform-neutral renderings of a Digest: the JSON contract, Markdown and plain text.

Platform payloads (Block Kit, embeds) live with their adapters; these are the
formats the CLI prints and scripts consume.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.digest.channel_view import channel_view
from bot.digest.sections import display_heading
from bot.i18n import _
from bot.models import Digest, SectionDigest


def digest_to_json(
    digest: Digest, only_section: SectionDigest | None = None, also: Sequence[str] = ()
) -> dict[str, Any]:
    """The stable JSON contract of `newsdigest digest --format json` (extra keys are allowed);
    `also` names the other outlets that reported the same story."""
    article = digest.article
    sections = [only_section] if only_section else list(digest.sections)
    return {
        "title": article.title,
        "outlet": article.outlet_name,
        "also": list(also),
        "language": article.language,
        "published": article.published.isoformat() if article.published else None,
        "dateline": article.dateline,
        "source": article.url or article.source,
        "summary": [b.text for b in digest.summary],
        "sections": [
            {
                "id": s.id,
                "index": s.index,
                "heading": display_heading(s.heading, s.titled),
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
    summary, untitled = _("Summary"), _("untitled")
    if only_section is None and not full:
        view = channel_view(digest)
        lines += [f"## {summary}", "", *(f"- {b.text}" for b in view.summary), ""]
        for line in view.sections:
            marker = "" if line.titled else f" _({untitled})_"
            assert line.bullet is not None
            lines += [f"## {line.index}. {line.heading}{marker}", "", f"- {line.bullet.text}", ""]
        if view.listed:
            names = " · ".join(f"{s.heading} (`{s.id}`)" for s in view.listed)
            lines += ["_" + _("Also in this article: {sections}").format(sections=names) + "_", ""]
        return "\n".join(lines).rstrip() + "\n"
    if only_section is None:
        lines += [f"## {summary}", "", *(f"- {b.text}" for b in digest.summary), ""]
    for section in [only_section] if only_section else digest.sections:
        marker = "" if section.titled else f" _({untitled})_"
        heading = display_heading(section.heading, section.titled)
        lines += [f"## {section.index}. {heading}{marker}", ""]
        lines += [f"- {b.text}" for b in section.bullets] + [""]
    return "\n".join(lines).rstrip() + "\n"


def posted_text(digest: Digest, also: Sequence[str] = ()) -> str:
    """The posted digest as plain text, for the console; `also` names other outlets."""
    view = channel_view(digest)
    heading = f"--- {digest.article.title} — {digest.article.outlet_name}"
    lines = [heading, *(f"  • {b.text}" for b in view.summary)]
    for line in view.sections:
        assert line.bullet is not None
        lines += [f"  {line.heading}", f"    • {line.bullet.text}"]
    if view.listed:
        listed = " · ".join(s.heading for s in view.listed)
        lines.append("  " + _("Also in this article: {sections}").format(sections=listed))
    if also:
        lines.append("  " + _("Also: {outlets}").format(outlets=", ".join(also)))
    if digest.article.teaser:
        lines.append("  (" + teaser_note(digest.article.teaser) + ")")
    if digest.article.url:
        lines.append(f"  {digest.article.url}")
    return "\n".join(lines)


def meta_line(digest: Digest, outlet: bool = True) -> str:
    """Who reported it, when, where, by whom, and the link: the line under a title."""
    article = digest.article
    parts = [article.outlet_name] if outlet else []
    if article.published:
        parts.append(article.published.strftime("%Y-%m-%d %H:%M"))
    if article.dateline:
        parts.append(article.dateline)
    if article.author:
        parts.append(_("by {author}").format(author=article.author))
    parts.append(article.url or article.source)
    if article.teaser:
        parts.append(teaser_note(article.teaser))
    return " · ".join(p for p in parts if p)


def teaser_note(reason: str) -> str:
    """ "teaser only: why", in the bot's language (the reason too, when it is one of ours)."""
    return _("teaser only: {reason}").format(reason=_(reason))


def article_to_text(title: str, blocks: list[tuple[str, str]]) -> str:
    """`newsdigest extract`: the title, then headings and paragraphs separated by blank lines."""
    return "\n\n".join([title, *(text for _, text in blocks)]) + "\n"
