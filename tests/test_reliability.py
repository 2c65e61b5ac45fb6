"""The hostile-input, fault and delivery cases of the shared reliability list that are not
covered next to their feature. Where a case lives elsewhere, the index says where:

 1 here (Slack, crash after accept)      2,3,5,6 test_delivery     4 test_multiprocess
 7 test_discord (nonce)                  8 here (DB error on the sent update)
 9-12,16,17 test_sources                 13 test_slack + test_delivery (retry_at)
14 test_discord + here (Cloudflare)      15 test_slack/test_discord + test_delivery (pause once)
18,33,34 test_llm                        19,20 test_netguard + here (fetch level)
21,22,24 here + test_fetch               23 test_fetch + test_netguard
25 test_fetch                            26,27,28,29,30 here
31,32 test_slack + test_discord          35 test_slack + test_discord
36 here + test_ops                       37 test_ops
38 test_netguard + test_sources + here   39 here (state machine)      40 fuzz/ (make fuzz)
"""

from __future__ import annotations

import ast
import asyncio
import gzip
import ipaddress
import logging
import resource
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from discord_limits import assert_discord_payload
from fake_slack import FakeSlack
from fakes import Crash, RecordingPoster
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from loopback import LoopbackServer, Response
from slack_limits import assert_slack_payload
from test_netguard import REFUSED

from adapters.discord.render import digest_messages as discord_messages
from adapters.slack.poster import SlackPoster, make_client
from adapters.slack.render import digest_messages as slack_messages
from bot.delivery.engine import Deliverer
from bot.delivery.polling import local_source, poll_source
from bot.delivery.poster import ChannelDigest, PostError, SentPart
from bot.digest.channel_view import channel_view
from bot.errors import FetchError, InputError
from bot.ingest import parse_bytes
from bot.ingest.fetch import FetchOptions, fetch
from bot.ingest.netguard import AddressPolicy, IPAddress
from bot.models import Article, Bullet, Digest, Paragraph, Section, SectionDigest, Sentence
from bot.store.repo import ChannelInfo, Store
from bot.summarize.extractive import ExtractiveSummarizer
from bot.wiring import delivery_engine

ALLOW = AddressPolicy.from_setting("127.0.0.1/32")
RSS = {"Content-Type": "application/rss+xml"}


def seed_channel(
    store: Store, tmp_path: Path, platform: str = "test", articles: int = 2
) -> ChannelInfo:
    folder = tmp_path / f"feed-{platform}"
    folder.mkdir(exist_ok=True)
    for n in range(articles):
        (folder / f"{n}.txt").write_text(
            f"Story {n} headline\n\nThe mayor opened bridge number {n} on Monday "
            f"after four years of work. Traffic will improve by {n + 10} percent.\n"
        )
    channel = store.channel(platform, "C1")
    assert channel is not None
    source, _ = store.subscribe(channel.id, local_source(str(folder)))
    asyncio.run(poll_source(store, source, FetchOptions()))
    store.set_schedule(channel.id, "daily 08:00 UTC", "UTC")
    with store.engine.begin() as conn:
        from sqlalchemy import text

        conn.execute(
            text("UPDATE channels SET schedule_since = :s"), {"s": datetime(2024, 5, 1, tzinfo=UTC)}
        )
    fresh = store.channel_by_id(channel.id)
    assert fresh is not None
    return fresh


SLOT_TIME = datetime(2024, 5, 1, 8, 0, 30, tzinfo=UTC)


# 1 ------------------------------------------------------------------------------------------------
class CrashingSlackPoster(SlackPoster):
    """The real Slack poster, killed right after Slack accepted the first part."""

    crashed = False

    async def send(
        self, channel: str, part: dict[str, Any], part_key: str, thread_ref: str | None
    ) -> SentPart:
        sent = await super().send(channel, part, part_key, thread_ref)
        if not self.crashed:
            self.crashed = True
            raise Crash()
        return sent


