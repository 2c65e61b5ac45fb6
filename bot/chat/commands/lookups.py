"""Looking up an article: help, its summary, its sections, one section, a link, a question.

Without a link, lookups use the article the channel saw last (its memory); with one, that
article becomes the channel's memory, so follow-ups need no link.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.chat.ask import answer_text
from bot.chat.grammar import help_text
from bot.chat.replies import Reply, ReplyKind, error
from bot.chat.services import Services
from bot.chat.spec import Command, Invocation, Link, NoArgs, Text, arg
from bot.digest.lookup import find_section
from bot.digest.sections import display_heading
from bot.errors import NewsdigestError, UnknownSectionError
from bot.i18n import _, lazy, ngettext
from bot.models import Digest, SectionDigest


@dataclass(frozen=True)
class ArticleArgs:
    url: str | None = arg(Link(), lazy("Article link (default: the latest one here)"))


@dataclass(frozen=True)
class SectionArgs:
    name: str | None = arg(
        Text(rest=True),
        lazy("Section name or number"),
        metavar="NAME|NUMBER",
        complete="sections",
    )
    url: str | None = arg(Link(), lazy("Article link (default: the latest one here)"))


@dataclass(frozen=True)
class LinkArgs:
    link: str | None = arg(
        Link(),
        lazy("Article link"),
        required=True,
        missing=lazy("Give a link: /digest url https://…"),
    )


@dataclass(frozen=True)
class AskArgs:
    question: str | None = arg(
        Text(rest=True),
        lazy("What you want to know"),
        metavar="QUESTION",
        required=True,
        missing=lazy("Ask a question: /digest ask what did the council decide? [URL]"),
    )
    url: str | None = arg(Link(), lazy("Article link (default: the latest one here)"))


async def article_for(run: Invocation, source: str | None, section: str | None = None) -> Digest:
    """The article a lookup is about: the one linked (then remembered); in a digest's thread,
    one of that digest's articles (the first with the section asked for); else the channel's
    last."""
    services, where = run.services, run.context.where
    if source:
        digest = await services.lookup(source)
        await services.memory.remember(where, digest)
        return digest
    remembered = await services.memory.last_digest(where)
    in_thread = await thread_articles(run)
    if in_thread:
        return _in_thread(in_thread, remembered, section)
    if remembered is None:
        raise NewsdigestError(
            _("No article has been digested in this channel yet. Try /digest url https://…")
        )
    return remembered


async def thread_articles(run: Invocation) -> list[Digest]:
    """The articles of the digest whose thread the command was asked in (none elsewhere)."""
    thread, admin = run.context.thread_ref, run.services.admin
    if thread is None or admin is None:
        return []
    return await admin.digest_thread(run.context.where, thread) or []


def _in_thread(digests: Sequence[Digest], remembered: Digest | None, section: str | None) -> Digest:
    """Of a thread's articles: the one the channel looked at last if it is one of them, then
    the others in the digest's order; the first that has the section asked for."""
    key = _identity(remembered) if remembered is not None else None
    ordered = sorted(digests, key=lambda d: _identity(d) != key)
    if section:
        for digest in ordered:
            try:
                find_section(digest, section)
            except UnknownSectionError:
                continue
            return digest
    return ordered[0]


def _identity(digest: Digest) -> str:
    return digest.article.url or digest.article.source


async def show_help(run: Invocation, _args: NoArgs) -> Reply:
    return Reply(ReplyKind.HELP, help_text(run.commands))


async def show_summary(run: Invocation, args: ArticleArgs) -> Reply:
    digest = await article_for(run, args.url)
    return Reply(ReplyKind.SUMMARY, summary_text(digest), digest=digest)


async def show_link(run: Invocation, args: LinkArgs) -> Reply:
    return await show_summary(run, ArticleArgs(args.link))


async def show_sections(run: Invocation, args: ArticleArgs) -> Reply:
    digest = await article_for(run, args.url)
    return Reply(ReplyKind.SECTIONS, sections_text(digest), digest=digest)


async def show_section(run: Invocation, args: SectionArgs) -> Reply:
    digest = await article_for(run, args.url, args.name)
    if not args.name:
        return error(
            _("Which section? {sections}").format(sections=_section_list_inline(digest)),
            "missing_argument",
            options=tuple(s.id for s in digest.sections),
        )
    section = find_section(digest, args.name)
    return Reply(ReplyKind.SECTION, section_text(section), digest=digest, section=section)


async def ask(run: Invocation, args: AskArgs) -> Reply:
    question = args.question or ""
    if not args.url and (in_thread := await thread_articles(run)):
        return await ask_about(run.services, question, in_thread)  # the best-answered one
    digest = await article_for(run, args.url)
    answer = await asyncio.to_thread(run.services.answerer, digest.article, question)
    return Reply(ReplyKind.INFO, answer_text(digest.article, question, answer), digest=digest)


async def ask_about(services: Services, question: str, digests: Sequence[Digest]) -> Reply:
    """A question about one of several articles (a digest's thread): the best-answered one."""
    if not question.strip():
        return error(_("Ask a question after the mention."), "missing_argument")
    if not digests:
        return error(
            _("No article has been digested here yet. Try /digest url https://…"), "no_article"
        )
    answers = await asyncio.to_thread(
        lambda: [(services.answerer(d.article, question), d) for d in digests]
    )
    found = [(a, d) for a, d in answers if a.found]
    answer, digest = found[0] if found else answers[0]
    return Reply(ReplyKind.INFO, answer_text(digest.article, question, answer), digest=digest)


def summary_text(digest: Digest) -> str:
    return "\n".join([digest.article.title, *(f"• {b.text}" for b in digest.summary)])


def sections_text(digest: Digest) -> str:
    count = len(digest.sections)
    lines = [
        ngettext("{title} — {count} section", "{title} — {count} sections", count).format(
            title=digest.article.title, count=count
        )
    ]
    lines += [
        f"{s.index}. {display_heading(s.heading, s.titled)} [{s.id}]" for s in digest.sections
    ]
    return "\n".join(lines)


def section_text(section: SectionDigest) -> str:
    heading = display_heading(section.heading, section.titled)
    lines = [f"{section.index}. {heading}", *(f"• {b.text}" for b in section.bullets)]
    return "\n".join(lines)


def _section_list_inline(digest: Digest) -> str:
    listed = ", ".join(f"{s.index} {s.id}" for s in digest.sections)
    return _("Sections: {sections}.").format(sections=listed)


LOOKUPS: tuple[Command[Any], ...] = (
    Command("help", lazy("this help"), NoArgs, show_help),
    Command(
        "summary", lazy("the top bullets of an article"), ArticleArgs, show_summary, shareable=True
    ),
    Command(
        "sections",
        lazy("the list of an article's sections"),
        ArticleArgs,
        show_sections,
        shareable=True,
    ),
    Command(
        "section", lazy("the bullets of one section"), SectionArgs, show_section, shareable=True
    ),
    Command("url", lazy("digest a link now"), LinkArgs, show_link, shareable=True, slow=True),
    Command(
        "ask",
        lazy("answer from the article, quoted (or: it does not say)"),
        AskArgs,
        ask,
        shareable=True,
        slow=True,
    ),
)
