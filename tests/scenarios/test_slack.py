"""Slack end to end: the real bolt App verifying real signed HTTP requests, the real slack_sdk
client posting to a loopback Slack, and every payload checked against Block Kit limits."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from support.fake_slack import FakeSlack, slack_error
from support.loopback import LoopbackServer, Response, free_port
from support.paths import EXAMPLE
from support.slack_limits import assert_slack_payload

from adapters.slack.app import SlackAdapter
from adapters.slack.poster import SlackPoster, make_client
from adapters.slack.render import digest_messages, escape, reply_payloads
from bot.chat.replies import Reply, ReplyKind
from bot.delivery.poster import ChannelDigest, Outlet, PostError
from bot.digest.sections import build_article
from bot.ingest.plaintext import parse_plaintext
from bot.models import Digest
from bot.ops.settings import Settings
from bot.store.repo import ChannelInfo
from bot.summarize.extractive import ExtractiveSummarizer
from bot.wiring import Core, build_core

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture()
def fake() -> Iterator[FakeSlack]:
    with LoopbackServer() as server:
        server.route(
            "/article", Response(200, EXAMPLE.read_bytes(), {"Content-Type": "text/plain"})
        )
        yield FakeSlack(server)


def settings_for(fake: FakeSlack, tmp_path: Path, **extra: Any) -> Settings:
    return Settings(
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SECRET,
        slack_api_url=fake.api_url,
        data_dir=tmp_path,
        fetch_allow="127.0.0.1/32",
        **extra,
    )


def sign(body: str, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def command_body(
    fake: FakeSlack, text: str, user: str = "U1", trigger: str = "T1", n: int = 1
) -> str:
    return urlencode(
        {
            "command": "/digest",
            "text": text,
            "user_id": user,
            "channel_id": "C1",
            "team_id": "TEAM",
            "trigger_id": trigger,
            "response_url": fake.response_url(n),
        }
    )


def with_slack(
    fake: FakeSlack, tmp_path: Path, test: Callable[[Core, str], Awaitable[None]], **extra: Any
) -> None:
    async def main() -> None:
        bot = build_core(settings_for(fake, tmp_path, **extra))
        adapter = SlackAdapter(bot)
        port = free_port()
        runner = await adapter.serve_http(port, host="127.0.0.1")
        try:
            await test(bot, f"http://127.0.0.1:{port}/slack/events")
        finally:
            await runner.cleanup()
            bot.store.engine.dispose()

    asyncio.run(main())


async def wait_for(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.05)


def test_signed_sections_command_is_answered_with_the_section_list(
    fake: FakeSlack, tmp_path: Path
) -> None:
    async def test(bot: Core, endpoint: str) -> None:
        body = command_body(fake, f"sections {fake.server.url}/article")
        async with httpx.AsyncClient() as http:
            started = time.monotonic()
            response = await http.post(endpoint, content=body, headers=sign(body))
            assert response.status_code == 200 and time.monotonic() - started < 3
        await wait_for(lambda: len(fake.responses) == 1)
        [payload] = fake.responses
        assert payload["response_type"] == "ephemeral"
        assert_slack_payload(payload)
        text = json.dumps(payload["blocks"])
        assert "took-long" in text and "What took so long?" in text
        # the article is now this channel's: a follow-up needs no URL
        body = command_body(fake, "section took long", n=2)
        async with httpx.AsyncClient() as http:
            await http.post(endpoint, content=body, headers=sign(body))
        await wait_for(lambda: len(fake.responses) == 2)
        assert "Proposals to redevelop the rail yard" in json.dumps(fake.responses[1])

    with_slack(fake, tmp_path, test)


def tampered(signature: str) -> str:
    """The signature with its last hex digit changed (always to a different one)."""
    return signature[:-1] + ("1" if signature.endswith("0") else "0")


@pytest.mark.parametrize(
    "headers",
    [
        lambda body: sign(body, secret="wrong-secret"),
        lambda body: {"Content-Type": "application/x-www-form-urlencoded"},
        lambda body: sign(body, timestamp=int(time.time()) - 301),
        lambda body: sign(body, timestamp=int(time.time()) + 301),
        lambda body: {**sign(body), "X-Slack-Signature": tampered(sign(body)["X-Slack-Signature"])},
    ],
)
def test_bad_signatures_get_401_and_run_nothing(
    fake: FakeSlack, tmp_path: Path, headers: Callable[[str], dict[str, str]]
) -> None:
    async def test(bot: Core, endpoint: str) -> None:
        body = command_body(fake, "schedule daily 08:00", user="UADMIN")
        async with httpx.AsyncClient() as http:
            response = await http.post(endpoint, content=body, headers=headers(body))
        assert response.status_code == 401
        await asyncio.sleep(0.3)
        assert fake.responses == [] and bot.store.channels() == []

    with_slack(fake, tmp_path, test)


def test_altered_body_is_rejected(fake: FakeSlack, tmp_path: Path) -> None:
    async def test(bot: Core, endpoint: str) -> None:
        body = command_body(fake, "help")
        headers = sign(body)
        async with httpx.AsyncClient() as http:
            response = await http.post(
                endpoint, content=body.replace("help", "helq"), headers=headers
            )
        assert response.status_code == 401

    with_slack(fake, tmp_path, test)


def test_admin_commands_need_an_admin_and_replays_are_deduplicated(
    fake: FakeSlack, tmp_path: Path
) -> None:
    fake.admins.add("UADMIN")

    async def test(bot: Core, endpoint: str) -> None:
        async with httpx.AsyncClient() as http:
            body = command_body(fake, "schedule weekdays 07:00 Europe/Berlin", user="UGUEST", n=1)
            await http.post(endpoint, content=body, headers=sign(body))
            await wait_for(lambda: len(fake.responses) == 1)
            assert "Only workspace or server admins" in json.dumps(fake.responses[0])
            assert all(c.schedule is None for c in bot.store.channels())
            body = command_body(
                fake, "schedule weekdays 07:00 Europe/Berlin", user="UADMIN", trigger="T9", n=2
            )
            await http.post(endpoint, content=body, headers=sign(body))
            await wait_for(lambda: len(fake.responses) == 2)
            [channel] = bot.store.channels()
            assert channel.schedule == "weekdays 07:00 Europe/Berlin"
            await http.post(
                endpoint,
                content=body.replace("response%2F2", "response%2F3"),
                headers=sign(body.replace("response%2F2", "response%2F3")),
            )
            await wait_for(lambda: len(fake.responses) == 3)
            assert "already handled" in json.dumps(fake.responses[2])

    with_slack(fake, tmp_path, test)


def test_an_admin_imports_opml_and_sets_a_mention_by_slash_command(
    fake: FakeSlack, tmp_path: Path
) -> None:
    fake.admins.add("UADMIN")
    feeds = (
        b'<?xml version="1.0"?><opml version="2.0"><body>'
        b'<outline type="rss" text="Ledger" xmlUrl="https://ledger.example/feed.xml"/>'
        b'<outline type="rss" text="Old" xmlUrl="ftp://old.example/feed"/></body></opml>'
    )
    fake.server.route("/feeds.opml", Response(200, feeds, {"Content-Type": "text/x-opml"}))

    async def test(bot: Core, endpoint: str) -> None:
        async with httpx.AsyncClient() as http:
            body = command_body(
                fake, f"import {fake.server.url}/feeds.opml", user="UADMIN", trigger="T1", n=1
            )
            await http.post(endpoint, content=body, headers=sign(body))
            await wait_for(lambda: len(fake.responses) == 1)
            said = json.dumps(fake.responses[0])
            assert "Imported 1 feed into this channel" in said and "ftp://old.example/feed" in said
            # Slack sends a user group picked from its list as <!subteam^ID|@name>
            body = command_body(
                fake,
                "mention add <!subteam^S0SPORTS1|@sports> cup",
                user="UADMIN",
                trigger="T2",
                n=2,
            )
            await http.post(endpoint, content=body, headers=sign(body))
            await wait_for(lambda: len(fake.responses) == 2)
            confirmation = fake.responses[1]
            assert_slack_payload(confirmation)
            said = json.dumps(confirmation)
            assert "Will mention &lt;!subteam^S0SPORTS1&gt;" in said  # shown, not pinging
            assert "<!subteam^" not in said
        [channel] = bot.store.channels()
        assert [m.target for m in bot.store.mentions(channel.id)] == ["S0SPORTS1"]
        assert [s.url for s in bot.store.channel_sources(channel.id)] == [
            "https://ledger.example/feed.xml"
        ]

    with_slack(fake, tmp_path, test)


def test_foreign_response_url_is_never_posted_to(fake: FakeSlack, tmp_path: Path) -> None:
    with LoopbackServer() as other:
        other.route("/hook", Response(200, b"ok"))

        async def test(bot: Core, endpoint: str) -> None:
            body = urlencode(
                {
                    "command": "/digest",
                    "text": "help",
                    "user_id": "U1",
                    "channel_id": "C1",
                    "trigger_id": "T1",
                    "response_url": f"http://localhost:{other.port}/hook",
                }
            )
            async with httpx.AsyncClient() as http:
                response = await http.post(endpoint, content=body, headers=sign(body))
            assert response.status_code == 200
            await asyncio.sleep(0.5)
            assert other.requests == []

        with_slack(fake, tmp_path, test)


# posting ------------------------------------------------------------------------------------------
def example_digest() -> Digest:
    article = build_article(parse_plaintext(EXAMPLE.read_text(), "example"))
    return ExtractiveSummarizer().summarize(article)


def channel_digest(digests: list[Digest]) -> ChannelDigest:
    channel = ChannelInfo(1, "slack", "C1", None, "UTC", False, None, datetime.now(UTC))
    return ChannelDigest(channel, "2024-05-01T08:00", "News digest — 2024-05-01", tuple(digests))


def long_digest() -> Digest:
    paragraphs = "\n\n".join(
        f"SECTION {n} TITLE\n\n"
        + " ".join(
            f"Sentence {n}.{i} says something quite long about the "
            f"matter at hand & <tags> @everyone."
            for i in range(40)
        )
        for n in range(60)
    )
    article = build_article(parse_plaintext("A very long article\n\n" + paragraphs, "long"))
    return ExtractiveSummarizer().summarize(article, 5, 5)


def test_payloads_stay_within_limits_for_long_and_many_articles() -> None:
    for digests in ([long_digest()], [example_digest()] * 40):
        messages = digest_messages(channel_digest(digests))
        assert len(messages) >= 2
        for message in messages:
            assert_slack_payload(message)
    many = digest_messages(channel_digest([example_digest()] * 40))
    assert sum("Riverton" in m["text"] for m in many) >= 40


def test_each_entry_names_its_outlet_and_the_others_that_told_the_story() -> None:
    example = example_digest()
    ledger = replace(example, article=replace(example.article, outlet="Coast <Ledger>"))
    others = (Outlet("Harbour Post", "https://post.example/vote"), Outlet("Bay Times", None))
    messages = digest_messages(replace(channel_digest([ledger, example]), also=(others, ())))
    for message in messages:
        assert_slack_payload(message)
    top = json.dumps(messages[0]["blocks"])
    assert "_Coast &lt;Ledger&gt;_" in top and "_example_" in top  # in the headlines
    first_thread = json.dumps(messages[1]["blocks"], ensure_ascii=False)
    assert "Coast &lt;Ledger&gt; · " in first_thread  # the line under the title
    assert "Also: <https://post.example/vote|Harbour Post>, Bay Times" in first_thread


def test_article_text_is_escaped() -> None:
    assert escape("a & <b> <!channel> <@U123> <https://evil|Docs>") == (
        "a &amp; &lt;b&gt; &lt;!channel&gt; &lt;@U123&gt; &lt;https://evil|Docs&gt;"
    )
    reply = Reply(ReplyKind.ERROR, "No section '<!here>'.")
    text = json.dumps(reply_payloads(reply))
    assert "<!here>" not in text and "&lt;!here&gt;" in text


def test_a_digest_mentions_only_the_configured_user_group() -> None:
    hostile = replace(
        example_digest(),
        article=replace(example_digest().article, title="<!channel> <!here> <!subteam^SEVIL01>"),
    )
    messages = digest_messages(replace(channel_digest([hostile]), mentions=("S0SPORTS1",)))
    for message in messages:
        assert_slack_payload(message)

    def parsed(messages: list[dict[str, Any]]) -> str:
        """What Slack reads for mentions: mrkdwn and the fallback text (plain_text is shown
        as written and never pings)."""
        texts = [m["text"] for m in messages]
        for block in (b for m in messages for b in m["blocks"]):
            for part in [block.get("text") or {}, *block.get("elements", [])]:
                if isinstance(part, dict) and part.get("type") == "mrkdwn":
                    texts.append(part["text"])
        return "\n".join(texts)

    pinging = parsed(messages)
    assert pinging.count("<!subteam^") == 1 and "<!subteam^S0SPORTS1>" in pinging
    assert "<!channel>" not in pinging and "<!here>" not in pinging
    assert "<!subteam^" not in parsed(digest_messages(channel_digest([hostile])))  # none set


def test_scheduled_digest_is_a_top_message_with_thread_replies(
    fake: FakeSlack, tmp_path: Path
) -> None:
    async def main() -> None:
        bot = build_core(settings_for(fake, tmp_path))
        SlackAdapter(bot)
        folder = tmp_path / "feed"
        folder.mkdir()
        (folder / "a.txt").write_text(EXAMPLE.read_text())
        channel = bot.store.channel("slack", "C1")
        assert channel is not None
        bot.store.subscribe(channel.id, f"path:{folder}")
        await bot.poller.poll_due()
        now = datetime.now(UTC)
        slot_time = now.replace(hour=8, minute=0, second=0, microsecond=0)
        if slot_time > now:
            slot_time -= timedelta(days=1)
        bot.store.set_schedule(channel.id, "daily 08:00 UTC", "UTC", slot_time - timedelta(hours=1))
        await bot.deliverer.tick(slot_time + timedelta(seconds=20))
        posts = fake.posts()
        assert len(posts) >= 2
        top_ts = fake.messages["C1"][0]["ts"]
        assert posts[0].args.get("thread_ts") is None
        assert all(p.args.get("thread_ts") == top_ts for p in posts[1:])
        for post in posts:
            assert_slack_payload(post.args)
            assert post.args["metadata"]["event_type"] == "newsdigest_part"
            assert post.args["unfurl_links"] is False
        bot.store.engine.dispose()

    asyncio.run(main())


def test_rate_limit_is_reported_with_its_delay_and_holds_the_channel(fake: FakeSlack) -> None:
    """The poster does not sleep inside the request: the engine waits out Retry-After (see
    test_rush), and the pacer keeps every other post to that channel back meanwhile."""
    fake.script("chat.postMessage", slack_error("ratelimited", 429, {"Retry-After": "1"}))
    poster = SlackPoster(make_client("xoxb-test", fake.api_url))

    async def main() -> float:
        with pytest.raises(PostError) as raised:
            await poster.send("C1", {"text": "hi", "blocks": []}, "nd1p0", None)
        assert raised.value.retry_after == 1 and not raised.value.permanent
        started = time.monotonic()
        sent = await poster.send("C1", {"text": "hi", "blocks": []}, "nd1p0", None)
        assert sent.message_ref
        return time.monotonic() - started

    assert asyncio.run(main()) >= 0.9
    assert len(fake.posts()) == 2


def test_long_retry_after_is_not_slept(fake: FakeSlack) -> None:
    fake.script("chat.postMessage", slack_error("ratelimited", 429, {"Retry-After": "3600"}))
    poster = SlackPoster(make_client("xoxb-test", fake.api_url))
    started = time.monotonic()
    with pytest.raises(PostError) as raised:
        asyncio.run(poster.send("C1", {"text": "hi", "blocks": []}, "nd1p0", None))
    assert raised.value.retry_after == 3600 and time.monotonic() - started < 5


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found"])
def test_access_errors_are_permanent(fake: FakeSlack, error: str) -> None:
    fake.script("chat.postMessage", slack_error(error))
    poster = SlackPoster(make_client("xoxb-test", fake.api_url))
    with pytest.raises(PostError) as raised:
        asyncio.run(poster.send("C1", {"text": "hi", "blocks": []}, "nd1p0", None))
    assert raised.value.permanent and error in str(raised.value)


def test_a_post_is_the_request_the_sdk_would_send(fake: FakeSlack) -> None:
    """The poster's lean chat.postMessage (`PooledWebClient.post_json`) against the SDK's own
    `chat_postMessage` with the same message: the same JSON, token and client headers."""
    client = make_client("xoxb-test", fake.api_url)
    poster = SlackPoster(client)
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Caf\u00e9 <b> & \u201cq\u201d"}}
    ]

    async def main() -> None:
        top = await poster.send("C1", {"text": "t\u00e9", "blocks": blocks}, "nd3p0", None)
        await poster.send("C1", {"text": "r", "blocks": blocks}, "nd3p1", top.message_ref)
        metadata = {"event_type": "newsdigest_part", "event_payload": {"key": "nd3p0"}}
        common: dict[str, Any] = {"unfurl_links": False, "unfurl_media": False}
        await client.chat_postMessage(
            channel="C1", text="t\u00e9", blocks=blocks, metadata=metadata, **common
        )
        await client.close_pool()

    asyncio.run(main())
    lean, reply, sdk = [r for r in fake.server.requests if r.path.endswith("chat.postMessage")]
    assert json.loads(lean.body) == json.loads(sdk.body)
    assert "thread_ts" not in json.loads(lean.body)
    assert json.loads(reply.body)["thread_ts"] == fake.messages["C1"][0]["ts"]
    for header in ("Authorization", "Content-Type", "User-Agent"):
        assert lean.headers[header] == sdk.headers[header]


def test_a_non_json_error_page_is_a_clear_post_error(fake: FakeSlack) -> None:
    """A proxy's HTML 502 in front of Slack: refused as Slack's own errors are (the engine
    retries later), never a decoding error."""
    page = Response(502, b"<html>Bad Gateway</html>", {"Content-Type": "text/html"})
    fake.script("chat.postMessage", page)
    poster = SlackPoster(make_client("xoxb-test", fake.api_url))
    with pytest.raises(PostError) as raised:
        asyncio.run(poster.send("C1", {"text": "hi", "blocks": []}, "nd1p0", None))
    assert "502" in str(raised.value) and not raised.value.permanent


def test_a_connection_dropped_before_any_answer_is_retried_as_the_sdk_retries() -> None:
    """The first connection is closed with no answer (a server restarting): the client's
    connection-error retry handler sends the post again, once, on a new connection; a
    server that never answers gets the handler's count of tries (3), as the SDK gives."""
    seen: list[bytes] = []

    async def main() -> str:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            seen.append(await reader.readexactly(length))
            if len(seen) > 1:
                body = b'{"ok":true,"ts":"1.000100","channel":"C1"}'
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = make_client("xoxb-test", f"http://127.0.0.1:{port}/api/")
        try:
            sent = await SlackPoster(client).send("C1", {"text": "hi", "blocks": []}, "k", None)
        finally:
            await client.close_pool()
            server.close()
        return sent.message_ref

    assert asyncio.run(main()) == "1.000100"
    assert len(seen) == 2 and json.loads(seen[0]) == json.loads(seen[1])
    seen.clear()

    async def never() -> None:
        async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            seen.append(b"")
            writer.close()

        server = await asyncio.start_server(drop, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = make_client("xoxb-test", f"http://127.0.0.1:{port}/api/")
        try:
            with pytest.raises(PostError) as raised:
                await SlackPoster(client).send("C1", {"text": "hi", "blocks": []}, "k", None)
            assert raised.value.maybe_sent
        finally:
            await client.close_pool()
            server.close()

    asyncio.run(never())
    assert len(seen) == 3


def test_find_reconciles_by_metadata(fake: FakeSlack) -> None:
    poster = SlackPoster(make_client("xoxb-test", fake.api_url))

    async def main() -> None:
        top = await poster.send("C1", {"text": "top", "blocks": []}, "nd7p0", None)
        await poster.send("C1", {"text": "reply", "blocks": []}, "nd7p1", top.message_ref)
        assert (await poster.find("C1", "nd7p0", None)) == top
        found = await poster.find("C1", "nd7p1", top.message_ref)
        assert found is not None and found.thread_ref == top.message_ref
        assert await poster.find("C1", "nd7p2", top.message_ref) is None

    asyncio.run(main())


def test_any_one_byte_change_to_a_signed_request_is_rejected(
    fake: FakeSlack, tmp_path: Path
) -> None:
    """Property: the real bolt App, over real HTTP, refuses every single-byte alteration of a signed body."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    body = command_body(fake, "help")
    headers = sign(body)

    async def test(bot: Core, endpoint: str) -> None:
        async with httpx.AsyncClient() as http:

            async def status(payload: str) -> int:
                return (await http.post(endpoint, content=payload, headers=headers)).status_code

            assert await status(body) == 200
            examples: list[str] = []

            @settings(
                max_examples=40,
                deadline=None,
                database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture],
            )
            @given(
                st.integers(min_value=0, max_value=len(body) - 1),
                st.characters(min_codepoint=33, max_codepoint=126),
            )
            def altered(index: int, char: str) -> None:
                if body[index] != char:
                    examples.append(body[:index] + char + body[index + 1 :])

            altered()
            examples.append(
                "{" + body[1:]
            )  # found by this property: a body bolt cannot parse at all
            for payload in examples:
                assert await status(payload) == 401, payload

    with_slack(fake, tmp_path, test)


def test_a_mention_in_a_digest_thread_asks_about_its_articles(
    fake: FakeSlack, tmp_path: Path
) -> None:
    """Event API: a signed `app_mention` in the thread of a posted digest gets an answer there."""

    async def test(bot: Core, endpoint: str) -> None:
        channel = bot.store.channel("slack", "C1")
        assert channel is not None
        # a digest of the example article was posted in this channel; its thread is 1700.1
        from bot.digest.sections import build_article
        from bot.ingest.plaintext import parse_plaintext

        article = build_article(parse_plaintext(EXAMPLE.read_text(), "example"))
        source = bot.store.source("https://example.org/feed.xml")
        article_id, _ = bot.store.add_article(source.id, article, ["hash:x"], "x", None)
        delivery = bot.store.claim_delivery(channel.id, "2024-05-01T08:00")
        assert delivery is not None
        bot.store.plan_delivery(delivery.id, [article_id], 2)
        bot.store.part_sent(delivery.id, 0, "1700.1", "1700.1")
        event = {
            "type": "event_callback",
            "team_id": "TEAM",
            "api_app_id": "A1",
            "event_id": "Ev1",
            "event_time": int(time.time()),
            "event": {
                "type": "app_mention",
                "user": "U1",
                "text": "<@UBOT> how many households will the farm help?",
                "channel": "C1",
                "ts": "1700.5",
                "thread_ts": "1700.1",
                "event_ts": "1700.5",
            },
        }
        body = json.dumps(event)
        headers = {**sign(body), "Content-Type": "application/json"}
        async with httpx.AsyncClient() as http:
            response = await http.post(endpoint, content=body, headers=headers)
            assert response.status_code == 200
        await wait_for(lambda: len(fake.posts()) == 1)
        [call] = fake.posts()
        assert call.args["thread_ts"] == "1700.1" and call.args["channel"] == "C1"
        assert "11,000 households" in call.args["text"]

    with_slack(fake, tmp_path, test)


def test_an_admin_sets_checks_previews_and_resets_message_templates(
    fake: FakeSlack, tmp_path: Path
) -> None:
    """`/digest template` by signed slash command: refused for guests and for bad templates
    (nothing saved), then used for the next digest, escaped and within Block Kit's limits."""
    fake.admins.add("UADMIN")
    folder = tmp_path / "feed"
    folder.mkdir()
    (folder / "a.txt").write_text(EXAMPLE.read_text())

    async def test(bot: Core, endpoint: str) -> None:
        channel = bot.store.channel("slack", "C1")
        assert channel is not None
        bot.store.subscribe(channel.id, f"path:{folder}")
        assert "Posted a digest" in await bot.admin.digest_now(channel_ref(channel))
        n = 0

        async def say(text: str, user: str = "UADMIN") -> str:
            nonlocal n
            n += 1
            body = command_body(fake, text, user=user, trigger=f"T{n}", n=n)
            async with httpx.AsyncClient() as http:
                await http.post(endpoint, content=body, headers=sign(body))
            await wait_for(lambda: len(fake.responses) == n)
            for payload in fake.responses[-1:]:
                assert_slack_payload(payload)
            return json.dumps(fake.responses[-1], ensure_ascii=False)

        def stored() -> tuple[str | None, str | None]:
            settings = bot.store.channel_settings(channel.id)
            return settings.header_template, settings.entry_template

        # Slack sends what people type with &, < and > escaped
        entry = "*{{ number }}.* {{ link(url, title) }} ({{ outlet }}) <!channel>"
        slack_typed = escape(entry)
        assert "Only workspace or server admins" in await say(
            f"template set entry {slack_typed}", user="UGUEST"
        )
        assert stored() == (None, None)
        for bad, why in [
            ("{{ ''.__class__.__mro__ }}", "not allowed"),
            ("{{ cycler.__init__.__globals__ }}", "Unknown field 'cycler'"),
            ("{% for i in range(40) %}{{ 'x' * 99 }}{% endfor %}", "Slack allows 3000"),
            ("{{ title", "syntax error"),
        ]:
            assert why in await say(f"template set entry {escape(bad)}")
            assert stored() == (None, None)
        assert "Saved the entry template" in await say(f"template set entry {slack_typed}")
        assert "Saved the header template" in await say(
            "template set header Morning news: {{ count_text }}"
        )
        assert stored() == ("Morning news: {{ count_text }}", entry)
        assert escape(entry) in await say("template show")
        preview = await say("template preview")
        assert "Morning news: 1 new article" in preview and "*1.* Riverton" in preview
        assert "<!channel>" not in preview and "&lt;!channel&gt;" in preview
        # the next digest uses them
        (folder / "b.txt").write_text(EXAMPLE.read_text().replace("Riverton", "Lakeside"))
        posted = len(fake.posts())
        assert await bot.poller.poll_due(datetime.now(UTC) + timedelta(hours=2)) == 1
        assert "Posted a digest" in await bot.admin.digest_now(channel_ref(channel))
        top = fake.posts()[posted].args
        assert_slack_payload(top)
        assert top["blocks"][0]["text"]["text"] == "Morning news: 1 new article"
        assert "*1.* Lakeside" in json.dumps(top["blocks"])
        assert "<!channel>" not in json.dumps(top)
        assert "template is the default again" in await say("template reset entry")
        assert "templates are the defaults again" in await say("template reset")
        assert stored() == (None, None)

    with_slack(fake, tmp_path, test)


def channel_ref(channel: ChannelInfo) -> Any:
    from bot.channels.admin import ChannelRef

    return ChannelRef(channel.platform, channel.external_id)


def test_the_sdk_formats_no_debug_lines_unless_debug_logging_is_on() -> None:
    """slack_sdk formats every request for its debug log when its logger's own level lets
    it (NOTSET does): a Block Kit payload turned into a string per post that nobody reads."""
    root = logging.getLogger()
    before = root.level
    try:
        root.setLevel(logging.INFO)
        assert make_client("xoxb-test").logger.level == logging.INFO
        root.setLevel(logging.DEBUG)  # an operator asking for everything gets the SDK's lines
        assert make_client("xoxb-test").logger.level == logging.DEBUG
    finally:
        root.setLevel(before)
