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
from bot.errors import NewsdigestError
from bot.models import Digest, SectionDigest


@dataclass(frozen=True)
class ArticleArgs:
    url: str | None = arg(Link(), "Article link (default: the latest one here)")


@dataclass(frozen=True)
class SectionArgs:
    name: str | None = arg(
        Text(rest=True),
        "Section name or number",
        metavar="NAME|NUMBER",
        complete="sections",
    )
    url: str | None = arg(Link(), "Article link (default: the latest one here)")


@dataclass(frozen=True)
class LinkArgs:
    link: str | None = arg(
        Link(), "Article link", required=True, missing="Give a link: /digest url https://…"
    )


@dataclass(frozen=True)
class AskArgs:
    question: str | None = arg(
        Text(rest=True),
        "What you want to know",
        metavar="QUESTION",
        required=True,
        missing="Ask a question: /digest ask what did the council decide? [URL]",
    )
    url: str | None = arg(Link(), "Article link (default: the latest one here)")


async def article_for(run: Invocation, source: str | None) -> Digest:
    """The article a lookup is about: the one linked (then remembered), or the channel's last."""
    services, where = run.services, run.context.where
    if source:
        digest = await services.lookup(source)
        await services.memory.remember(where, digest)
        return digest
    remembered = await services.memory.last_digest(where)
    if remembered is None:
        raise NewsdigestError(
            "No article has been digested in this channel yet. Try /digest url https://…"
        )
    return remembered


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
    digest = await article_for(run, args.url)
    if not args.name:
        return error(
            "Which section? " + _section_list_inline(digest),
            "missing_argument",
            options=tuple(s.id for s in digest.sections),
        )
    section = find_section(digest, args.name)
    return Reply(ReplyKind.SECTION, section_text(section), digest=digest, section=section)


async def ask(run: Invocation, args: AskArgs) -> Reply:
    digest = await article_for(run, args.url)
    question = args.question or ""
    answer = await asyncio.to_thread(run.services.answerer, digest.article, question)
    return Reply(ReplyKind.INFO, answer_text(digest.article, question, answer), digest=digest)


async def ask_about(services: Services, question: str, digests: Sequence[Digest]) -> Reply:
    """A question about one of several articles (a digest's thread): the best-answered one."""
    if not question.strip():
        return error("Ask a question after the mention.", "missing_argument")
    if not digests:
        return error(
            "No article has been digested here yet. Try /digest url https://…", "no_article"
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
    lines = [f"{digest.article.title} — {len(digest.sections)} sections"]
    lines += [f"{s.index}. {s.heading} [{s.id}]" for s in digest.sections]
    return "\n".join(lines)


def section_text(section: SectionDigest) -> str:
    lines = [f"{section.index}. {section.heading}", *(f"• {b.text}" for b in section.bullets)]
    return "\n".join(lines)


def _section_list_inline(digest: Digest) -> str:
    return "Sections: " + ", ".join(f"{s.index} {s.id}" for s in digest.sections) + "."


LOOKUPS: tuple[Command[Any], ...] = (
    Command("help", "this help", NoArgs, show_help),
    Command("summary", "the top bullets of an article", ArticleArgs, show_summary, shareable=True),
    Command(
        "sections", "the list of an article's sections", ArticleArgs, show_sections, shareable=True
    ),
    Command("section", "the bullets of one section", SectionArgs, show_section, shareable=True),
    Command("url", "digest a link now", LinkArgs, show_link, shareable=True, slow=True),
    Command(
        "ask",
        "answer from the article, quoted (or: it does not say)",
        AskArgs,
        ask,
        shareable=True,
        slow=True,
    ),
)