def test_crash_after_slack_accepted_is_reconciled_by_metadata(store: Store, tmp_path: Path) -> None:
    channel = seed_channel(store, tmp_path, "slack")
    with LoopbackServer() as server:
        fake = FakeSlack(server)
        client = make_client("xoxb-test", fake.api_url)
        with pytest.raises(Crash):
            asyncio.run(
                delivery_engine(
                    store,
                    ExtractiveSummarizer(),
                    {"slack": CrashingSlackPoster(client)},
                    lookback=timedelta(days=3650),
                ).tick(SLOT_TIME)
            )
        asyncio.run(
            delivery_engine(
                store,
                ExtractiveSummarizer(),
                {"slack": SlackPoster(make_client("xoxb-test", fake.api_url))},
                lookback=timedelta(days=3650),
            ).tick(SLOT_TIME + timedelta(minutes=2))  # after the crashed sender's lease lapsed
        )
        keys = [c.args["metadata"]["event_payload"]["key"] for c in fake.posts()]
    assert len(keys) == len(set(keys)) == 3  # top + 2 articles, the first one not posted twice
    [delivery] = store.deliveries(channel.id)
    assert delivery.state == "sent"


# 8 ------------------------------------------------------------------------------------------------
class FlakyStore(Store):
    fail_finish = 1

    def finish_delivery(self, delivery_id: int) -> None:
        if self.fail_finish:
            self.fail_finish -= 1
            raise RuntimeError("database went away")
        super().finish_delivery(delivery_id)


