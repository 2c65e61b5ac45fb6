"""Digest and Reply → Discord message payloads (content + embeds), always inside Discord's limits.

Pure functions over plain dicts (the JSON Discord receives), so the same payloads
serve the preview, the poster and the tests. Article text is markdown-escaped and
mentions are defused twice: in the text, and by `allowed_mentions` parsing nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from bot.chat.replies import Reply, ReplyKind
from bot.delivery.poster import ChannelDigest, Outlet
from bot.digest.channel_view import channel_view, display_heading
from bot.digest.fitting import clip as fit
from bot.digest.fitting import group_within, pack_lines
from bot.digest.formats import meta_line
from bot.digest.templates import Dialect, header_fields, render_part
from bot.i18n import _, ngettext, using
from bot.models import Digest

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_TITLE = 256
MAX_DESCRIPTION = 4096
MAX_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FOOTER = 2048
MAX_AUTHOR = 256
MAX_EMBED_TOTAL = 6000
COLOUR = 0x2B6CB0
NO_MENTIONS: dict[str, Any] = {"parse": []}
MAX_ROLE_MENTIONS = 100  # Discord's limit on allowed_mentions.roles

Embed = dict[str, Any]
Message = dict[str, Any]

_MARKDOWN = re.compile(r"([\\*_~`|>#\[\]()-])")
_MENTION = re.compile(r"@(everyone|here)|<(@[!&]?|#)(\d+)>", re.IGNORECASE)


def escape(text: str) -> str:
    """Markdown characters escaped, @everyone/@here and <@id> mentions defused."""
    text = _MARKDOWN.sub(r"\\\1", text)
    return _MENTION.sub(lambda m: "@\u200b" + (m.group(1) or f"{m.group(2)}{m.group(3)}"), text)


def defuse(text: str) -> str:
    """@everyone, @here and <@…>, <@&…>, <#…> shown as text (allowed_mentions also lets none
    ping): a template's own text may not mention either."""
    return _MENTION.sub(lambda m: "@\u200b" + (m.group(1) or f"{m.group(2)}{m.group(3)}"), text)


def link(url: str | None, label: str) -> str:
    target = safe_url(url)
    return f"[{escape(label)}]({target})" if target else escape(label)


# a template's output in Discord markdown: values escaped, links as [label](url)
MARKDOWN = Dialect("Discord", escape, lambda url, label: link(url, label), defuse)


def clip(text: str, limit: int) -> str:
    return fit(text, limit, trailing="\\ ")


def pack(lines: Iterable[str], limit: int) -> list[str]:
    return pack_lines(lines, limit, trailing="\\ ")


def embed_size(embed: Embed) -> int:
    size = len(embed.get("title", "")) + len(embed.get("description", ""))
    size += len((embed.get("footer") or {}).get("text", ""))
    size += len((embed.get("author") or {}).get("name", ""))
    size += sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
    return size


def safe_url(url: str | None) -> str | None:
    if (
        url
        and url.lower().startswith(("http://", "https://"))
        and len(url) <= 2000
        and " " not in url
    ):
        return url
    return None


