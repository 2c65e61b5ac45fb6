"""The `newsdigest` command line: digest, sections, extract, summarize, serve.

Every failure a user can cause ends as one line on stderr and a non-zero exit,
never a traceback; `--debug` (or NEWSDIGEST_DEBUG=1) shows the traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from bot.errors import NewsdigestError

if TYPE_CHECKING:  # each command imports what it uses: `--help` must not load trafilatura
    from bot.models import Article, Digest, SectionDigest

DEFAULT_SUMMARY_BULLETS = 3  # bot.summarize.base.DEFAULT_SUMMARY_BULLETS (a test keeps them equal)

EXIT_ERROR = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsdigest",
        description="Turn news articles into short bullet digests (and run the Slack/Discord bot).",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument(
        "--language",
        metavar="LANG",
        help="the bot's own words in this language: en de fr es pt it ja zh "
        "(default: NEWSDIGEST_LANGUAGE, else en); articles keep theirs",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    digest = sub.add_parser("digest", help="summarize an article, page or feed into bullets")
    digest.add_argument(
        "source", metavar="SOURCE", help="a file path, an http(s) URL, or - for stdin"
    )
    digest.add_argument(
        "--section", metavar="NAME", help="only this section (id, heading or number)"
    )
    digest.add_argument(
        "--bullets",
        type=int,
        default=DEFAULT_SUMMARY_BULLETS,
        metavar="N",
        help=f"bullets per summary and per section (default {DEFAULT_SUMMARY_BULLETS})",
    )
    digest.add_argument(
        "--format",
        choices=("text", "markdown", "json", "slack", "discord"),
        default="text",
        help="slack/discord print the exact message payloads that would be posted",
    )
    digest.add_argument(
        "--summarizer",
        choices=("extractive", "llm"),
        help="override NEWSDIGEST_SUMMARIZER (llm needs OPENAI_BASE_URL / OPENAI_API_KEY)",
    )

    digest.add_argument(
        "--full",
        action="store_true",
        help="every section with all its bullets, not just the posted digest",
    )
    digest.add_argument(
        "--no-follow",
        action="store_true",
        help="for feeds: digest each item's own text instead of reading the linked article",
    )

    sections = sub.add_parser("sections", help="list an article's sections")
    sections.add_argument("source", metavar="SOURCE")
    sections.add_argument("--format", choices=("text", "json"), default="text")

    extract = sub.add_parser("extract", help="print the cleaned article text the bot works from")
    extract.add_argument("source", metavar="SOURCE")
    extract.add_argument(
        "--no-follow", action="store_true", help="for feeds: print each item's own text"
    )

    summarize = sub.add_parser(
        "summarize", help="batch: JSON lines {id, article} in, {id, bullets} out"
    )
    summarize.add_argument(
        "--input", required=True, metavar="FILE", help="JSON lines file, or - for stdin"
    )
    summarize.add_argument("--bullets", type=int, default=DEFAULT_SUMMARY_BULLETS, metavar="N")
    console = sub.add_parser(
        "console", help="look up articles in the terminal, as in a chat channel"
    )
    console.add_argument(
        "--article", metavar="SOURCE", help="digest this first, so lookups need no URL"
    )

    serve = sub.add_parser("serve", help="run the bot: scheduled digests and /digest commands")
    serve.add_argument(
        "--console",
        action="store_true",
        help="use the terminal as the channel (no Slack or Discord needed)",
    )
    serve.add_argument(
        "--slack-http-port",
        type=int,
        metavar="PORT",
        help="serve Slack over HTTP on this port (endpoint /slack/events)",
    )
    check = sub.add_parser(
        "check", help="validate the configuration and test the database, platforms and LLM"
    )
    check.add_argument("--console", action="store_true", help="the console counts as a platform")

    sub.add_parser(
        "health",
        help="probe the running bot's /healthz on the configured port (the image's HEALTHCHECK)",
    )
    sub.add_parser(
        "web-link",
        help="print a one-time link (10 minutes) that signs the operator in to the web console",
    )
    opml = sub.add_parser("opml", help="import or export a channel's feeds as OPML")
    opml_sub = opml.add_subparsers(dest="opml_command", metavar="ACTION", required=True)
    opml_import = opml_sub.add_parser(
        "import", help="follow every feed of an OPML file in a channel (nothing is posted)"
    )
    opml_import.add_argument("file", metavar="FILE", help="the OPML file ('-' for stdin)")
    opml_export = opml_sub.add_parser("export", help="print a channel's feeds as OPML")
    opml_export.add_argument("--output", "-o", metavar="FILE", help="write here, not to stdout")
    for action in (opml_import, opml_export):
        action.add_argument(
            "--channel",
            required=True,
            metavar="PLATFORM:ID",
            help="the channel, e.g. slack:C0123ABCD, discord:112233445566778899, console:C1",
        )
    discord_cmd = sub.add_parser("discord", help="Discord maintenance")
    discord_sub = discord_cmd.add_subparsers(
        dest="discord_command", metavar="ACTION", required=True
    )
    discord_sub.add_parser(
        "sync", help="register the /digest commands (guild: NEWSDIGEST_DISCORD_GUILD_ID)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    debug = args.debug or os.environ.get("NEWSDIGEST_DEBUG") == "1"
    from bot.i18n import LANGUAGES, _, supported, using

    language = args.language or os.environ.get("NEWSDIGEST_LANGUAGE")
    if language and supported(language) is None:
        parser.error(f"--language must be one of {', '.join(LANGUAGES)}")
    with using(language):
        try:
            return _run(args)
        except NewsdigestError as exc:
            _fail(exc.message)
        except KeyboardInterrupt:
            _fail(_("interrupted"))
        except BrokenPipeError:
            return 0
        except Exception as exc:
            if debug:
                raise
            _fail(
                _("unexpected {error}: {detail} (run with --debug for details)").format(
                    error=type(exc).__name__, detail=exc
                )
            )
    return EXIT_ERROR


def _fail(message: str) -> None:
    from bot.i18n import _

    print("newsdigest: " + _("error: {message}").format(message=message), file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    if args.command == "digest":
        return _cmd_digest(args)
    if args.command == "sections":
        return _cmd_sections(args)
    if args.command == "extract":
        return _cmd_extract(args)
    if args.command == "summarize":
        from bot.digest.summarize_command import run_batch

        return run_batch(args.input, args.bullets)
    if args.command == "console":
        return _cmd_console(args)
    if args.command == "check":
        from bot.ops.check import run_check

        return run_check(sys.stdout, console=args.console)
    if args.command == "health":
        from bot.ops.health import probe
        from bot.ops.settings import load_settings

        return probe(load_settings())
    if args.command == "discord":
        import asyncio

        from adapters.discord.client import sync_commands
        from bot.ops.settings import load_settings
        from bot.wiring import build_core

        print(asyncio.run(sync_commands(build_core(load_settings()))))
        return 0
    if args.command == "opml":
        return _cmd_opml(args)
    if args.command == "web-link":
        return _cmd_web_link()
    if args.command == "serve":
        from adapters.serve import serve
        from bot.ops.settings import load_settings

        return serve(load_settings(), console=args.console, slack_http_port=args.slack_http_port)
    raise NewsdigestError(f"unknown command {args.command}")


def _cmd_opml(args: argparse.Namespace) -> int:
    """OPML in and out of a channel, on the configured database."""
    from bot.channels.opml import export_feeds, import_feeds, read_opml
    from bot.ops.settings import load_settings
    from bot.store.repo import Store

    platform, _sep, external_id = args.channel.partition(":")
    if platform not in ("slack", "discord", "console") or not external_id.strip():
        raise NewsdigestError(
            "--channel is PLATFORM:ID with PLATFORM slack, discord or console (e.g. slack:C0123ABCD)"
        )
    store = Store.open(load_settings().database_url_value)
    if args.opml_command == "import":
        data = sys.stdin.buffer.read() if args.file == "-" else _read_file(args.file)
        opml = read_opml(data)  # InputError: a clear message, nothing imported
        channel = store.channel(platform, external_id)
        assert channel is not None
        report = import_feeds(store, channel.id, opml)
        print(report.describe(args.channel))
        return 0 if opml.feeds or not opml.rejected else EXIT_ERROR
    channel = store.channel(platform, external_id, create=False)
    if channel is None:
        raise NewsdigestError(f"no channel {args.channel} in the database")
    data = export_feeds(store, channel.id, f"newsdigest: {args.channel}")
    if args.output:
        Path(args.output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data + b"\n")
    return 0


def _cmd_web_link() -> int:
    """The operator's way in: a link for every channel, printed on the host only."""
    from bot.ops.settings import load_settings
    from bot.ops.signin import OPERATOR, SignIns, sign_in_link
    from bot.store.repo import Store

    settings = load_settings()
    if settings.web_url is None:
        raise NewsdigestError(
            "the web console is off: set NEWSDIGEST_WEB_PORT (web_port in the config file)"
        )
    token = SignIns(Store.open(settings.database_url_value)).mint(OPERATOR, "operator")
    print(sign_in_link(settings.web_url, token))
    print("It signs in once, within 10 minutes, for every channel.", file=sys.stderr)
    return 0


