"""`/digest import`: a channel follows every feed of an OPML file given by its link (on
Discord, an attached file reaches the same command as its link; see test_discord.py)."""

from __future__ import annotations

import asyncio

from support.loopback import LoopbackServer, Response

from adapters.console.poster import ConsolePoster
from bot.chat.replies import CommandContext, ReplyKind
from bot.ops.settings import Settings
from bot.store.repo import Store
from bot.wiring import build_core

ADMIN = CommandContext(channel_id="C1", user_id="U1", is_admin=True, platform="console")
GUEST = CommandContext(channel_id="C1", user_id="U2", is_admin=False, platform="console")
XML = {"Content-Type": "text/x-opml"}


def opml(*urls: str) -> bytes:
    outlines = "".join(f'<outline type="rss" text="{u}" xmlUrl="{u}"/>' for u in urls)
    return f'<?xml version="1.0"?><opml version="2.0"><body>{outlines}</body></opml>'.encode()


def test_import_follows_the_good_feeds_and_names_the_rejected(store: Store) -> None:
    with LoopbackServer() as server:
        good = opml(
            "https://ledger.example/feed.xml", "ftp://old.example/feed", "https://post.example/rss"
        )
        server.route("/feeds.opml", Response(200, good, XML))
        server.route("/bomb.opml", Response(200, b'<!DOCTYPE x [<!ENTITY a "b">]><opml/>', XML))
        settings = Settings(fetch_allow="127.0.0.1/32")
        bot = build_core(settings, store=store, posters={"console": ConsolePoster()})
        handler = bot.command_handler()

        def say(text: str, context: CommandContext = ADMIN) -> str:
            reply = asyncio.run(handler.handle(text, context))
            return ("ERROR " if reply.kind is ReplyKind.ERROR else "") + reply.text

        try:
            assert say(f"/digest import {server.url}/feeds.opml", GUEST).startswith("ERROR Only")
            reply = say(f"/digest import {server.url}/feeds.opml")
            assert reply.startswith("Imported 2 feeds into this channel (0 already followed).")
            assert "ftp://old.example/feed: only http and https links can be followed" in reply
            assert say("/digest sources").splitlines() == [
                "1. https://ledger.example/feed.xml",
                "2. https://post.example/rss",
            ]
            assert "(2 already followed)" in say(f"/digest import {server.url}/feeds.opml")
            refused = say(f"/digest import {server.url}/bomb.opml")
            assert refused.startswith("ERROR That OPML file declares entities or a DTD")
            assert say("/digest import").startswith("ERROR Attach an OPML file or give its link")
            assert say("/digest import file:///etc/passwd").startswith("ERROR Attach an OPML")
            assert len(say("/digest sources").splitlines()) == 2  # nothing more was followed
        finally:
            bot.workers.close()