def article_embeds(
    digest: Digest, also: Sequence[Outlet] = (), entry: str | None = None
) -> list[Embed]:
    """One embed per article: the summary, then the sections (see bot/digest/channel_view.py);
    `entry`, the channel's entry template's text, is the description in place of the summary."""
    article = digest.article
    view = channel_view(digest)
    bullets = [f"• {escape(b.text)}" for b in view.summary]
    description = pack(bullets, MAX_DESCRIPTION)[0] if bullets else "\u200b"
    if entry is not None:
        description = entry or "\u200b"
    embed: Embed = {
        "title": clip(escape(" ".join(article.title.split())), MAX_TITLE) or _("Article"),
        "description": description,
        "color": COLOUR,
        "footer": {"text": clip(meta_line(digest, outlet=False), 300)},
        "fields": [],
    }
    if outlet := clip(" ".join(article.outlet_name.split()), MAX_AUTHOR):
        embed["author"] = {"name": outlet}  # who reported it; plain text, not markdown
    url = safe_url(article.url)
    if url:
        embed["url"] = url
    embeds = [embed]
    # (field name, lines already as markdown)
    lines = [
        (escape(line.heading), [f"• {escape(line.bullet.text)}"] if line.bullet else [])
        for line in view.sections
    ]
    if view.listed:
        listed = escape(" · ".join(s.heading for s in view.listed))
        lines.append((escape(_("Also in this article")), [listed]))
    if also:
        names = ", ".join(
            f"[{escape(o.name)}]({url})" if (url := safe_url(o.url)) else escape(o.name)
            for o in also
        )
        lines.append((escape(_("Also reported by")), [names]))
    continued = _("(cont.)")
    for heading, texts in lines:
        name = clip(heading, MAX_FIELD_NAME) or _("Section")
        values = pack(texts, MAX_FIELD_VALUE) or ["\u200b"]
        for n, value in enumerate(values):
            field_name = name if n == 0 else clip(f"{name} {continued}", MAX_FIELD_NAME)
            field: dict[str, Any] = {
                "name": field_name,
                "value": value,
                "inline": False,
            }
            current = embeds[-1]
            if (
                len(current["fields"]) >= MAX_FIELDS
                or embed_size(current) + len(field_name) + len(value) > MAX_EMBED_TOTAL - 200
            ):
                current = {
                    "title": clip(f"{embed['title']} {continued}", MAX_TITLE),
                    "color": COLOUR,
                    "fields": [],
                }
                embeds.append(current)
            current["fields"].append(field)
    return embeds


def pack_embeds(embeds: list[Embed], content: str = "") -> list[Message]:
    """Messages of at most 10 embeds and 6000 embed characters each."""
    messages: list[Message] = [
        {"embeds": group} for group in group_within(embeds, embed_size, MAX_EMBEDS, MAX_EMBED_TOTAL)
    ]
    for i, message in enumerate(messages):
        message["content"] = clip(content, MAX_CONTENT) if i == 0 and content else ""
        message["allowed_mentions"] = NO_MENTIONS
    return messages


MAX_THREAD_NAME = 100


def thread_name(digest: ChannelDigest) -> str:
    """The thread's (or forum post's) name: the title and the slot's time, plain text.

    The time keeps one channel's posts apart (two digests a day, a `/digest now` beside the
    scheduled one), which is what finding a forum post again after a crash relies on."""
    when = digest.slot.removeprefix("now-").partition("T")[2]
    name = " ".join(f"{digest.title} {when}".split())
    return fit(name, MAX_THREAD_NAME) or _("News digest")


def digest_messages(digest: ChannelDigest) -> list[Message]:
    """The header (headline and one line per article), then the articles' embeds.

    The header starts the digest's thread (a forum post in a forum) and the articles go in
    it, as on Slack; where threads are refused, the same messages follow in the channel.
    The header carries the thread's name and, worded in the channel's language now, the note
    an admin gets if threads are refused (`thread`; the poster strips it before sending).
    The channel's templates, where it has them, write the headline and each embed's
    description."""
    templates = digest.templates
    entries = digest.entry_fields() if templates is not None else []
    embeds = [
        e
        for n, d in enumerate(digest.digests)
        for e in article_embeds(
            d,
            digest.others(n),
            render_part(
                templates, "entry", entries[n] if entries else {}, MARKDOWN, MAX_DESCRIPTION, True
            ),
        )
    ]
    count = len(digest.digests)
    new = ngettext("{count} new article", "{count} new articles", count).format(count=count)
    headline = render_part(
        templates, "header", lambda: header_fields(digest.title, entries), MARKDOWN, MAX_CONTENT
    )
    if headline is None:
        headline = f"**{escape(digest.title)}** — {escape(new)}"
    header: Message = {
        "content": clip(headline, MAX_CONTENT),
        "embeds": [overview_embed(digest)],
        "allowed_mentions": NO_MENTIONS,
        "thread": {
            "name": thread_name(digest),
            "refused": _(
                "I may not create threads in this channel, so digests are posted here in the "
                "channel itself. Give me the Create Public Threads permission here to get each "
                "digest's articles in a thread under it."
            ),
        },
    }
    if digest.mentions:
        # the configured roles, by id, and nothing else: the text names them,
        # allowed_mentions lets exactly those ping
        roles = [r for r in digest.mentions if r.isdigit()][:MAX_ROLE_MENTIONS]
        if roles:
            pinged = " ".join(f"<@&{r}>" for r in roles)
            header["content"] = clip(f"{pinged}\n{headline}", MAX_CONTENT)
            header["allowed_mentions"] = {"parse": [], "roles": roles}
    return [header, *pack_embeds(embeds)]


