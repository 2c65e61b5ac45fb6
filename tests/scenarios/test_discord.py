"""Discord end to end: interaction payloads as Discord sends them go through discord.py's own
Interaction and CommandTree into our handlers; responses and channel messages go out through
discord.py's HTTP client to a loopback Discord."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import discord
import pytest
from support.discord_adapter import with_discord as run_adapter
from support.discord_limits import assert_discord_payload
from support.fake_discord import FakeDiscord, discord_error, interaction_payload
from support.loopback import LoopbackServer, Response
from support.paths import EXAMPLE

from adapters.discord.client import DiscordAdapter
from adapters.discord.poster import DiscordPoster
from adapters.discord.render import digest_messages, escape
from bot.channels.admin import ChannelRef
from bot.delivery.poster import ChannelDigest, Outlet, PostError
from bot.digest.sections import build_article
from bot.ingest.plaintext import parse_plaintext
from bot.models import Digest
from bot.store.repo import ChannelInfo
from bot.summarize.extractive import ExtractiveSummarizer

MANAGE_GUILD = str(0x20)


@pytest.fixture()
def fake() -> Iterator[FakeDiscord]:
    original = discord.http.Route.BASE
    with LoopbackServer() as server:
        server.route(
            "/article", Response(200, EXAMPLE.read_bytes(), {"Content-Type": "text/plain"})
        )
        yield FakeDiscord(server)
    discord.http.Route.BASE = original


def with_discord(
    fake: FakeDiscord, tmp_path: Path, test: Callable[[DiscordAdapter], Awaitable[None]]
) -> None:
    run_adapter(fake, tmp_path, test, fetch_allow="127.0.0.1/32")


async def invoke(adapter: DiscordAdapter, payload: dict[str, Any]) -> None:
    interaction: discord.Interaction[Any] = discord.Interaction(
        data=payload, state=adapter.client._connection
    )  # type: ignore[arg-type]
    await adapter.tree._call(interaction)


def test_sections_then_section_with_autocomplete(fake: FakeDiscord, tmp_path: Path) -> None:
    async def test(adapter: DiscordAdapter) -> None:
        url = f"{fake.server.url}/article"
        await invoke(
            adapter,
            interaction_payload([{"type": 3, "name": "url", "value": url}], interaction_id="701"),
        )
        assert fake.callbacks[0]["type"] == 5  # deferred within Discord's 3 seconds
        assert fake.callbacks[0]["data"]["flags"] & 64  # ephemeral
        [followup] = fake.followups
        assert "took-long" in followup["content"] and "What took so long?" in followup["content"]
        assert_discord_payload(followup)

        auto = interaction_payload(
            [{"type": 3, "name": "name", "value": "took", "focused": True}],
            kind=4,
            subcommand="section",
            interaction_id="702",
        )
        await invoke(adapter, auto)
        choices = fake.callbacks[-1]["data"]["choices"]
        assert (
            fake.callbacks[-1]["type"] == 8
            and {"name": "3. What took so long?", "value": "took-long"} in choices
        )

        await invoke(
            adapter,
            interaction_payload(
                [{"type": 3, "name": "name", "value": "took-long"}],
                subcommand="section",
                interaction_id="703",
            ),
        )
        answer = fake.callbacks[-1]
        assert answer["type"] == 4 and "Proposals to redevelop" in answer["data"]["content"]
        assert answer["data"]["allowed_mentions"] == {"parse": []}

    with_discord(fake, tmp_path, test)


def test_url_answers_with_an_embed_and_share_is_public(fake: FakeDiscord, tmp_path: Path) -> None:
    async def test(adapter: DiscordAdapter) -> None:
        options = [
            {"type": 3, "name": "link", "value": f"{fake.server.url}/article"},
            {"type": 5, "name": "share", "value": True},
        ]
        await invoke(adapter, interaction_payload(options, subcommand="url", interaction_id="710"))
        assert not (fake.callbacks[0].get("data", {}).get("flags", 0) & 64)
        [followup] = fake.followups
        assert_discord_payload(followup)
        assert followup["embeds"][0]["title"].startswith("Riverton Council")

    with_discord(fake, tmp_path, test)


@pytest.mark.parametrize(
    "permissions, guild, allowed",
    [("0", True, False), (MANAGE_GUILD, True, True), (MANAGE_GUILD, False, False)],
)
def test_admin_commands_check_manage_server_at_run_time(
    fake: FakeDiscord, tmp_path: Path, permissions: str, guild: bool, allowed: bool
) -> None:
    async def test(adapter: DiscordAdapter) -> None:
        options = [
            {"type": 3, "name": "when", "value": "weekdays 08:00"},
            {"type": 3, "name": "timezone", "value": "Europe/Berlin"},
        ]
        payload = interaction_payload(
            options, subcommand="schedule", permissions=permissions, guild=guild
        )
        await invoke(adapter, payload)
        text = (fake.callbacks[-1].get("data") or {}).get("content", "") if fake.callbacks else ""
        channels = adapter.core.store.channels()
        if allowed:
            assert "weekdays 08:00 Europe/Berlin" in text
            assert channels[0].schedule == "weekdays 08:00 Europe/Berlin"
        else:
            assert all(c.schedule is None for c in channels)

    with_discord(fake, tmp_path, test)


# posting -----------------------------------------------------------------------------------------
def example_digest() -> Digest:
    return ExtractiveSummarizer().summarize(
        build_article(parse_plaintext(EXAMPLE.read_text(), "example"))
    )


def long_digest() -> Digest:
    text = "A very long article\n\n" + "\n\n".join(
        f"SECTION {n} TITLE\n\n"
        + " ".join(
            f"Sentence {n}.{i} runs long about **bold** claims and @everyone "
            f"<@123> pings in the text."
            for i in range(40)
        )
        for n in range(60)
    )
    return ExtractiveSummarizer().summarize(build_article(parse_plaintext(text, "long")), 5, 5)


def channel_digest(digests: list[Digest]) -> ChannelDigest:
    channel = ChannelInfo(1, "discord", "555", None, "UTC", False, None, datetime.now(UTC))
    return ChannelDigest(channel, "2024-05-01T08:00", "News digest — 2024-05-01", tuple(digests))


def test_embeds_stay_within_limits_for_long_and_many_articles() -> None:
    for digests in ([long_digest()], [example_digest()] * 40, [long_digest()] * 12):
        messages = digest_messages(channel_digest(digests))
        assert len(messages) >= (2 if len(digests) > 1 else 1)  # split where needed
        for message in messages:
            assert_discord_payload(message)
        assert 0 < len(messages[0]["thread"]["name"]) <= 100
    header, *details = digest_messages(channel_digest([example_digest()] * 40))
    assert header["embeds"][0]["description"].count("• Riverton") >= 20  # a line an article
    titles = [e["title"] for m in details for e in m["embeds"]]
    assert sum(t.startswith("Riverton") for t in titles) == 40


def test_markdown_and_mentions_are_defused() -> None:
    assert "@everyone" not in escape("hi @everyone and @here <@123> <@&5>")
    assert escape("**bold** _it_") == "\\*\\*bold\\*\\* \\_it\\_"


def poster_with_client(fake: FakeDiscord, test: Callable[[DiscordPoster], Awaitable[None]]) -> None:
    async def main() -> None:
        discord.http.Route.BASE = fake.api_url
        client = discord.Client(intents=discord.Intents.none())
        await client.http.static_login("fake-token")
        try:
            await test(DiscordPoster(client))
        finally:
            await client.http.close()

    asyncio.run(main())


def test_scheduled_digest_posts_embeds_and_a_retry_reuses_the_nonce(fake: FakeDiscord) -> None:
    async def test(poster: DiscordPoster) -> None:
        parts = poster.render(channel_digest([example_digest()] * 12))
        first = await poster.send("555", parts[0], "nd1p0", None)
        again = await poster.send("555", parts[0], "nd1p0", None)  # a retry after a timeout
        assert first == again  # the same message, and the same thread (Discord refused a 2nd)
        assert first.thread_ref == first.message_ref  # a thread has its first message's id
        await poster.send("555", parts[1], "nd1p1", first.thread_ref)
        [header] = fake.channel_messages["555"]
        [details] = fake.channel_messages[first.message_ref]
        assert header["nonce"] == "nd1p0" and header["enforce_nonce"] is True
        assert len(fake.thread_starts) == 1
        for body in (header, details):
            assert_discord_payload(body)
            assert body["allowed_mentions"]["parse"] == []

    poster_with_client(fake, test)


def test_each_entry_names_its_outlet_and_the_others_that_told_the_story(fake: FakeDiscord) -> None:
    ledger = replace(
        example_digest(), article=replace(example_digest().article, outlet="Coast Ledger")
    )
    others = (Outlet("Harbour Post", "https://post.example/vote"), Outlet("Bay *Times*", None))
    digest = replace(channel_digest([ledger, example_digest()]), also=((others), ()))

    async def test(poster: DiscordPoster) -> None:
        header, part = poster.render(digest)
        sent = await poster.send("555", header, "nd2p0", None)
        await poster.send("555", part, "nd2p1", sent.thread_ref)
        [body] = fake.channel_messages[str(sent.thread_ref)]
        assert_discord_payload(body)
        first, second = body["embeds"][0], body["embeds"][1]
        assert first["author"]["name"] == "Coast Ledger"  # who reported it, as an embed author
        assert second["author"]["name"] == "example"  # no feed title: where it came from
        also = [f["value"] for f in first["fields"] if f["name"] == "Also reported by"]
        assert also == ["[Harbour Post](https://post.example/vote), Bay \\*Times\\*"]

    poster_with_client(fake, test)


@pytest.mark.parametrize("status, code", [(403, 50001), (404, 10003)])
def test_access_errors_are_permanent(fake: FakeDiscord, status: int, code: int) -> None:
    fake.scripted.append(
        discord_error(status, code, "Missing Access" if status == 403 else "Unknown Channel")
    )

    async def test(poster: DiscordPoster) -> None:
        with pytest.raises(PostError) as raised:
            await poster.send("555", {"content": "hi", "embeds": []}, "nd1p0", None)
        assert raised.value.permanent

    poster_with_client(fake, test)


def test_rate_limit_is_waited_out_by_discord_py(fake: FakeDiscord) -> None:
    fake.scripted.append(
        discord_error(429, 0, "You are being rate limited.", {"Via": "1.1 google"}, retry_after=0.5)
    )

    async def test(poster: DiscordPoster) -> None:
        started = time.monotonic()
        sent = await poster.send("555", {"content": "hi", "embeds": []}, "nd1p0", None)
        assert sent.message_ref and time.monotonic() - started >= 0.5

    poster_with_client(fake, test)


def test_scheduled_digest_goes_out_as_embeds_through_the_delivery_engine(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    async def test(adapter: DiscordAdapter) -> None:
        bot = adapter.core
        folder = tmp_path / "feed"
        folder.mkdir()
        for n in range(12):
            (folder / f"{n}.txt").write_text(EXAMPLE.read_text().replace("Riverton", f"Town{n}"))
        channel = bot.store.channel("discord", "555")
        assert channel is not None
        bot.store.subscribe(channel.id, f"path:{folder}")
        await bot.poller.poll_due()
        slot = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
        if slot > datetime.now(UTC):
            slot -= timedelta(days=1)
        bot.store.set_schedule(channel.id, "daily 08:00 UTC", "UTC", slot - timedelta(hours=1))
        await bot.deliverer.tick(slot + timedelta(seconds=30))
        [header] = fake.channel_messages["555"]
        [thread] = fake.thread_of("555")
        sent = [header, *fake.channel_messages[thread]]
        for body in sent:
            assert_discord_payload(body)  # 6000 characters a message: long articles spread out
        titles = [e["title"] for b in sent[1:] for e in b["embeds"] if "(cont.)" not in e["title"]]
        assert (
            len(titles) == 10 and len({t.split()[0] for t in titles}) == 10
        )  # the newest 10, each once
        [delivery] = bot.store.deliveries()
        assert delivery.state == "sent" and delivery.parts_sent == len(sent) >= 2

    with_discord(fake, tmp_path, test)


def test_filter_and_settings_take_typed_options(fake: FakeDiscord, tmp_path: Path) -> None:
    async def test(adapter: DiscordAdapter) -> None:
        def said() -> str:
            return str((fake.callbacks[-1].get("data") or {}).get("content", ""))

        include = [
            {"type": 3, "name": "action", "value": "exclude"},
            {"type": 3, "name": "pattern", "value": r"/\bcup\s+final\b/"},
        ]
        await invoke(
            adapter,
            interaction_payload(
                include, subcommand="filter", permissions=MANAGE_GUILD, interaction_id="801"
            ),
        )
        assert "Leaving out" in said()
        await invoke(adapter, interaction_payload([], subcommand="filters", interaction_id="802"))
        listing = said().replace("\\", "")  # Discord markdown escapes removed
        assert "1. exclude /bcups+finalb/ — dropped 0 items" in listing
        bad = [
            {"type": 3, "name": "action", "value": "include"},
            {"type": 3, "name": "pattern", "value": "/(oops/"},
        ]
        await invoke(
            adapter,
            interaction_payload(
                bad, subcommand="filter", permissions=MANAGE_GUILD, interaction_id="803"
            ),
        )
        assert "not a valid regular expression" in said()
        guest = [{"type": 4, "name": "articles", "value": 3}]
        await invoke(
            adapter, interaction_payload(guest, subcommand="settings", interaction_id="804")
        )
        assert "Only workspace or server admins" in said()
        admin = [
            {"type": 4, "name": "articles", "value": 3},
            {"type": 5, "name": "sections", "value": False},
        ]
        await invoke(
            adapter,
            interaction_payload(
                admin, subcommand="settings", permissions=MANAGE_GUILD, interaction_id="805"
            ),
        )
        assert "articles 3 per digest" in said() and "sections off" in said()
        [channel] = adapter.core.store.channels()
        stored = adapter.core.store.channel_settings(channel.id)
        assert (stored.articles_per_digest, stored.list_sections) == (3, False)

    with_discord(fake, tmp_path, test)


def test_import_takes_an_attached_opml_file(fake: FakeDiscord, tmp_path: Path) -> None:
    feeds = (
        b'<?xml version="1.0"?><opml version="2.0"><body>'
        b'<outline type="rss" text="Ledger" xmlUrl="https://ledger.example/feed.xml"/>'
        b"</body></opml>"
    )
    fake.server.route(
        "/attachments/1/900/feeds.opml", Response(200, feeds, {"Content-Type": "text/x-opml"})
    )

    async def test(adapter: DiscordAdapter) -> None:
        payload = interaction_payload(
            [{"type": 11, "name": "file", "value": "900"}],
            subcommand="import",
            permissions=MANAGE_GUILD,
            interaction_id="901",
        )
        url = f"{fake.server.url}/attachments/1/900/feeds.opml"
        payload["data"]["resolved"] = {
            "attachments": {
                "900": {
                    "id": "900",
                    "filename": "feeds.opml",
                    "size": len(feeds),
                    "url": url,
                    "proxy_url": url,
                    "content_type": "text/x-opml",
                }
            }
        }
        await invoke(adapter, payload)
        assert fake.callbacks[-1]["type"] == 5  # deferred: reading a link may take a while
        assert "Imported 1 feed into this channel" in str(fake.followups[-1]["content"])
        [channel] = adapter.core.store.channels()
        assert [s.url for s in adapter.core.store.channel_sources(channel.id)] == [
            "https://ledger.example/feed.xml"
        ]

    with_discord(fake, tmp_path, test)


def test_a_digest_mentions_only_the_configured_role_whatever_the_article_says(
    fake: FakeDiscord,
) -> None:
    hostile = replace(
        example_digest(),
        article=replace(example_digest().article, title="@everyone <@&999999999999999999> @here"),
    )
    digest = replace(channel_digest([hostile]), mentions=("123456789012345678",))

    async def test(poster: DiscordPoster) -> None:
        parts = poster.render(digest)
        await poster.send("555", parts[0], "nd2p0", None)
        [body] = fake.channel_messages["555"]
        assert_discord_payload(body)
        assert body["content"].startswith("<@&123456789012345678>\n")
        # discord.py sends exactly the configured role; everyone, here and users never ping
        assert body["allowed_mentions"] == {"parse": [], "roles": [123456789012345678]}
        assert "@everyone" not in str(body["embeds"]).replace("@\u200beveryone", "")

    poster_with_client(fake, test)


def test_mention_takes_a_role_option_and_refuses_everyone(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    def role(role_id: str, name: str) -> dict[str, Any]:
        return {
            "id": role_id,
            "name": name,
            "color": 0,
            "hoist": False,
            "position": 1,
            "permissions": "0",
            "managed": False,
            "mentionable": True,
            "flags": 0,
        }

    async def test(adapter: DiscordAdapter) -> None:
        def ask(role_id: str, name: str, words: str, interaction_id: str) -> dict[str, Any]:
            payload = interaction_payload(
                [
                    {"type": 3, "name": "action", "value": "add"},
                    {"type": 8, "name": "role", "value": role_id},
                    {"type": 3, "name": "words", "value": words},
                ],
                subcommand="mention",
                permissions=MANAGE_GUILD,
                interaction_id=interaction_id,
            )
            payload["data"]["resolved"] = {"roles": {role_id: role(role_id, name)}}
            return payload

        await invoke(adapter, ask("123456789012345678", "sports", "cup final", "951"))
        said = str(fake.callbacks[-1]["data"]["content"])
        assert "Will mention <@&123456789012345678> — cup final (mention 1)" in said.replace(
            "\\", ""
        )
        assert fake.callbacks[-1]["data"]["allowed_mentions"] == {
            "parse": []
        }  # the reply pings no one
        # the server's own role, which discord.py writes as "@everyone"
        await invoke(adapter, ask("444", "@everyone", "cup", "952"))
        assert "Choose a role to mention" in str(fake.callbacks[-1]["data"]["content"])
        [channel] = adapter.core.store.channels()
        assert [m.target for m in adapter.core.store.mentions(channel.id)] == ["123456789012345678"]

    with_discord(fake, tmp_path, test)


def test_message_templates_by_typed_options_shape_the_next_digest(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    """`/digest template` with typed options: bad templates refused with nothing saved, a good
    one previewed and used for the next digest, escaped, pinging no one, within limits."""

    async def test(adapter: DiscordAdapter) -> None:
        bot = adapter.core
        folder = tmp_path / "feed"
        folder.mkdir()
        (folder / "a.txt").write_text(EXAMPLE.read_text())
        channel = bot.store.channel("discord", "555")
        assert channel is not None
        bot.store.subscribe(channel.id, f"path:{folder}")
        await bot.poller.poll_due()
        slot = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
        if slot > datetime.now(UTC):
            slot -= timedelta(days=1)
        bot.store.set_schedule(channel.id, "daily 08:00 UTC", "UTC", slot - timedelta(hours=1))
        await bot.deliverer.tick(slot + timedelta(seconds=30))  # the latest digest
        ids = iter(range(900, 999))

        async def template(action: str, part: str | None = None, text: str | None = None) -> Any:
            options = [{"type": 3, "name": "action", "value": action}]
            if part:
                options.append({"type": 3, "name": "part", "value": part})
            if text:
                options.append({"type": 3, "name": "template", "value": text})
            payload = interaction_payload(
                options,
                subcommand="template",
                permissions=MANAGE_GUILD,
                interaction_id=str(next(ids)),
            )
            await invoke(adapter, payload)
            data = fake.callbacks[-1]["data"]
            assert_discord_payload(data)
            return data

        def stored() -> str | None:
            return bot.store.channel_settings(channel.id).entry_template

        for bad, why in [
            ("{{ ''.__class__.__mro__ }}", "not allowed"),
            ("{{ cycler.__init__.__globals__ }}", "Unknown field"),
            ("{% for i in range(50) %}{{ 'y' * 99 }}{% endfor %}", "Discord allows 4096"),
        ]:
            said = str((await template("set", "entry", bad))["content"]).replace("\\", "")
            assert why in said and stored() is None
        entry = "{{ outlet }} @everyone {% for b in summary %}\n> {{ b }}\n{% endfor %}"
        assert "Saved the entry template" in str((await template("set", "entry", entry))["content"])
        preview = await template("preview")
        assert preview["flags"] == 64  # ephemeral: only the admin sees it
        assert preview["allowed_mentions"] == {"parse": []}
        # the outlet (a local folder here), the admin's @everyone defused, a quote per bullet
        assert preview["embeds"][0]["description"].startswith("feed @\u200beveryone > The")
        (folder / "b.txt").write_text(EXAMPLE.read_text().replace("Riverton", "Lake*side"))
        await bot.poller.poll_due(datetime.now(UTC) + timedelta(hours=2))
        sent = len(fake.channel_messages["555"])
        assert "Posted a digest" in await bot.admin.digest_now(
            ChannelRef(channel.platform, channel.external_id)
        )
        [header] = fake.channel_messages["555"][sent:]  # the articles are in its thread
        assert "Lake" in str(header["embeds"])
        [body, *_rest] = fake.channel_messages[fake.thread_of("555")[-1]]
        assert_discord_payload(body)
        assert body["allowed_mentions"] == {"parse": []}
        description = body["embeds"][0]["description"]
        assert description.startswith("feed @\u200beveryone > ") and "Lake\\*side" in description
        await template("reset")
        assert stored() is None

    with_discord(fake, tmp_path, test)
