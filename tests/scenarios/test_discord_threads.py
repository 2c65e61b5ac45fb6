"""Discord threads and forum posts end to end: the delivery engine posts through discord.py to a
loopback Discord that makes threads and forum posts as Discord does; `/digest section` asked
in a digest's thread goes through discord.py's Interaction and CommandTree and is answered
about that digest's articles. Every payload the server receives is checked against Discord's
limits (and the server refuses thread names over 100 characters)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import discord
import pytest
from support.discord_adapter import with_discord
from support.discord_limits import assert_discord_payload
from support.fake_discord import (
    BOT_USER,
    REQUIRE_TAG,
    FakeDiscord,
    discord_error,
    interaction_payload,
)
from support.loopback import LoopbackServer
from support.paths import EXAMPLE

from adapters.discord.client import DiscordAdapter
from adapters.discord.poster import DiscordPoster
from bot.delivery.poster import ChannelDigest
from bot.digest.sections import build_article
from bot.ingest.plaintext import parse_plaintext
from bot.store.repo import ChannelInfo
from bot.summarize.extractive import ExtractiveSummarizer

SLOT = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
REFUSED = "Create Public Threads"  # what the admin's note asks for


@pytest.fixture()
def fake() -> Iterator[FakeDiscord]:
    original = discord.http.Route.BASE
    with LoopbackServer() as server:
        yield FakeDiscord(server)
    discord.http.Route.BASE = original


def write_articles(folder: Path, towns: list[str]) -> None:
    """The example article once per town; its "took-long" section names the town."""
    folder.mkdir(exist_ok=True)
    for town in towns:
        text = EXAMPLE.read_text().replace("Riverton", town)
        text = text.replace("Proposals to redevelop", f"{town} proposals to redevelop")
        (folder / f"{town}.txt").write_text(text)


async def digest_at(adapter: DiscordAdapter, channel_id: str, folder: Path, at: datetime) -> None:
    """Poll the channel's folder and run the schedule's tick at `at` (daily 08:00 UTC)."""
    bot = adapter.core
    channel = bot.store.channel("discord", channel_id)
    assert channel is not None
    if not bot.store.channel_sources(channel.id):
        bot.store.subscribe(channel.id, f"path:{folder}")
        bot.store.set_schedule(channel.id, "daily 08:00 UTC", "UTC", SLOT - timedelta(hours=1))
    await bot.poller.poll_due(at - timedelta(seconds=10))
    await bot.deliverer.tick(at)


def everything_checked(fake: FakeDiscord) -> None:
    for bodies in fake.channel_messages.values():
        for body in bodies:
            assert_discord_payload(body)
    for _parent, body in fake.thread_starts:
        assert 0 < len(body["name"]) <= 100
        if "message" in body:
            assert_discord_payload(body["message"])


def in_thread(thread_id: str, parent_id: str) -> dict[str, Any]:
    """The interaction's channel when a command is typed in a thread, as Discord sends it."""
    return {
        "id": thread_id,
        "type": 11,
        "guild_id": "444",
        "parent_id": parent_id,
        "name": "News digest",
        "owner_id": BOT_USER["id"],
        "message_count": 3,
        "member_count": 1,
        "rate_limit_per_user": 0,
        "flags": 0,
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": "2024-01-01T00:00:00+00:00",
            "locked": False,
        },
    }


async def ask_in(
    adapter: DiscordAdapter,
    thread_id: str,
    parent_id: str,
    options: list[dict[str, Any]],
    interaction_id: str,
    kind: int = 2,
    subcommand: str = "section",
) -> None:
    payload = interaction_payload(
        options, kind=kind, subcommand=subcommand, interaction_id=interaction_id
    )
    payload["channel_id"] = thread_id
    payload["channel"] = in_thread(thread_id, parent_id)
    interaction: discord.Interaction[Any] = discord.Interaction(
        data=payload, state=adapter.client._connection
    )  # type: ignore[arg-type]
    await adapter.tree._call(interaction)