def overview_embed(digest: ChannelDigest) -> Embed:
    """One line per article (title linked, outlet), within one embed's description."""
    lines = []
    for d in digest.digests:
        title = escape(clip(" ".join(d.article.title.split()), MAX_TITLE)) or _("Article")
        url = safe_url(d.article.url)
        line = f"• [{title}]({url})" if url else f"• {title}"
        if outlet := " ".join(d.article.outlet_name.split()):
            line += f" · *{escape(clip(outlet, MAX_AUTHOR))}*"
        lines.append(line)
    packed = pack(lines, MAX_DESCRIPTION - 10) or ["\u200b"]
    description = packed[0] + ("\n…" if len(packed) > 1 else "")
    return {"description": description, "color": COLOUR}


def reply_messages(reply: Reply) -> list[Message]:
    """An interaction answer; `ephemeral` unless the user chose to share; the bot's own words
    in the reply's language."""
    with using(reply.language):
        return _reply_messages(reply)


def _reply_messages(reply: Reply) -> list[Message]:
    if reply.kind is ReplyKind.PREVIEW and reply.preview is not None:
        # the headline over the first article's embeds: what the templates shape, in one
        # message (the thread's name stays the poster's business)
        rendered = digest_messages(reply.preview)
        top = {k: v for k, v in rendered[0].items() if k != "thread"}
        if len(rendered) > 1:
            top["embeds"] = rendered[1]["embeds"]
        messages = [top]
    elif reply.kind is ReplyKind.SUMMARY and reply.digest is not None:
        messages = pack_embeds(article_embeds(_summary_only(reply.digest)))
    elif reply.kind is ReplyKind.SECTIONS and reply.digest is not None:
        d = reply.digest
        rows = [
            f"{s.index}. {escape(display_heading(s.heading, s.titled))} `{s.id}`"
            for s in d.sections
        ]
        messages = [
            {"content": clip(f"**{escape(d.article.title)}**\n" + "\n".join(rows), MAX_CONTENT)}
        ]
    elif reply.kind is ReplyKind.SECTION and reply.section is not None:
        s = reply.section
        heading = escape(display_heading(s.heading, s.titled))
        lines = [f"**{s.index}. {heading}**", *(f"• {escape(b.text)}" for b in s.bullets)]
        messages = [{"content": text} for text in pack(lines, MAX_CONTENT)]
    elif reply.kind is ReplyKind.DIGESTS:
        latest = "**" + escape(_("Latest digest")) + "**"
        lines = [latest, *(f"• {escape(d.article.title)}" for d in reply.digests)]
        messages = [{"content": text} for text in pack(lines, MAX_CONTENT)]
    else:
        prefix = "⚠️ " if reply.kind is ReplyKind.ERROR else ""
        messages = [
            {"content": text}
            for text in pack((prefix + escape(x) for x in reply.text.splitlines()), MAX_CONTENT)
        ]
    for message in messages:
        message.setdefault("embeds", [])
        message["allowed_mentions"] = NO_MENTIONS
        message["ephemeral"] = not reply.share
    return messages


def _summary_only(digest: Digest) -> Digest:
    return Digest(digest.article, digest.summary, (), digest.summarizer, digest.notes)