def _read_file(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise NewsdigestError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _cmd_console(args: argparse.Namespace) -> int:
    from adapters.console.repl import CONSOLE_CONTEXT, run_console
    from bot.channels.memory import InMemoryChannelMemory
    from bot.chat.handler import CommandHandler
    from bot.chat.services import Services
    from bot.ops.settings import load_settings
    from bot.wiring import source_reader

    reader = source_reader(load_settings())
    memory = InMemoryChannelMemory()
    if args.article:
        memory.put(CONSOLE_CONTEXT.where, reader.digests(args.article, limit=1)[0])
    return run_console(CommandHandler(Services(reader.newest_digest, memory, local_files=True)))


def _cmd_digest(args: argparse.Namespace) -> int:
    if args.bullets < 1:
        raise NewsdigestError("--bullets must be at least 1")
    from bot.digest.formats import digest_to_json, digest_to_markdown
    from bot.digest.lookup import find_section
    from bot.ops.settings import load_settings
    from bot.wiring import source_reader

    settings = load_settings(**({"summarizer": args.summarizer} if args.summarizer else {}))
    reader = source_reader(settings)
    with _progress("reading articles") as progress:
        digests = reader.digests(
            args.source, args.bullets, args.bullets, follow=not args.no_follow, progress=progress
        )
    _report_skipped(reader)
    picked: list[tuple[Digest, SectionDigest | None]] = []
    for digest in digests:
        section = find_section(digest, args.section) if args.section else None
        picked.append((digest, section))
    if args.format in ("slack", "discord"):
        print(
            json.dumps(
                _platform_preview(args.format, [d for d, _ in picked]), ensure_ascii=False, indent=2
            )
        )
        return 0
    for n, (digest, section) in enumerate(picked):
        if args.format == "json":
            print(json.dumps(digest_to_json(digest, section), ensure_ascii=False))
        elif args.format == "markdown":
            print(("\n" if n else "") + digest_to_markdown(digest, section, args.full), end="")
        else:
            _print_rich(digest, section, args.full)
    return 0


def _platform_preview(platform: str, digests: list[Digest]) -> list[dict[str, Any]]:
    """The exact payloads a scheduled digest of these articles would post (paste into Block Kit Builder)."""
    from datetime import UTC, datetime

    from bot.delivery.poster import ChannelDigest
    from bot.store.repo import ChannelInfo

    now = datetime.now(UTC)
    channel = ChannelInfo(0, platform, "preview", None, "UTC", False, None, now)
    digest = ChannelDigest(
        channel, now.strftime("%Y-%m-%dT%H:%M"), f"News digest — {now:%Y-%m-%d}", tuple(digests)
    )
    if platform == "slack":
        from adapters.slack.render import digest_messages as slack_messages

        return slack_messages(digest)
    from adapters.discord.render import digest_messages as discord_messages

    return discord_messages(digest)


def _print_rich(digest: Digest, section: SectionDigest | None, full: bool = False) -> None:
    from rich.console import Console
    from rich.markup import escape

    from bot.digest.channel_view import display_heading
    from bot.digest.formats import meta_line
    from bot.i18n import _

    summary, untitled = escape(_("Summary")), escape(_("untitled"))
    console = Console(highlight=False)
    console.print(f"[bold]{escape(digest.article.title)}[/bold]")
    console.print(f"[dim]{escape(meta_line(digest))}[/dim]")
    if section is None and not full:
        from bot.digest.channel_view import channel_view

        view = channel_view(digest)
        console.print(f"\n[bold cyan]{summary}[/bold cyan]")
        for bullet in view.summary:
            console.print(f"  • {escape(bullet.text)}")
        for line in view.sections:
            note = "" if line.titled else f" [dim]({untitled})[/dim]"
            console.print(
                f"\n[bold cyan]{line.index}. {escape(line.heading)}[/bold cyan]{note}  [dim]{line.id}[/dim]"
            )
            if line.bullet is not None:
                console.print(f"  • {escape(line.bullet.text)}")
        if view.listed:
            also = escape(_("Also in this article"))
            console.print(f"\n[bold cyan]{also}[/bold cyan]  [dim](--section NAME)[/dim]")
            for line in view.listed:
                console.print(f"  {line.index}. {escape(line.heading)}  [dim]{line.id}[/dim]")
        console.print()
        return
    if section is None:
        console.print(f"\n[bold cyan]{summary}[/bold cyan]")
        for bullet in digest.summary:
            console.print(f"  • {escape(bullet.text)}")
    for sec in [section] if section else digest.sections:
        note = "" if sec.titled else f" [dim]({untitled})[/dim]"
        heading = escape(display_heading(sec.heading, sec.titled))
        console.print(f"\n[bold cyan]{sec.index}. {heading}[/bold cyan]{note}  [dim]{sec.id}[/dim]")
        for bullet in sec.bullets:
            console.print(f"  • {escape(bullet.text)}")
    console.print()


def _cmd_sections(args: argparse.Namespace) -> int:
    for article in _articles(args.source):
        if args.format == "json":
            print(
                json.dumps(
                    {"title": article.title, "sections": _section_rows(article)}, ensure_ascii=False
                )
            )
            continue
        from bot.i18n import _

        print(article.title)
        for row in _section_rows(article):
            untitled = _("untitled")
            marker = "" if row["titled"] else f"  ({untitled})"
            print(f"{row['index']:>3}. {row['heading']}  [{row['id']}]{marker}")
    return 0


def _articles(source: str) -> list[Article]:
    """A source's articles; a local file needs no settings, fetcher or summarizer loaded."""
    from bot.digest.sections import build_article
    from bot.ingest import is_url, load_source

    if not is_url(source):
        return [build_article(doc) for doc in load_source(source)]
    from bot.ops.settings import load_settings
    from bot.wiring import source_reader

    return source_reader(load_settings()).articles(source, follow=False)


def _section_rows(article: Article) -> list[dict[str, Any]]:
    from bot.digest.sections import display_heading

    return [
        {
            "id": s.id,
            "index": s.index,
            "heading": display_heading(s.heading, s.titled),
            "titled": s.titled,
        }
        for s in article.sections
    ]


def _cmd_extract(args: argparse.Namespace) -> int:
    from bot.ops.settings import load_settings
    from bot.wiring import source_reader

    reader = source_reader(load_settings())
    with _progress("reading articles") as progress:
        docs = reader.documents(args.source, follow=not args.no_follow, progress=progress)
    from bot.digest.sections import build_article

    for n, article in enumerate(build_article(d) for d in docs):
        _write_article(article, sys.stdout, separator=n > 0)
    return 0


def article_text(article: Article) -> Iterator[str]:
    """The title, then each titled heading and every paragraph, as `extract` prints them."""
    yield article.title
    for section in article.sections:
        if section.titled:
            yield section.heading
        for paragraph in section.paragraphs:
            yield paragraph.text


def _write_article(article: Article, out: IO[str], separator: bool) -> None:
    if separator:
        out.write("\n" + "-" * 40 + "\n\n")
    out.write("\n\n".join(article_text(article)) + "\n")


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int], Callable[[], None]] | None]:
    """A progress bar on stderr while linked articles are read, when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:

        def start(total: int) -> Callable[[], None]:
            task = bar.add_task(label, total=total)
            return lambda: bar.advance(task)

        yield start


def _report_skipped(reader: Any) -> None:
    for skipped in reader.skipped:
        from bot.i18n import _

        note = _("skipped '{title}': {reason}").format(title=skipped.title, reason=skipped.reason)
        print(f"newsdigest: {note}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
