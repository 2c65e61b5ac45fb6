"""The platform-neutral `/digest …` command layer.

Adapters hand over what the user typed plus a context and get a Reply value
back; they never parse articles, summarize or decide wording. Errors a user
should read are Replies of kind ERROR, never exceptions.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Protocol

from bot.chat.ask import Answer, answer_question, answer_text
from bot.errors import NewsdigestError, UnknownSectionError
from bot.models import Article, Digest, SectionDigest

log = logging.getLogger(__name__)

HELP_TEXT = """\
/digest help                        this help
/digest summary [URL]               the top bullets of an article
/digest sections [URL]              the list of an article's sections
/digest section NAME|NUMBER [URL]   the bullets of one section
/digest url URL                     digest a link now
/digest ask QUESTION [URL]          answer from the article, quoted (or: it does not say)
/digest today                       the latest digest posted here
/digest sources                     the sources this channel follows
/digest subscribe URL               follow a feed or page (admins)
/digest unsubscribe NUMBER|URL      stop following a source (admins)
/digest schedule WHEN [TIMEZONE]    e.g. 'weekdays 08:00 Europe/Berlin'; 'schedule off' (admins)
/digest now                         post a digest of what is new, now (admins)
/digest filters                     this channel's filters, with what each dropped lately
/digest filter include|exclude WORDS or /REGEX/    keep or drop matching items (admins)
/digest filter remove NUMBER | filter clear         (admins)
/digest settings [articles N | bullets N | sections on|off]   show or change (admins)
Without a URL, lookups use the article most recently digested in this channel.
Add the word 'share' to post the answer for everyone."""

LOOKUPS = ("help", "summary", "sections", "section", "url", "ask")
CHANNEL_COMMANDS = (
    "today",
    "sources",
    "subscribe",
    "unsubscribe",
    "schedule",
    "now",
    "digest",
    "filter",
    "filters",
    "settings",
)
ADMIN_COMMANDS = ("subscribe", "unsubscribe", "schedule", "now", "digest", "filter")
SETTINGS = {"articles": (1, 25), "bullets": (1, 10), "sections": None}
COMMANDS = LOOKUPS + CHANNEL_COMMANDS


class ReplyKind(str, Enum):
    HELP = "help"
    SUMMARY = "summary"
    SECTIONS = "sections"
    SECTION = "section"
    DIGESTS = "digests"
    INFO = "info"
    ERROR = "error"


@dataclass(frozen=True)
class CommandContext:
    """Who asked where; adapters fill it from the platform's request."""

    channel_id: str = "console"
    user_id: str = "local"
    is_admin: bool = False
    platform: str = "console"
    request_id: str | None = (
        None  # Slack trigger_id / Discord interaction id: replays do nothing twice
    )

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.channel_id}"


@dataclass(frozen=True)
class Reply:
    kind: ReplyKind
    text: str
    digest: Digest | None = None
    section: SectionDigest | None = None
    digests: tuple[Digest, ...] = ()
    share: bool = False
    error_kind: str | None = None
    suggestion: str | None = None
    options: tuple[str, ...] = field(default_factory=tuple)


class ChannelMemory(Protocol):
    """Remembers the article each channel looked at last, so follow-ups need no URL."""

    def last_digest(self, context: CommandContext) -> Digest | None: ...

    def remember(self, context: CommandContext, digest: Digest) -> None: ...


class InMemoryChannelMemory:
    def __init__(self) -> None:
        self._digests: dict[str, Digest] = {}

    def last_digest(self, context: CommandContext) -> Digest | None:
        return self._digests.get(context.key)

    def remember(self, context: CommandContext, digest: Digest) -> None:
        self._digests[context.key] = digest


class ChannelActions(Protocol):
    """What the running bot can do for a channel; the console without a database has none."""

    def first_request(self, request_id: str) -> bool: ...

    def sources(self, context: CommandContext) -> list[str]: ...

    def subscribe(self, context: CommandContext, url: str) -> str: ...

    def unsubscribe(self, context: CommandContext, which: str) -> str: ...

    def schedule(self, context: CommandContext, when: str | None, timezone: str | None) -> str: ...

    def latest(self, context: CommandContext) -> tuple[Digest, ...]: ...

    async def digest_now(self, context: CommandContext) -> str: ...

    def add_filter(self, context: CommandContext, action: str, pattern: str) -> str: ...

    def list_filters(self, context: CommandContext) -> list[str]: ...

    def remove_filter(self, context: CommandContext, number: int) -> str: ...

    def clear_filters(self, context: CommandContext) -> str: ...

    def settings(self, context: CommandContext, name: str | None, value: str | None) -> str: ...


