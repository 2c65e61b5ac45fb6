"""Curation: filters on RE2, one story across outlets, ranking, channel settings, /digest ask."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from support.loopback import LoopbackServer, Response

from adapters.console.poster import ConsolePoster
from bot.chat.replies import CommandContext, ReplyKind
from bot.ops.settings import Settings
from bot.store.repo import Store
from bot.wiring import Core, build_core

NOW = datetime.now(UTC).replace(microsecond=0)
ADMIN = CommandContext(channel_id="C1", user_id="U1", is_admin=True, platform="console")
GUEST = CommandContext(channel_id="C1", user_id="U2", is_admin=False, platform="console")

VOTE_A = (
    "Riverton council approves 40-megawatt solar farm on rail yard",
    "The Riverton city council voted 7-2 on Tuesday to build a 40-megawatt solar farm on the "
    "abandoned Eastside rail yard. The $68 million project will start next spring and supply "
    "about 18 percent of the city's power. Opponents wanted housing on the site instead. "
    "Construction will be led by the municipal utility and a local energy cooperative, "
    "which expect the farm to be running by the end of 2027.",
)
VOTE_B = (
    "Solar farm wins 7-2 vote in Riverton",
    "Riverton councillors backed a $68 million solar farm for the old Eastside rail yard by seven "
    "votes to two late Tuesday, ending years of debate over the empty site.",
)
OTHER = (
    "Marlow library to open on Sundays",
    "The Marlow city library will open on Sundays from next month after the council approved a "
    "budget deal on Thursday, adding 18 hours a week across its branches.",
)
SPORT = (
    "Glenholm wins cup in penalty shootout",
    "Glenholm Rovers won the national cup on Saturday, beating Fenwick City 5-4 on penalties "
    "after a 2-2 draw at the national stadium.",
)


def feed(title: str, items: list[tuple[str, str]], minutes: int) -> bytes:
    xml = "".join(
        f"<item><guid>{title}-{n}</guid><title>{t}</title><link>https://{title.replace(' ', '').lower()}.example/{n}</link>"
        f"<pubDate>{format_datetime(NOW - timedelta(minutes=minutes + n))}</pubDate>"
        f"<description>{body}</description></item>"
        for n, (t, body) in enumerate(items)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>{xml}'
        "</channel></rss>"
    ).encode()


@pytest.fixture()
def bot_and_server(store: Store):  # type: ignore[no-untyped-def]
    with LoopbackServer() as server:
        rss = {"Content-Type": "application/rss+xml"}
        server.route("/ledger.xml", Response(200, feed("Coast Ledger", [VOTE_A, OTHER], 30), rss))
        server.route("/post.xml", Response(200, feed("Harbour Post", [VOTE_B, SPORT], 10), rss))
        settings = Settings(
            fetch_allow="127.0.0.1/32",
            lookback_hours=48,
            follow_links=False,
            max_articles_per_digest=10,
        )
        out = io.StringIO()
        bot = build_core(settings, store=store, posters={"console": ConsolePoster(out)})
        channel = store.channel("console", "C1")
        assert channel is not None
        for path in ("/ledger.xml", "/post.xml"):
            store.subscribe(channel.id, server.url + path)
        yield bot, out
        bot.workers.close()


def command(bot: Core, text: str, context: CommandContext = ADMIN) -> str:
    reply = asyncio.run(bot.command_handler().handle(text, context))
    return ("ERROR " if reply.kind is ReplyKind.ERROR else "") + reply.text


def deliver(bot: Core) -> str:
    async def run() -> None:
        await bot.poller.poll_due()
        channel = bot.store.channel("console", "C1")
        assert channel is not None
        await bot.deliverer.deliver(channel, "now-test", datetime.now(UTC))

    asyncio.run(run())
    return str(bot.posters["console"].out.getvalue())  # type: ignore[attr-defined]


def test_one_story_from_two_outlets_is_one_item_first_with_the_other_named(bot_and_server) -> None:  # type: ignore[no-untyped-def]
    bot, _ = bot_and_server
    posted = deliver(bot)
    parts = posted.split("--- ")[1:]
    assert len(parts) == 3  # the vote once, the library, the cup
    assert parts[0].startswith(VOTE_A[0])  # told by two outlets: first; the fuller version shown
    assert parts[0].startswith(f"{VOTE_A[0]} — Coast Ledger")  # each entry names its outlet
    assert "Also: Harbour Post" in parts[0]
    assert all(" — Coast Ledger" in p or " — Harbour Post" in p for p in parts)
    assert VOTE_B[0] not in posted
    [delivery] = bot.store.deliveries()
    assert delivery.state == "sent" and len(delivery.plan["stories"][0]) == 2  # type: ignore[index]
    assert deliver(bot).count("--- ") == 3  # the grouped twin counts as delivered


def test_an_exclude_filter_drops_its_match_and_says_so(bot_and_server) -> None:  # type: ignore[no-untyped-def]
    bot, _ = bot_and_server
    assert "Leaving out" in command(bot, "/digest filter exclude cup penalties")
    assert command(bot, "/digest filter exclude football", GUEST).startswith("ERROR Only")
    posted = deliver(bot)
    assert SPORT[0] not in posted and OTHER[0] in posted
    listing = command(bot, "/digest filters")
    assert "1. exclude cup penalties — dropped 1 item in" in listing
    [drop] = bot.store.drop_counts(
        bot.store.channel("console", "C1").id, NOW - timedelta(days=1)
    ).values()  # type: ignore[union-attr]
    assert drop == 1  # recorded, not lost


def test_include_regex_and_invalid_patterns(bot_and_server) -> None:  # type: ignore[no-untyped-def]
    bot, _ = bot_and_server
    error = command(bot, "/digest filter include /(unclosed/")
    assert error.startswith("ERROR That is not a valid regular expression: missing )")
    assert command(bot, "/digest filters").startswith("No filters")  # nothing saved
    assert "Keeping only" in command(bot, r"/digest filter include /\bsolar\s+farm\b/")
    posted = deliver(bot)
    assert VOTE_A[0] in posted and OTHER[0] not in posted and SPORT[0] not in posted
    assert "Removed filter 1" in command(bot, "/digest filter remove 1")
    assert command(bot, "/digest filter remove 7").startswith("ERROR No filter 7")


def test_a_filter_for_one_source_judges_only_that_sources_items(bot_and_server) -> None:  # type: ignore[no-untyped-def]
    bot, _ = bot_and_server
    assert command(bot, "/digest filter include solar --source 9").startswith("ERROR No source 9")
    assert command(bot, "/digest filters").startswith("No filters")  # nothing saved
    reply = command(bot, "/digest filter include solar --source 2")  # Harbour Post only
    assert reply.startswith("Keeping only items that match solar (from http://127.0.0.1:")
    assert "/post.xml only) (filter 1)" in reply
    assert "Leaving out" in command(bot, '/digest filter exclude "sundays" --source 1')
    posted = deliver(bot)
    assert VOTE_A[0] in posted  # Coast Ledger's: no include rule judges it
    assert SPORT[0] not in posted  # Harbour Post's, and not about solar
    assert OTHER[0] not in posted  # Coast Ledger's own exclude rule
    listing = command(bot, "/digest filters")
    assert "1. include solar (from http://127.0.0.1:" in listing and "dropped 1 item" in listing
    assert command(bot, "/digest filter exclude x --source").startswith("ERROR Give a value")
    command(bot, "/digest unsubscribe 2")  # the source's own filters go with it
    assert command(bot, "/digest filters").startswith('1. exclude "sundays" (from')


def test_mentions_name_a_group_for_words_or_a_source_and_travel_with_the_delivery(
    bot_and_server,
) -> None:  # type: ignore[no-untyped-def]
    bot, _ = bot_and_server
    slack = CommandContext(channel_id="C1", user_id="U1", is_admin=True, platform="slack")
    group = "<!subteam^S0SPORTS1|@sports>"
    assert command(bot, "/digest mention add <!channel> cup", slack).startswith(
        "ERROR Name a user group"
    )
    assert command(bot, "/digest mention add @here cup", slack).startswith("ERROR Name a user")
    assert command(bot, f"/digest mention add {group}", slack).startswith("ERROR Say when")
    assert command(bot, f"/digest mention add {group} cup", GUEST).startswith("ERROR Only")
    reply = command(bot, f"/digest mention add {group} cup penalties", slack)
    assert reply == "Will mention <!subteam^S0SPORTS1> — cup penalties (mention 1)."
    assert command(bot, "/digest mentions", slack) == "1. <!subteam^S0SPORTS1> — cup penalties"
    assert command(bot, "/digest mention remove 4", slack).startswith("ERROR No mention 4")
    assert command(bot, "/digest mention clear", slack) == "Removed 1 mention."
    # the console channel's own rules, as an admin of a platform would have set them
    channel = bot.store.channel("console", "C1")
    sources = bot.store.channel_sources(channel.id)
    bot.store.add_mention(channel.id, "S0SPORTS1", None, "cup penalties", False)
    bot.store.add_mention(channel.id, "S0ENERGY1", sources[0].id, None, False)  # Coast Ledger
    bot.store.add_mention(channel.id, "S0NEVER01", None, "tram", False)
    deliver(bot)
    [delivery] = bot.store.deliveries()
    assert delivery.plan["mentions"] == ["S0SPORTS1", "S0ENERGY1"]  # type: ignore[index]


def test_channel_settings_are_stored_and_used(bot_and_server) -> None:  # type: ignore[no-untyped-def]
    bot, _ = bot_and_server
    assert "articles 10 per digest" in command(bot, "/digest settings", GUEST)
    assert command(bot, "/digest settings articles 2", GUEST).startswith("ERROR Only")
    assert "articles 2 per digest" in command(bot, "/digest settings articles 2")
    assert "bullets 1 per article" in command(bot, "/digest settings bullets 1")
    assert command(bot, "/digest settings artcles 2").startswith(
        "ERROR Unknown setting 'artcles'. Did you mean 'articles'?"
    )
    assert command(bot, "/digest settings articles 99").startswith("ERROR Articles must be")
    posted = deliver(bot)
    parts = posted.split("--- ")[1:]
    assert len(parts) == 2 and parts[0].startswith(VOTE_A[0])  # ranked, then capped
    assert parts[0].count("  • ") == 1


def test_ask_finds_the_fact_and_admits_when_the_article_does_not_say(bot_and_server) -> None:  # type: ignore[no-untyped-def]
    bot, _ = bot_and_server
    deliver(bot)
    answer = command(bot, "/digest ask how much will the solar farm cost?")
    assert "$68 million" in answer and answer.startswith("From")
    answer = command(bot, "/digest ask who is the mayor's favourite football player?")
    assert answer.startswith("The article does not say")
    assert command(bot, "/digest ask").startswith("ERROR Ask a question")
