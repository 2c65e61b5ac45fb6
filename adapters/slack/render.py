"""Digest and Reply → Block Kit payloads, always inside Slack's limits.

Pure functions: no client, no I/O. Every string from an article is mrkdwn-escaped
(&, <, >) so it can never become a mention, a channel ping or a disguised link;
long content is split over several messages at bullet boundaries, and a single
bullet too long for a block is cut at a word with "…".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from bot.chat.replies import Reply, ReplyKind
from bot.delivery.poster import ChannelDigest, Outlet
from bot.digest.channel_view import channel_view, display_heading
from bot.digest.fitting import clip, group_within, pack_lines
from bot.digest.formats import meta_line
from bot.digest.templates import PLAIN, Dialect, Templates, header_fields, render_part
from bot.i18n import _, ngettext, using
from bot.models import Digest

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_MESSAGE_TEXT = 11_000  # Slack rejects ~12-13k characters of block text per message
MAX_FALLBACK_TEXT = 3000
MAX_BUTTON_TEXT = 75
MAX_URL = 3000

Block = dict[str, Any]
Message = dict[str, Any]


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def section_texts(lines: Iterable[str]) -> list[str]:
    """Lines packed into section-sized texts (3000 characters), split only between lines."""
    return pack_lines(lines, MAX_SECTION_TEXT)


def safe_url(url: str | None) -> str | None:
    """A URL fit for <url|label>: http(s) only, no characters that break the link syntax."""
    if not url or not url.lower().startswith(("http://", "https://")) or len(url) > MAX_URL:
        return None
    if any(c in url for c in "<>| \n\t"):
        return None
    return url


def link(url: str | None, label: str) -> str:
    target = safe_url(url)
    text = escape(label).replace("|", "¦")
    return f"<{target}|{text}>" if target else text


_SPECIAL = re.compile(r"<([!@#][^<>]*)>")


def defuse(text: str) -> str:
    """A template's own text may not ping (<!channel>, <!here>, <@U…>, <!subteam^…>) or
    point at a channel: such tokens are shown as typed. Links (<https://…|label>) stay."""
    return _SPECIAL.sub(lambda m: f"&lt;{m.group(1)}&gt;", text)


# a template's output in mrkdwn (entries); and in the plain-text header block, where nothing
# is parsed, so nothing needs escaping
MRKDWN = Dialect("Slack", escape, link, defuse)
HEADER = Dialect("Slack", link=PLAIN.link)


def header(text: str) -> Block:
    return {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": clip(" ".join(text.split()), MAX_HEADER) or "—",
            "emoji": True,
        },
    }


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT)}}


def context(*parts: str) -> Block:
    elements = [{"type": "mrkdwn", "text": clip(p, MAX_SECTION_TEXT)} for p in parts if p]
    return {
        "type": "context",
        "elements": elements[:MAX_CONTEXT_ELEMENTS] or [{"type": "mrkdwn", "text": " "}],
    }


def bullets(items: Iterable[str]) -> list[str]:
    return [f"• {escape(t)}" for t in items]


def block_text_size(block: Block) -> int:
    size = 0
    text = block.get("text")
    if isinstance(text, dict):
        size += len(text.get("text", ""))
    for element in block.get("elements", []):
        inner = element.get("text")
        size += len(inner.get("text", "")) if isinstance(inner, dict) else len(inner or "")
    return size


def split_messages(blocks: list[Block], fallback: str) -> list[Message]:
    """Group blocks into messages within the block-count and total-text limits."""
    messages: list[Message] = [
        {"blocks": group}
        for group in group_within(blocks, block_text_size, MAX_BLOCKS, MAX_MESSAGE_TEXT)
    ]
    total = len(messages)
    for n, message in enumerate(messages, 1):
        suffix = f" ({n}/{total})" if total > 1 else ""
        message["text"] = clip(
            (" ".join(escape(fallback).split()) or _("News digest")) + suffix, MAX_FALLBACK_TEXT
        )
    return messages


def article_blocks(
    digest: Digest, article_ref: str | None = None, also: Sequence[Outlet] = ()
) -> list[Block]:
    """One article for a thread reply: title, source and time, the summary, then the sections
    (each with its best new bullet while the digest stays short, else by name)."""
    article = digest.article
    blocks: list[Block] = [header(article.title)]
    blocks.append(context(escape(meta_line(digest))))
    view = channel_view(digest)
    for text in section_texts(bullets(b.text for b in view.summary)):
        blocks.append(section(text))
    for line in view.sections:
        untitled = " _(" + _("untitled") + ")_"
        title = f"*{escape(line.heading)}*" + ("" if line.titled else untitled)
        assert line.bullet is not None
        for text in section_texts([title, *bullets([line.bullet.text])]):
            blocks.append(section(text))
    if view.listed:
        names = " · ".join(escape(s.heading) for s in view.listed)
        blocks.append(context(_("Also in this article: {sections}").format(sections=names)))
    if also:
        outlets = ", ".join(link(o.url, o.name) for o in also)
        blocks.append(context(_("Also: {outlets}").format(outlets=outlets)))
    buttons: list[dict[str, Any]] = []
    if article_ref:
        buttons.append(
            {
                "type": "button",
                "action_id": "newsdigest_sections",
                "value": article_ref[:2000],
                "text": {"type": "plain_text", "text": clip(_("Sections"), MAX_BUTTON_TEXT)},
            }
        )
    url = safe_url(article.url)
    if url:
        buttons.append(
            {
                "type": "button",
                "action_id": "newsdigest_open",
                "url": url,
                "text": {"type": "plain_text", "text": clip(_("Open article"), MAX_BUTTON_TEXT)},
            }
        )
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    return blocks