def test_db_error_on_the_sent_update_is_repaired_without_reposting(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = FlakyStore(Store.open(database_url).engine)
    seed_channel(store, tmp_path)
    poster = RecordingPoster()
    engine = delivery_engine(
        store, ExtractiveSummarizer(), {"test": poster}, lookback=timedelta(days=3650)
    )
    with caplog.at_level(logging.ERROR):
        asyncio.run(engine.tick(SLOT_TIME))
    assert store.deliveries()[0].state == "sending" and len(poster.posts) == 3
    asyncio.run(engine.tick(SLOT_TIME + timedelta(seconds=30)))
    assert store.deliveries()[0].state == "sent" and len(poster.posts) == 3
    store.engine.dispose()


# 14 -----------------------------------------------------------------------------------------------
def test_cloudflare_ban_stops_posting_for_the_cool_off() -> None:
    import discord
    from fake_discord import FakeDiscord, discord_error

    from adapters.discord.poster import DiscordPoster

    original = discord.http.Route.BASE
    with LoopbackServer() as server:
        fake = FakeDiscord(server)
        fake.scripted.append(discord_error(429, 0, "banned", {"Retry-After": "300"}))

        async def main() -> None:
            discord.http.Route.BASE = fake.api_url
            client = discord.Client(intents=discord.Intents.none())
            await client.http.static_login("fake-token")
            poster = DiscordPoster(client)
            try:
                for n in range(10):
                    with pytest.raises(PostError) as raised:
                        await poster.send("555", {"content": "hi", "embeds": []}, f"nd1p{n}", None)
                    assert raised.value.retry_after and raised.value.retry_after > 200
            finally:
                await client.http.close()

        asyncio.run(main())
        posts = [r for r in fake.requests if r[1].endswith("/messages")]
    discord.http.Route.BASE = original
    assert len(posts) <= 5


# 19, 20, 21, 22 -----------------------------------------------------------------------------------
@pytest.mark.parametrize("host", [f"[{h}]" if ":" in h else h for h in REFUSED])
def test_private_urls_are_refused_before_connecting(host: str) -> None:
    async def resolver(name: str, port: int) -> list[IPAddress]:
        raise AssertionError("literal addresses need no DNS")

    with pytest.raises(FetchError, match="private or reserved"):
        asyncio.run(fetch(f"http://{host}/latest/meta-data", FetchOptions(), resolver=resolver))


def test_any_private_answer_in_dns_refuses_the_host() -> None:
    async def resolver(name: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("127.0.0.1")]

    with pytest.raises(FetchError, match=r"127\.0\.0\.1"):
        asyncio.run(fetch("http://mixed.example/", FetchOptions(), resolver=resolver))


def test_the_connection_goes_to_the_checked_address() -> None:
    answers = iter(["127.0.0.1", "10.9.9.9"])  # a rebinding resolver: checked, then changed
    calls = []

    async def resolver(name: str, port: int) -> list[IPAddress]:
        calls.append(name)
        return [ipaddress.ip_address(next(answers))]

    with LoopbackServer() as srv:
        srv.route("/", Response(200, b"hello", {"Content-Type": "text/plain"}))
        url = f"http://rebind.example:{srv.port}/"
        result = asyncio.run(fetch(url, FetchOptions(policy=ALLOW), resolver=resolver))
        assert result.body == b"hello" and calls == ["rebind.example"]
        assert srv.requests[0].headers["Host"] == f"rebind.example:{srv.port}"


@pytest.mark.parametrize(
    "target", ["file:///etc/passwd", "gopher://127.0.0.1:70/", "http://127.0.0.2/"]
)
def test_redirects_to_forbidden_places_are_refused_at_that_hop(target: str) -> None:
    with LoopbackServer() as srv:
        srv.route("/r", Response(301, b"", {"Location": target}))
        with pytest.raises(FetchError, match=r"Only http and https|private or reserved"):
            asyncio.run(fetch(f"{srv.url}/r", FetchOptions(policy=ALLOW)))


# 24 -----------------------------------------------------------------------------------------------
def test_parsers_never_get_a_url_or_file_name() -> None:
    """feedparser fetches or opens a str it is given; trafilatura.fetch_url fetches: neither may see one."""
    for path in (ROOT / "bot").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("fetch_url", "fetch_response"):
                pytest.fail(f"{path}: trafilatura.{node.attr} bypasses the fetch guard")
            is_feedparser_parse = (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "parse"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "feedparser"
            )
            if is_feedparser_parse:
                assert path.name == "feed.py", (
                    f"{path}: feedparser.parse outside the guarded module"
                )
    with pytest.raises(TypeError):
        from bot.ingest.feed import parse_feed

        parse_feed("/etc/passwd", "x")  # type: ignore[arg-type]


# 26 -----------------------------------------------------------------------------------------------
def gzip_bomb(size: int, layers: int = 1) -> bytes:
    """Compress `size` zero bytes without ever holding them: streamed through a small buffer."""
    data = b""
    for layer in range(layers):
        compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        if layer == 0:
            chunk = b"\0" * (1 << 20)
            parts = [compressor.compress(chunk) for _ in range(size // len(chunk))]
        else:
            parts = [compressor.compress(data)]
        parts.append(compressor.flush())
        data = b"".join(parts)
    return data


@pytest.mark.parametrize("layers, header", [(1, "gzip"), (2, "gzip, gzip")])
def test_decompression_bombs_are_too_large_with_bounded_memory(layers: int, header: str) -> None:
    bomb = gzip_bomb(300 * 1024 * 1024, layers)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with LoopbackServer() as srv:
        srv.route(
            "/bomb", Response(200, bomb, {"Content-Encoding": header, "Content-Type": "text/html"})
        )
        with pytest.raises(FetchError, match="too large"):
            asyncio.run(fetch(f"{srv.url}/bomb", FetchOptions(policy=ALLOW)))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 64


# 27 -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "data, match",
    [
        (b"%PDF-1.4\n...", "PDF"),
        (b"\x89PNG\r\n\x1a\n", "PNG"),
        (b"<html>\0\0\0<p>text</p>", "binary"),
    ],
)
def test_binary_inputs_are_typed_errors(data: bytes, match: str) -> None:
    with pytest.raises(InputError, match=match):
        parse_bytes(data, "x")


def test_invalid_utf8_is_read_not_crashed() -> None:
    data = "Caf\xe9 owners met on Monday. They agreed on new opening hours for the summer.".encode(
        "latin-1"
    )
    [doc] = parse_bytes(data + b" \xff\xfe broken bytes here.", "x")
    assert "owners met on Monday" in " ".join(b.text for b in doc.blocks)


# 28 -----------------------------------------------------------------------------------------------
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title>
<description>&lol9; The council met on Monday to agree the budget for the year.</description></item>
</channel></rss>"""


def xxe(canary_url: str) -> bytes:
    return f"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xfile SYSTEM "file:///etc/passwd"><!ENTITY xhttp SYSTEM "{canary_url}/entity">
<!ENTITY % pe SYSTEM "{canary_url}/param"> %pe;]>
<rss version="2.0"><channel><title>t</title><item><title>Item &xfile;</title>
<description>Body &xhttp; The council met on Monday to agree the budget for the year.</description>
</item></channel></rss>""".encode()


def quadratic_blowup() -> bytes:
    entity = "A" * 50_000
    refs = "&a;" * 20_000
    return (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "{entity}">]><rss version="2.0"><channel>'
        f"<item><title>t</title><description>{refs}</description></item></channel></rss>"
    ).encode()


def test_xml_bombs_and_external_entities_are_not_expanded() -> None:
    with LoopbackServer() as canary:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for data in (BILLION_LAUGHS, quadratic_blowup(), xxe(canary.url)):
            try:
                docs = parse_bytes(data, "feed")
            except InputError:
                continue
            text = " ".join(b.text for d in docs for b in d.blocks) + " ".join(
                d.title for d in docs
            )
            assert "root:" not in text and "lollollol" not in text and len(text) < 100_000
        assert canary.requests == []
        assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024 < 64


# 29 -----------------------------------------------------------------------------------------------
def test_huge_and_truncated_feeds() -> None:
    now = datetime(2024, 5, 1, tzinfo=UTC)
    items = "".join(
        f"<item><guid>g{n}</guid><title>T{n}</title><pubDate>{(now - timedelta(minutes=n)).strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
        f"<description>Item {n} says the council met and agreed a plan worth {n} dollars.</description></item>"
        for n in range(10_000)
    )
    data = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()
    docs = parse_bytes(data, "big")
    assert len(docs) == 50 and docs[0].title == "T0"
    truncated = data[: len(data) // 3]
    try:
        partial = parse_bytes(truncated, "cut")
        assert 0 < len(partial) <= 50
    except InputError as exc:
        assert "feed" in exc.message.lower()


# 30 -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "page",
    [
        "<html><body>" + "<div>" * 100_000 + "text" + "</div>" * 100_000 + "</body></html>",
        "<html><body><p>" + "x" * 10_000_000 + "</p></body></html>",
        "<html><body>"
        + "<span>" * 300
        + "Deep text that is a sentence. " * 20
        + "</span>" * 300
        + "</body></html>",
    ],
)
def test_pathological_html_is_a_clear_no_text_error(page: str) -> None:
    try:
        docs = parse_bytes(page.encode(), "page.html")
    except InputError as exc:
        assert "No article text" in exc.message or "limit" in exc.message
        return
    assert all(len(b.text) < 10_000_001 for d in docs for b in d.blocks)


# 36 -----------------------------------------------------------------------------------------------
def test_debug_logs_of_a_failed_slack_start_hold_no_token(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from fake_slack import slack_error

    from adapters.slack.app import start_slack
    from bot.ops.logs import setup_logging
    from bot.ops.settings import Settings
    from bot.wiring import build_core

    with LoopbackServer() as server:
        fake = FakeSlack(server)
        fake.script("auth.test", slack_error("invalid_auth"))
        settings = Settings(
            slack_bot_token="xoxb-123456-secret-token",
            slack_signing_secret="sig-secret-123456",
            slack_api_url=fake.api_url,
            data_dir=tmp_path,
            log_level="DEBUG",
        )
        setup_logging(settings)
        try:
            bot = build_core(settings)
            asyncio.run(start_slack(bot, 0))
            bot.store.engine.dispose()
        finally:
            logging.getLogger().handlers.clear()
    out, err = capfd.readouterr()
    assert "invalid_auth" in err
    assert "xoxb-" not in out + err and "sig-secret" not in out + err


# 38 -----------------------------------------------------------------------------------------------
TEXTS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=3000
)


def digest_of(title: str, bullets: list[str], sections: list[tuple[str, list[str]]]) -> Digest:
    article = Article(
        title,
        (Section("s", 1, "S", True, (Paragraph((Sentence(0, "x"),)),)),),
        "src",
        url="https://example.com/a",
    )
    return Digest(
        article,
        tuple(Bullet(b, (0,)) for b in bullets),
        tuple(
            SectionDigest(f"s{i}", i + 1, h or "h", True, tuple(Bullet(b, (0,)) for b in bs))
            for i, (h, bs) in enumerate(sections)
        ),
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    st.lists(
        st.builds(
            digest_of,
            TEXTS,
            st.lists(TEXTS, max_size=5),
            st.lists(st.tuples(TEXTS, st.lists(TEXTS, max_size=4)), max_size=8),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_renderers_keep_any_text_within_platform_limits(digests: list[Digest]) -> None:
    channel = ChannelInfo(1, "x", "C", None, "UTC", False, None, datetime.now(UTC))
    digest = ChannelDigest(channel, "2024-05-01T08:00", "Digest", tuple(digests))
    for message in slack_messages(digest):
        assert_slack_payload(message)
    discord = discord_messages(digest)
    for message in discord:
        assert_discord_payload(message)
    # nothing lost: every section the posted view names is present (bot/digest/channel_view.py)
    slack_text = str(slack_messages(digest))
    fields = sum(len(e.get("fields", [])) for m in discord for e in m["embeds"])
    views = [channel_view(d) for d in digests]
    assert fields >= sum(len(v.sections) + bool(v.listed) for v in views)
    assert slack_text.count("Also in this article") == sum(bool(v.listed) for v in views)
    assert slack_text.count("newsdigest_open") == len(digests)


# 39 -----------------------------------------------------------------------------------------------
class DeliveryMachine(RuleBasedStateMachine):
    """Ticks, failures, crashes, restarts, new articles and a second process, in any order."""

    @initialize()
    def setup(self) -> None:
        import tempfile

        self.tmp = Path(tempfile.mkdtemp())
        self.store = Store.open(f"sqlite:///{self.tmp / 'sm.sqlite3'}")
        self.poster = RecordingPoster()
        self.now = datetime(2024, 5, 1, 7, 50, tzinfo=UTC)
        self.articles = 0
        self.folder = self.tmp / "feed"
        self.folder.mkdir()
        channel = self.store.channel("test", "C1")
        assert channel is not None
        self.source, _ = self.store.subscribe(channel.id, local_source(str(self.folder)))
        self.store.set_schedule(channel.id, "daily 08:00 UTC", "UTC")
        with self.store.engine.begin() as conn:
            from sqlalchemy import text

            conn.execute(text("UPDATE channels SET schedule_since = :s"), {"s": self.now})
        self.processes = [self._process()]
        self.feed_update()

    def _process(self) -> Deliverer:
        return delivery_engine(
            self.store,
            ExtractiveSummarizer(),
            {"test": self.poster},
            lookback=timedelta(days=3650),
            grace=timedelta(hours=2),
        )

    @rule()
    def feed_update(self) -> None:
        self.articles += 1
        (self.folder / f"{self.articles}.txt").write_text(
            f"Update {self.articles}\n\nThe board met for session {self.articles} and agreed the plan "
            f"after a debate. Work starts in week {self.articles}.\n"
        )
        source = self.store.source_by_id(self.source.id)
        assert source is not None
        asyncio.run(poll_source(self.store, source, FetchOptions(), self.now))

    @rule(hours=st.integers(min_value=0, max_value=30), which=st.integers(0, 1))
    def tick(self, hours: int, which: int) -> None:
        self.now += timedelta(hours=hours, minutes=7)
        process = self.processes[which % len(self.processes)]
        try:
            asyncio.run(process.tick(self.now))
        except Crash:
            self.processes = [
                self._process() for _ in self.processes
            ]  # the crashed process restarts

    @rule(kind=st.sampled_from(["fail", "rate", "crash_after", "crash_before"]))
    def fault(self, kind: str) -> None:
        if kind == "fail":
            self.poster.fail_next.append(PostError("boom"))
        elif kind == "rate":
            self.poster.fail_next.append(PostError("slow down", retry_after=600))
        elif kind == "crash_after":
            self.poster.crash_after_post.add(self.poster.attempts + 1)
        else:
            self.poster.crash_before_post.add(self.poster.attempts + 1)

    @rule()
    def second_process(self) -> None:
        if len(self.processes) == 1:
            self.processes.append(self._process())

    @invariant()
    def at_most_one_post_per_part(self) -> None:
        if not hasattr(self, "store"):
            return
        keys = [p.key for p in self.poster.posts]
        assert len(keys) == len(set(keys))

    def teardown(self) -> None:
        if hasattr(self, "store"):
            # settle: no more faults, time moves on; every slot must end sent or skipped
            self.poster.fail_next.clear()
            self.poster.crash_after_post.clear()
            self.poster.crash_before_post.clear()
            for _ in range(12):
                self.now += timedelta(minutes=15)
                asyncio.run(self.processes[0].tick(self.now))
            states = {d.state for d in self.store.deliveries() if not d.slot.startswith("now-")}
            assert states <= {"sent", "skipped"}, states
            self.store.engine.dispose()


TestDeliveryMachine = DeliveryMachine.TestCase
TestDeliveryMachine.settings = settings(
    max_examples=25,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def iter_lines(path: Path) -> Iterator[str]:
    yield from path.read_text().splitlines()


__all__ = ["gzip", "iter_lines"]