DigestLoader = Callable[[str], Digest]
Answerer = Callable[[Article, str], Answer]  # extractive by default; an LLM's when configured


@dataclass(frozen=True)
class ParsedCommand:
    name: str
    args: tuple[str, ...]
    source: str | None
    share: bool
    raw: str = ""  # what followed the command word, as typed (regexes keep their backslashes)

    @property
    def target(self) -> str:
        """The link (or first word) a subscribe/unsubscribe acts on; "" when none was given."""
        return self.source or (self.args[0] if self.args else "")


def parse_command(text: str, local_files: bool = False) -> ParsedCommand:
    """Split "/digest section why now https://x share" into its parts; never raises.

    Local paths count as sources only where the operator allowed it (the console):
    a chat user must never be able to make the bot read the host's files.
    """
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    if words and words[0].lstrip("/").lower() == "digest":
        words = words[1:]
    share = any(w.lower() == "share" for w in words[1:])
    words = [w for i, w in enumerate(words) if not (i > 0 and w.lower() == "share")]
    if not words:
        return ParsedCommand("help", (), None, share)
    name, rest = words[0].lower(), words[1:]
    if name == "digest" and rest and rest[0].lower() == "now":
        name, rest = "now", rest[1:]
    source = None
    if rest and (_looks_like_source(rest[-1]) or (local_files and _is_file(rest[-1]))):
        source = rest[-1].strip("<>").split("|")[0]
        rest = rest[:-1]
    match = _RAW.match(text)
    raw = match.group(1).strip() if match else ""
    return ParsedCommand(name, tuple(rest), source, share, raw)


_RAW = re.compile(r"^\s*(?:/?digest\s+)?\S+\s*(.*)$", re.IGNORECASE | re.DOTALL)


def _looks_like_source(word: str) -> bool:
    return word.strip("<>").lower().startswith(("http://", "https://"))


def _is_file(word: str) -> bool:
    try:
        return Path(word).is_file()
    except (OSError, ValueError):
        return False


