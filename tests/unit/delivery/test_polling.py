"""Polling sources over real HTTP into a real database: dedup, backoff, pauses, Retry-After."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from support.loopback import LoopbackServer, Response

from bot.delivery.polling import poll_source
from bot.ingest.fetch import FetchOptions
from bot.ingest.netguard import AddressPolicy
from bot.store.repo import Store

ALLOW = FetchOptions(policy=AddressPolicy.from_setting("127.0.0.1/32"))
RSS = {"Content-Type": "application/rss+xml"}


def item(guid: str, link: str, title: str, body: str, when: datetime) -> str:
    return (
        f"<item><guid>{guid}</guid><link>{link}</link><title>{title}</title>"
        f"<pubDate>{format_datetime(when)}</pubDate><description>{body}</description></item>"
    )


def feed(*items: str) -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def story(n: int) -> str:
    return (
        f"The council approved plan number {n} on Monday after a long public debate in the hall. "
        f"Residents said plan {n} would change the old harbour district for the better."
    )


NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)


def subscribe(store: Store, url: str) -> int:
    channel = store.channel("test", "C1")
    assert channel is not None
    source, _ = store.subscribe(channel.id, url)
    return source.id


def poll(store: Store, source_id: int, now: datetime = NOW) -> object:
    source = store.source_by_id(source_id)
    assert source is not None
    return asyncio.run(poll_source(store, source, ALLOW, now))


def test_one_story_in_two_feeds_with_tracking_junk_is_one_article(store: Store) -> None:
    with LoopbackServer() as srv:
        srv.route(
            "/a.xml",
            Response(
                200,
                feed(
                    item(
                        "a1",
                        "https://news.example/s/1?utm_source=x&fbclid=y#top",
                        "Story",
                        story(1),
                        NOW,
                    )
                ),
                RSS,
            ),
        )
        srv.route(
            "/b.xml",
            Response(
                200, feed(item("b9", "https://NEWS.example/s/1/", "Story", story(1), NOW)), RSS
            ),
        )
        poll(store, subscribe(store, f"{srv.url}/a.xml"))
        poll(store, subscribe(store, f"{srv.url}/b.xml"))
    assert store.count_articles() == 1
    channel = store.channel("test", "C1")
    assert channel is not None
    assert len(store.new_articles_for(channel.id, NOW - timedelta(days=1), 10)) == 1


def test_republished_guid_with_new_date_and_text_is_not_new(store: Store) -> None:
    with LoopbackServer() as srv:
        srv.route(
            "/f.xml",
            Response(200, feed(item("g1", "https://x.example/1", "T", story(1), NOW)), RSS),
        )
        sid = subscribe(store, f"{srv.url}/f.xml")
        poll(store, sid)
        srv.route(
            "/f.xml",
            Response(
                200,
                feed(
                    item(
                        "g1",
                        "https://x.example/1",
                        "T edited",
                        story(1) + " Updated.",
                        NOW + timedelta(hours=3),
                    )
                ),
                RSS,
            ),
        )
        poll(store, sid, NOW + timedelta(hours=1))
    assert store.count_articles() == 1


def test_items_sharing_one_guid_are_all_kept_and_not_repeated(store: Store) -> None:
    with LoopbackServer() as srv:
        items = [
            item("same", f"https://x.example/{n}", f"T{n}", story(n), NOW - timedelta(minutes=n))
            for n in range(10)
        ]
        srv.route("/f.xml", Response(200, feed(*items), RSS))
        sid = subscribe(store, f"{srv.url}/f.xml")
        poll(store, sid)
        assert store.count_articles() == 10
        poll(store, sid, NOW + timedelta(hours=1))
    assert store.count_articles() == 10


def test_big_new_feed_respects_lookback_and_cap(store: Store) -> None:
    with LoopbackServer() as srv:
        items = [
            item(f"g{n}", f"https://x.example/{n}", f"T{n}", story(n), NOW - timedelta(hours=n))
            for n in range(500)
        ]
        srv.route("/f.xml", Response(200, feed(*items), RSS))
        sid = subscribe(store, f"{srv.url}/f.xml")
        poll(store, sid)
        poll(store, sid, NOW + timedelta(minutes=30))
    channel = store.channel("test", "C1")
    assert channel is not None
    fresh = store.new_articles_for(channel.id, NOW - timedelta(hours=24), 10)
    assert len(fresh) == 10
    assert store.count_articles() <= 50  # the item cap per poll


def test_failing_source_backs_off_pauses_once_and_recovers(store: Store) -> None:
    with LoopbackServer() as srv:
        srv.route("/f.xml", Response(500, b"boom", {"Content-Type": "text/plain"}))
        sid = subscribe(store, f"{srv.url}/f.xml")
        waits, notices = [], []
        now = NOW
        for _ in range(5):
            result = asyncio.run(
                poll_source(store, store.source_by_id(sid), ALLOW, now, pause_after=5)
            )  # type: ignore[arg-type]
            source = store.source_by_id(sid)
            assert source is not None and source.next_attempt_at is not None
            waits.append(source.next_attempt_at - now)
            notices.append(result.paused.notice() if result.paused else None)
            now = source.next_attempt_at
        assert waits == sorted(waits) and waits[1] == 2 * waits[0]
        assert [n is not None for n in notices] == [False] * 4 + [True]
        assert "500" in (notices[-1] or "")
        paused = store.source_by_id(sid)
        assert paused is not None and paused.paused
        assert (
            store.due_sources(now + timedelta(minutes=1), reprobe_after=timedelta(hours=12)) == []
        )
        srv.route(
            "/f.xml", Response(200, feed(item("g", "https://x.example/1", "T", story(1), NOW)), RSS)
        )
        [due] = store.due_sources(now + timedelta(hours=13), reprobe_after=timedelta(hours=12))
        asyncio.run(poll_source(store, due, ALLOW, now + timedelta(hours=13)))
    recovered = store.source_by_id(sid)
    assert recovered is not None and not recovered.paused and recovered.failures == 0


def test_retry_after_defers_only_that_source(store: Store) -> None:
    with LoopbackServer() as srv:
        srv.route(
            "/busy.xml",
            Response(503, b"busy", {"Retry-After": "120", "Content-Type": "text/plain"}),
        )
        srv.route(
            "/ok.xml",
            Response(200, feed(item("g", "https://x.example/1", "T", story(1), NOW)), RSS),
        )
        busy = subscribe(store, f"{srv.url}/busy.xml")
        ok = subscribe(store, f"{srv.url}/ok.xml")
        poll(store, busy)
        poll(store, ok)
    source = store.source_by_id(busy)
    assert source is not None and source.next_attempt_at == NOW + timedelta(seconds=120)
    due_ids = [s.id for s in store.due_sources(NOW + timedelta(seconds=60), timedelta(hours=12))]
    assert busy not in due_ids
    assert busy in [
        s.id for s in store.due_sources(NOW + timedelta(seconds=121), timedelta(hours=12))
    ]


def test_conditional_get_costs_one_small_request(store: Store) -> None:
    with LoopbackServer() as srv:

        def answer(req):  # type: ignore[no-untyped-def]
            if req.headers.get("If-None-Match") == '"v1"':
                return Response(304, b"", {"ETag": '"v1"'})
            return Response(
                200,
                feed(item("g", "https://x.example/1", "T", story(1), NOW)),
                {**RSS, "ETag": '"v1"'},
            )

        srv.route("/f.xml", answer)
        sid = subscribe(store, f"{srv.url}/f.xml")
        poll(store, sid)
        poll(store, sid, NOW + timedelta(hours=1))
        assert srv.requests[-1].headers.get("If-None-Match") == '"v1"'
    assert store.count_articles() == 1