def test_a_digest_goes_in_a_thread_under_its_header_and_section_answers_there(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    async def test(adapter: DiscordAdapter) -> None:
        folder = tmp_path / "feed"
        write_articles(folder, ["Oakford"])
        await digest_at(adapter, "555", folder, SLOT + timedelta(seconds=30))
        write_articles(folder, ["Elmstead", "Ashby"])
        await digest_at(adapter, "555", folder, SLOT + timedelta(days=1, seconds=30))

        headers = fake.channel_messages["555"]
        first, second = fake.thread_of("555")
        assert len(headers) == 2  # only the headers in the channel; the articles in threads
        assert "1 new article" in headers[0]["content"] and "Oakford" in str(headers[0]["embeds"])
        assert [b["name"] for _p, b in fake.thread_starts] == [
            "News digest — 2024-05-01 08:00",
            "News digest — 2024-05-02 08:00",
        ]
        oakford = fake.channel_messages[first]
        assert next(e["title"] for b in oakford for e in b["embeds"]).startswith("Oakford")
        later = {e["title"].split()[0] for b in fake.channel_messages[second] for e in b["embeds"]}
        assert {"Elmstead", "Ashby"} <= later
        everything_checked(fake)
        deliveries = sorted(adapter.core.store.deliveries(), key=lambda d: d.slot)
        assert [d.thread_ref for d in deliveries] == [first, second]
        assert {d.state for d in deliveries} == {"sent"}

        # asked in the older thread: its own article, not the channel's latest one
        await ask_in(
            adapter, first, "555", [{"type": 3, "name": "name", "value": "took-long"}], "1"
        )
        answer = fake.callbacks[-1]
        assert answer["type"] == 4 and "Oakford proposals" in answer["data"]["content"]
        assert len(fake.channel_messages["555"]) == 2  # answered by the interaction, in the thread
        # in the newer thread of two articles, autocomplete names each article's sections
        focused = [{"type": 3, "name": "name", "value": "took", "focused": True}]
        await ask_in(adapter, second, "555", focused, "2", kind=4)
        [choice] = fake.callbacks[-1]["data"]["choices"]
        assert choice["value"] == "took-long" and "› 3. What took so long?" in choice["name"]
        await ask_in(adapter, second, "555", [{"type": 3, "name": "name", "value": "3"}], "3")
        said = fake.callbacks[-1]["data"]["content"]
        assert "Elmstead proposals" in said or "Ashby proposals" in said
        # a thread no digest started is a channel of its own, as before
        await ask_in(adapter, "777", "555", [{"type": 3, "name": "name", "value": "3"}], "4")
        assert "No article has been digested" in fake.callbacks[-1]["data"]["content"]

    with_discord(fake, tmp_path, test)


def test_a_forum_channel_gets_a_forum_post_and_a_retry_makes_no_second_one(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    fake.add_channel("556", 15)

    async def test(adapter: DiscordAdapter) -> None:
        folder = tmp_path / "feed"
        write_articles(folder, [f"Town{n}" for n in range(12)])
        await digest_at(adapter, "556", folder, SLOT + timedelta(seconds=30))
        assert "556" not in fake.channel_messages  # a forum takes no plain messages
        [(forum, body)] = fake.thread_starts
        [post] = fake.thread_of("556")
        assert forum == "556" and body["name"] == "News digest — 2024-05-01 08:00"
        starter, *articles = fake.channel_messages[post]
        assert starter == body["message"] and "10 new articles" in starter["content"]
        assert len(articles) >= 2  # 10 articles spread over messages within the limits
        everything_checked(fake)
        [delivery] = adapter.core.store.deliveries()
        assert delivery.state == "sent" and delivery.thread_ref == post

        # a retry of the header (a timeout, a resume) finds the post instead of making another
        poster = adapter.poster
        channel = adapter.core.store.channel("discord", "556")
        assert channel is not None
        digest = ChannelDigest(channel, "2024-05-01T08:00", "News digest — 2024-05-01", ())
        again = await poster.send("556", poster.render(digest)[0], "nd1p0", None)
        assert again.thread_ref == post and len(fake.thread_starts) == 1

        # `/digest section` inside the post answers about its articles
        await ask_in(adapter, post, "556", [{"type": 3, "name": "name", "value": "3"}], "5")
        assert "proposals to redevelop" in fake.callbacks[-1]["data"]["content"]

    with_discord(fake, tmp_path, test)


def test_where_threads_are_refused_the_digest_stays_in_the_channel_and_the_admin_is_told_once(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    fake.no_threads.add("555")

    async def test(adapter: DiscordAdapter) -> None:
        folder = tmp_path / "feed"
        write_articles(folder, ["Oakford"])
        await digest_at(adapter, "555", folder, SLOT + timedelta(seconds=30))
        write_articles(folder, ["Elmstead"])
        await digest_at(adapter, "555", folder, SLOT + timedelta(days=1, seconds=30))

        sent = fake.channel_messages["555"]
        notes = [b for b in sent if REFUSED in (b.get("content") or "")]
        assert len(notes) == 1  # once, not every digest
        titles = [e.get("title", "") for b in sent for e in b.get("embeds", [])]
        assert any(t.startswith("Oakford") for t in titles)
        assert any(t.startswith("Elmstead") for t in titles)
        assert fake.thread_of("555") == [] and fake.thread_starts == []
        refusals = [p for m, p in fake.requests if m == "POST" and p.endswith("/threads")]
        assert len(refusals) == 1  # not asked again at every digest
        everything_checked(fake)
        deliveries = adapter.core.store.deliveries()
        assert {d.state for d in deliveries} == {"sent"}
        assert {d.thread_ref for d in deliveries} == {"555"}
        [channel] = adapter.core.store.channels()
        assert not channel.paused  # refused threads are no reason to stop posting

    with_discord(fake, tmp_path, test)


def test_thread_creation_is_retried_without_posting_the_header_twice(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    # a route limit (discord.py waits it out), a ban (the engine waits it out), then an
    # outage (the delivery is resumed on a later tick)
    fake.scripted_threads += [
        discord_error(429, 0, "rate limited", {"Via": "1.1 google"}, retry_after=0.2),
        discord_error(429, 0, "banned", {"Retry-After": "1"}),
        discord_error(503, 0, "Service Unavailable"),  # discord.py retries only 500/502/504
    ]

    async def test(adapter: DiscordAdapter) -> None:
        folder = tmp_path / "feed"
        write_articles(folder, ["Oakford"])
        await digest_at(adapter, "555", folder, SLOT + timedelta(seconds=30))
        [delivery] = adapter.core.store.deliveries()
        assert delivery.state == "sending" and delivery.parts_sent == 0 and delivery.retry_at
        await adapter.core.deliverer.tick(delivery.retry_at + timedelta(seconds=1))
        [header] = fake.channel_messages["555"]  # the nonce: the same message every time
        [thread] = fake.thread_of("555")
        assert thread == fake._by_nonce[header["nonce"]]["id"]
        assert "Oakford" in str(fake.channel_messages[thread])
        [delivery] = adapter.core.store.deliveries()
        assert delivery.state == "sent" and delivery.thread_ref == thread
        everything_checked(fake)

    with_discord(fake, tmp_path, test)


def test_long_names_and_a_deleted_thread(fake: FakeDiscord, tmp_path: Path) -> None:
    article = build_article(parse_plaintext(EXAMPLE.read_text(), "example"))
    digest = ExtractiveSummarizer().summarize(article)
    channel = ChannelInfo(1, "discord", "555", None, "UTC", False, None, datetime.now(UTC))
    title = "News digest " + "with a very long name " * 20

    async def main() -> None:
        discord.http.Route.BASE = fake.api_url
        client = discord.Client(intents=discord.Intents.none())
        await client.http.static_login("fake-token")
        poster = DiscordPoster(client)
        try:
            parts = poster.render(
                ChannelDigest(channel, "now-2024-05-01T08:12:33", title, (digest,) * 3)
            )
            header = await poster.send("555", parts[0], "nd7p0", None)
            assert header.thread_ref == header.message_ref  # the server took the name
            [(_parent, body)] = fake.thread_starts
            assert 90 <= len(body["name"]) <= 100 and body["name"].endswith("…")
            fake.gone.add(str(header.thread_ref))  # a moderator deletes the thread
            rest = await poster.send("555", parts[1], "nd7p1", header.thread_ref)
            assert rest.thread_ref == "555"  # the rest of the digest goes in the channel
        finally:
            await client.http.close()

    asyncio.run(main())
    assert len(fake.channel_messages["555"]) == 2
    everything_checked(fake)


def test_a_thread_started_from_a_thread_or_a_dm_is_not_tried(fake: FakeDiscord) -> None:
    fake.add_channel("558", 11, parent_id="555")  # the bot set up inside a thread
    article = build_article(parse_plaintext(EXAMPLE.read_text(), "example"))
    digest = ExtractiveSummarizer().summarize(article)
    channel = ChannelInfo(1, "discord", "558", None, "UTC", False, None, datetime.now(UTC))

    async def main() -> None:
        discord.http.Route.BASE = fake.api_url
        client = discord.Client(intents=discord.Intents.none())
        await client.http.static_login("fake-token")
        poster = DiscordPoster(client)
        try:
            parts = poster.render(ChannelDigest(channel, "2024-05-01T08:00", "Digest", (digest,)))
            sent = await poster.send("558", parts[0], "nd8p0", None)
            assert sent.thread_ref == "558"
            await poster.send("558", parts[1], "nd8p1", sent.thread_ref)
        finally:
            await client.http.close()

    asyncio.run(main())
    assert len(fake.channel_messages["558"]) == 2 and fake.thread_starts == []


def test_the_header_names_the_articles_within_the_limits() -> None:
    article = build_article(parse_plaintext(EXAMPLE.read_text(), "example"))
    digest = ExtractiveSummarizer().summarize(article)
    long_title = replace(digest, article=replace(digest.article, title="T " * 400))
    channel = ChannelInfo(1, "discord", "555", None, "UTC", False, None, datetime.now(UTC))
    from adapters.discord.render import digest_messages

    header, *_rest = digest_messages(
        ChannelDigest(channel, "2024-05-01T08:00", "Digest", (long_title,) * 50)
    )
    assert_discord_payload(header)
    assert header["embeds"][0]["description"].endswith("…")  # more than one embed holds


def test_a_forum_that_requires_tags_pauses_the_channel_with_the_reason(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    fake.add_channel("557", 15, flags=REQUIRE_TAG)

    async def test(adapter: DiscordAdapter) -> None:
        folder = tmp_path / "feed"
        write_articles(folder, ["Oakford"])
        await digest_at(adapter, "557", folder, SLOT + timedelta(seconds=30))
        [delivery] = adapter.core.store.deliveries()
        [channel] = adapter.core.store.channels()
        assert delivery.state == "failed" and channel.paused
        assert "40067" in str(channel.paused_reason) and fake.thread_of("557") == []

    with_discord(fake, tmp_path, test)