class CommandHandler:
    """Answers `/digest …` for any platform, given a way to load digests and a channel memory."""

    def __init__(
        self,
        loader: DigestLoader,
        memory: ChannelMemory | None = None,
        local_files: bool = False,
        actions: ChannelActions | None = None,
        admin_users: Sequence[str] = (),
        answerer: Answerer | None = None,
    ) -> None:
        self._load = loader
        self.memory = memory or InMemoryChannelMemory()
        self._local_files = local_files
        self.actions = actions
        self._admins = frozenset(admin_users)
        self._answer: Answerer = answerer or answer_question

    async def handle(self, text: str, context: CommandContext) -> Reply:
        command = parse_command(text, self._local_files)
        try:
            return await self._dispatch(command, context)
        except NewsdigestError as exc:
            return _error(exc.message, exc.kind, command.share)
        except Exception:
            log.exception("command %r failed", command.name)
            return _error(
                "Something went wrong on our side; the error was logged.", "internal", command.share
            )

    def handle_sync(self, text: str, context: CommandContext) -> Reply:
        return asyncio.run(self.handle(text, context))

    async def _dispatch(self, command: ParsedCommand, context: CommandContext) -> Reply:
        if command.name == "help":
            return Reply(ReplyKind.HELP, HELP_TEXT, share=command.share)
        if command.name not in COMMANDS:
            guess = difflib.get_close_matches(command.name, COMMANDS, n=1)
            hint = f" Did you mean '/digest {guess[0]}'?" if guess else ""
            return _error(
                f"Unknown command '{command.name}'.{hint}\n\n{HELP_TEXT}",
                "unknown_command",
                command.share,
                guess[0] if guess else None,
            )
        if command.name in CHANNEL_COMMANDS:
            return await self._channel_command(command, context)
        if command.name == "url" and not command.source:
            return _error("Give a link: /digest url https://…", "missing_argument", command.share)
        if command.name == "ask" and not command.args:
            return _error(
                "Ask a question: /digest ask what did the council decide? [URL]",
                "missing_argument",
                command.share,
            )
        digest = await self._digest_for(command.source, context)
        if command.name == "ask":
            return await self._ask(digest, " ".join(command.args), command.share)
        if command.name in ("summary", "url"):
            return Reply(
                ReplyKind.SUMMARY, _summary_text(digest), digest=digest, share=command.share
            )
        if command.name == "sections":
            return Reply(
                ReplyKind.SECTIONS, sections_text(digest), digest=digest, share=command.share
            )
        name = " ".join(command.args)
        if not name:
            return _error(
                "Which section? " + _section_list_inline(digest),
                "missing_argument",
                command.share,
                options=tuple(s.id for s in digest.sections),
            )
        section = find_section(digest, name)
        return Reply(
            ReplyKind.SECTION,
            section_text(digest, section),
            digest=digest,
            section=section,
            share=command.share,
        )

    async def _channel_command(self, command: ParsedCommand, context: CommandContext) -> Reply:
        actions = self.actions
        if actions is None:
            return _error(
                f"'/digest {command.name}' needs the running bot (newsdigest serve).",
                "unavailable",
                command.share,
            )
        if command.name in ADMIN_COMMANDS:
            if not (context.is_admin or context.user_id in self._admins):
                return _error(
                    f"Only workspace or server admins can use '/digest {command.name}'.",
                    "forbidden",
                    command.share,
                )
            if context.request_id and not await asyncio.to_thread(
                actions.first_request, f"{context.platform}:{context.request_id}"
            ):
                return Reply(
                    ReplyKind.INFO, "That request was already handled.", share=command.share
                )
        args = list(command.args)
        if command.name in ("filter", "filters", "settings"):
            return await self._curation_command(command, context, actions)
        if command.name == "today":
            digests = await asyncio.to_thread(actions.latest, context)
            if not digests:
                return Reply(
                    ReplyKind.INFO,
                    "No digest has been posted in this channel yet.",
                    share=command.share,
                )
            text = "\n".join(f"• {d.article.title}" for d in digests)
            return Reply(
                ReplyKind.DIGESTS, f"Latest digest:\n{text}", digests=digests, share=command.share
            )
        if command.name == "sources":
            rows = await asyncio.to_thread(actions.sources, context)
            text = (
                "\n".join(f"{i}. {row}" for i, row in enumerate(rows, 1))
                or "This channel follows no sources yet. An admin can add one: /digest subscribe URL"
            )
            return Reply(ReplyKind.INFO, text, share=command.share)
        if command.name in ("subscribe", "unsubscribe"):
            subscribing = command.name == "subscribe"
            if not command.target:
                hint = (
                    "Give a feed or page link: /digest subscribe https://…"
                    if subscribing
                    else "Which one? Give its number from /digest sources, or its link."
                )
                return _error(hint, "missing_argument", command.share)
            act = actions.subscribe if subscribing else actions.unsubscribe
            return Reply(
                ReplyKind.INFO,
                await asyncio.to_thread(act, context, command.target),
                share=command.share,
            )
        if command.name == "schedule":
            if not args:
                return Reply(
                    ReplyKind.INFO,
                    await asyncio.to_thread(actions.schedule, context, None, None),
                    share=command.share,
                )
            if args[0].lower() == "off":
                return Reply(
                    ReplyKind.INFO,
                    await asyncio.to_thread(actions.schedule, context, "off", None),
                    share=command.share,
                )
            return Reply(
                ReplyKind.INFO,
                await asyncio.to_thread(actions.schedule, context, " ".join(args), None),
                share=command.share,
            )
        return Reply(ReplyKind.INFO, await actions.digest_now(context), share=command.share)

    async def ask_about(self, question: str, digests: Sequence[Digest]) -> Reply:
        """A question about one of several articles (a digest's thread): the best-answered one."""
        if not question.strip():
            return _error("Ask a question after the mention.", "missing_argument", False)
        if not digests:
            return _error(
                "No article has been digested here yet. Try /digest url https://…",
                "no_article",
                False,
            )
        answers = await asyncio.to_thread(
            lambda: [(self._answer(d.article, question), d) for d in digests]
        )
        found = [(a, d) for a, d in answers if a.found]
        answer, digest = found[0] if found else answers[0]
        return Reply(ReplyKind.INFO, answer_text(digest.article, question, answer), digest=digest)

    async def _ask(self, digest: Digest, question: str, share: bool) -> Reply:
        answer = await asyncio.to_thread(self._answer, digest.article, question)
        return Reply(
            ReplyKind.INFO,
            answer_text(digest.article, question, answer),
            digest=digest,
            share=share,
        )

    async def _curation_command(
        self, command: ParsedCommand, context: CommandContext, actions: ChannelActions
    ) -> Reply:
        share = command.share
        if command.name == "filters":
            rows = await asyncio.to_thread(actions.list_filters, context)
            text = "\n".join(f"{i}. {row}" for i, row in enumerate(rows, 1)) or (
                "No filters here. An admin can add one: /digest filter exclude WORDS or /REGEX/"
            )
            return Reply(ReplyKind.INFO, text, share=share)
        if command.name == "settings":
            name = command.args[0].lower() if command.args else None
            value = command.args[1] if len(command.args) > 1 else None
            if name is not None and not (context.is_admin or context.user_id in self._admins):
                return _error(
                    "Only workspace or server admins can change settings.", "forbidden", share
                )
            text = await asyncio.to_thread(actions.settings, context, name, value)
            return Reply(ReplyKind.INFO, text, share=share)
        action = command.args[0].lower() if command.args else ""
        if action in ("include", "exclude"):
            pattern = command.raw.split(None, 1)[1] if len(command.raw.split(None, 1)) > 1 else ""
            pattern = re.sub(r"\s+share\s*$", "", pattern, flags=re.IGNORECASE)
            text = await asyncio.to_thread(actions.add_filter, context, action, pattern)
            return Reply(ReplyKind.INFO, text, share=share)
        if action == "remove":
            number = command.args[1] if len(command.args) > 1 else ""
            if not number.isdigit():
                return _error(
                    "Which one? Give its number from /digest filters.", "missing_argument", share
                )
            text = await asyncio.to_thread(actions.remove_filter, context, int(number))
            return Reply(ReplyKind.INFO, text, share=share)
        if action == "clear":
            return Reply(
                ReplyKind.INFO, await asyncio.to_thread(actions.clear_filters, context), share=share
            )
        return _error(
            "Use /digest filter include|exclude WORDS or /REGEX/, filter remove NUMBER, "
            "or filter clear.",
            "missing_argument",
            share,
        )

    async def _digest_for(self, source: str | None, context: CommandContext) -> Digest:
        if source:
            digest = await asyncio.to_thread(self._load, source)
            await asyncio.to_thread(self.memory.remember, context, digest)
            return digest
        remembered = await asyncio.to_thread(self.memory.last_digest, context)
        if remembered is None:
            raise NewsdigestError(
                "No article has been digested in this channel yet. Try /digest url https://…"
            )
        return remembered


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


def _error(
    text: str, kind: str, share: bool, suggestion: str | None = None, options: tuple[str, ...] = ()
) -> Reply:
    return Reply(
        ReplyKind.ERROR, text, share=share, error_kind=kind, suggestion=suggestion, options=options
    )


def _summary_text(digest: Digest) -> str:
    lines = [digest.article.title, *(f"• {b.text}" for b in digest.summary)]
    return "\n".join(lines)


def sections_text(digest: Digest) -> str:
    lines = [f"{digest.article.title} — {len(digest.sections)} sections"]
    for s in digest.sections:
        lines.append(f"{s.index}. {s.heading} [{s.id}]")
    return "\n".join(lines)


def section_text(digest: Digest, section: SectionDigest) -> str:
    lines = [f"{section.index}. {section.heading}", *(f"• {b.text}" for b in section.bullets)]
    return "\n".join(lines)


def _section_list_inline(digest: Digest) -> str:
    return "Sections: " + ", ".join(f"{s.index} {s.id}" for s in digest.sections) + "."