_GROUP_ID = re.compile(r"^[A-Z0-9]{6,20}$")


def headline_lines(digest: ChannelDigest, templates: Templates | None) -> list[str]:
    """The top message's line(s) for each article: the channel's entry template, else the
    link to the article and its outlet."""
    lines: list[str] = []
    entries = digest.entry_fields() if templates is not None and templates.entry is not None else []
    for n, d in enumerate(digest.digests):
        fields = entries[n] if entries else {}
        entry = render_part(templates, "entry", fields, MRKDWN, MAX_SECTION_TEXT)
        if entry is None:
            lines.append(
                f"• {link(d.article.url, d.article.title)} · _{escape(d.article.outlet_name)}_"
            )
        else:
            lines += entry.split("\n")  # not splitlines(): article text may hold \x1e, \u2028…
    return lines


def digest_messages(digest: ChannelDigest) -> list[Message]:
    """Top message (headlines + overview) then the thread replies, one or more per article."""
    return top_messages(digest) + [
        message
        for n, d in enumerate(digest.digests)
        for message in split_messages(
            article_blocks(d, d.article.url or d.article.source, digest.others(n)),
            d.article.title,
        )
    ]


def top_messages(digest: ChannelDigest) -> list[Message]:
    """The digest's top message(s): the header, the mentions, each article's entry, the
    overview; the channel's templates where it has them."""
    templates = digest.templates
    headlines = headline_lines(digest, templates)
    title = render_part(
        templates,
        "header",
        lambda: header_fields(digest.title, digest.entry_fields()),
        HEADER,
        MAX_HEADER,
    )
    top_blocks: list[Block] = [header(digest.title if title is None else title)]
    if digest.mentions:  # the user groups an admin configured, by id; nothing else pings
        groups = " ".join(f"<!subteam^{g}>" for g in digest.mentions if _GROUP_ID.match(g))
        if groups:
            top_blocks.append(section(groups))
    for text in section_texts(headlines):
        top_blocks.append(section(text))
    overview = [
        f"*{escape(clip(d.article.title, 200))}*: {escape(d.summary[0].text)}"
        for d in digest.digests
        if d.summary
    ]
    for text in section_texts(overview):
        top_blocks.append(section(text))
    count = len(digest.digests)
    top_blocks.append(
        context(
            ngettext(
                "{count} new article · details in the thread",
                "{count} new articles · details in the thread",
                count,
            ).format(count=count)
        )
    )
    fallback = f"{digest.title}: " + "; ".join(d.article.title for d in digest.digests)
    return split_messages(top_blocks, fallback)


def reply_payloads(reply: Reply) -> list[Message]:
    """A slash-command answer (one message unless very long): ephemeral unless the user said
    'share'; the bot's own words in the reply's language."""
    with using(reply.language):
        return _reply_payloads(reply)


def _reply_payloads(reply: Reply) -> list[Message]:
    blocks: list[Block] = []
    if reply.kind is ReplyKind.PREVIEW and reply.preview is not None:
        previewed = top_messages(reply.preview)  # as posted, only to the one who asked
        for message in previewed:
            message["response_type"] = "in_channel" if reply.share else "ephemeral"
        return previewed
    if reply.kind is ReplyKind.SUMMARY and reply.digest is not None:
        d = reply.digest
        blocks += [header(d.article.title), context(escape(meta_line(d)))]
        blocks += [section(t) for t in section_texts(bullets(b.text for b in d.summary))]
    elif reply.kind is ReplyKind.SECTIONS and reply.digest is not None:
        d = reply.digest
        rows = [
            f"{s.index}. {escape(display_heading(s.heading, s.titled))} `{s.id}`"
            for s in d.sections
        ]
        blocks += [header(d.article.title)] + [section(t) for t in section_texts(rows)]
    elif reply.kind is ReplyKind.SECTION and reply.section is not None:
        s = reply.section
        blocks += [
            section(t)
            for t in section_texts(
                [
                    f"*{s.index}. {escape(display_heading(s.heading, s.titled))}*",
                    *bullets(b.text for b in s.bullets),
                ]
            )
        ]
    elif reply.kind is ReplyKind.DIGESTS:
        rows = [f"• {link(d.article.url, d.article.title)}" for d in reply.digests]
        latest = "*" + escape(_("Latest digest")) + "*"
        blocks += [section(latest)] + [section(t) for t in section_texts(rows)]
    else:
        prefix = ":warning: " if reply.kind is ReplyKind.ERROR else ""
        blocks += [
            section(t)
            for t in section_texts(prefix + escape(line) for line in reply.text.splitlines())
        ]
    messages = split_messages(blocks, reply.text)
    for message in messages:
        message["response_type"] = "in_channel" if reply.share else "ephemeral"
    return messages


def section_text_reply(reply: Reply) -> Message:
    """The first message of a reply, as a plain chat.postMessage payload (used in threads)."""
    message = dict(reply_payloads(reply)[0])
    message.pop("response_type", None)
    return message
