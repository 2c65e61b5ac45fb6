"""Teaser feeds: the bot reads the article behind each item, politely, and falls back per item."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from support.loopback import Response
from support.loopback_site import Site, feed_xml
from support.paths import ROOT

from bot.delivery.polling import PollResult, TeaserPages, poll_source
from bot.digest.article_digest import summarize_article
from bot.ingest.fetch import USER_AGENT, FetchOptions
from bot.ingest.netguard import AddressPolicy
from bot.ingest.politeness import Politeness
from bot.ingest.teasers import PageReader
from bot.store.repo import Store

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)


def polite(interval: float = 0.0, timeout: float = 5.0) -> FetchOptions:
    return FetchOptions(
        policy=AddressPolicy.from_setting("127.0.0.0/8"),
        total_timeout=timeout,
        politeness=Politeness(2, interval, USER_AGENT),
    )


def poll(
    store: Store, url: str, settings: FetchOptions, reader: PageReader | None = None, **kw: object
) -> PollResult:
    channel = store.channel("test", "C1")
    assert channel is not None
    source, _ = store.subscribe(channel.id, url)
    follow = TeaserPages(reader or PageReader(settings), **kw)  # type: ignore[arg-type]
    return asyncio.run(poll_source(store, source, settings, NOW, follow=follow))


def stored(store: Store) -> list:  # type: ignore[type-arg]
    channel = store.channel("test", "C1")
    assert channel is not None
    ids = store.new_articles_for(channel.id, NOW - timedelta(days=3650), 100)
    return [store.article(i) for i in ids]


def test_a_teaser_feed_gives_full_article_digests(store: Store) -> None:
    with Site() as site:
        url = site.add_feed("/feed.xml", [(n, f"/articles/{n}.html") for n in range(1, 6)])
        result = poll(store, url, polite())
    assert result.new_articles == 5 and not result.error
    for article in stored(store):
        assert article is not None and article.teaser is None
        assert len(article.sentences) >= 12
        headings = [s.heading for s in article.sections]
        assert "What happens next" in headings
        assert not any(h.lower() in ("most read", "comments") for h in headings)
        text = " ".join(s.text for s in article.sentences)
        assert "Most read" not in text and "Be the first to comment" not in text
        digest = summarize_article(article)
        assert any("pier" in b.text or "Engineers" in b.text for b in digest.summary)
        assert article.published is not None


def test_robots_disallow_is_respected_and_the_teaser_posted(store: Store) -> None:
    with Site(robots="User-agent: *\nDisallow: /articles/2.html\n") as site:
        url = site.add_feed("/feed.xml", [(1, "/articles/1.html"), (2, "/articles/2.html")])
        poll(store, url, polite())
        assert site.hits["/articles/2.html"] == 0
        assert site.hits["/articles/1.html"] == 1 and site.hits["/robots.txt"] == 1
    by_title = {a.title: a for a in stored(store)}
    kept = next(a for t, a in by_title.items() if "2" in t)
    assert kept.teaser and "robots.txt" in kept.teaser
    assert summarize_article(kept).summary  # still posted, marked
    assert sum(a.teaser is None for a in by_title.values()) == 1


def test_unreadable_links_keep_the_teaser_and_are_not_refetched_every_poll(store: Store) -> None:
    links = [
        (1, "/articles/missing.html"),
        (2, "/articles/report.html"),
        (3, "/articles/paywalled.html"),
    ]
    with Site() as site:
        url = site.add_feed("/feed.xml", links)
        poll(store, url, polite())
        poll(store, url, polite())
        assert site.hits["/articles/missing.html"] == 1
    reasons = sorted(str(a.teaser) for a in stored(store))
    assert len(reasons) == 3
    assert any("404" in r for r in reasons)
    assert any("application/pdf" in r for r in reasons)
    assert any("no more than the teaser" in r for r in reasons)


def test_never_more_than_two_requests_at_once_to_one_host(store: Store) -> None:
    with Site(latency=0.15) as site:
        url = site.add_feed("/feed.xml", [(n, f"/articles/{n}.html") for n in range(12)])
        poll(store, url, polite())
        assert site.most_in_flight == 2  # used, never exceeded


def test_the_same_article_from_two_feeds_is_fetched_once(store: Store) -> None:
    with Site(latency=0.1) as site:
        a = site.add_feed(
            "/a.xml", [(1, "/articles/1.html"), (2, "/articles/2.html")], "Coast Ledger"
        )
        b = site.add_feed(
            "/b.xml", [(1, "/articles/1.html"), (3, "/articles/3.html")], "Harbour Post"
        )
        settings = polite()
        reader = PageReader(settings)
        channel = store.channel("test", "C1")
        assert channel is not None
        sources = [store.subscribe(channel.id, u)[0] for u in (a, b)]

        async def both() -> None:
            follow = TeaserPages(reader)
            await asyncio.gather(
                *(poll_source(store, s, settings, NOW, follow=follow) for s in sources)
            )

        asyncio.run(both())
        poll(store, b, settings, reader)  # and again, later
        assert site.hits["/articles/1.html"] == 1
    assert len(stored(store)) == 3


def test_a_dripping_page_delays_no_other_host(store: Store) -> None:
    with Site(host="127.0.0.1") as slow, Site(host="127.0.0.2") as fast:
        slow.drip.add("/articles/1.html")
        items = [(1, f"{slow.url}/articles/1.html")] + [
            (n, f"{fast.url}/articles/{n}.html") for n in (2, 3, 4)
        ]
        xml = "".join(
            f"<item><guid>g{n}</guid><link>{link}</link><title>Plan {n}</title>"
            f"<description>The council approved plan {n}.</description></item>"
            for n, link in items
        )
        slow.server.route(
            "/feed.xml",
            Response(
                200,
                f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{xml}</channel></rss>'.encode(),
                {"Content-Type": "application/rss+xml"},
            ),
        )
        started = time.monotonic()
        poll(store, f"{slow.url}/feed.xml", polite(timeout=3.0))
        ended = time.monotonic()
        fast_done = max(fast.finished[f"/articles/{n}.html"] for n in (2, 3, 4))
    assert ended - started >= 2.5  # the drip ran into its deadline...
    assert fast_done - started < (ended - started) / 2  # ...while the other host was long done
    teasers = [a for a in stored(store) if a.teaser]
    assert len(teasers) == 1 and "took longer" in str(teasers[0].teaser)


def test_page_budget_leaves_the_rest_for_the_next_poll(store: Store) -> None:
    with Site() as site:
        url = site.add_feed("/feed.xml", [(n, f"/articles/{n}.html") for n in range(1, 8)])
        first = poll(store, url, polite(), max_pages=3)
        second = poll(store, url, polite(), max_pages=3)
        third = poll(store, url, polite(), max_pages=3)
    assert (first.new_articles, second.new_articles, third.new_articles) == (3, 3, 1)
    assert all(a.teaser is None for a in stored(store))


def test_an_item_without_a_full_sentence_spoils_nothing(store: Store) -> None:
    with Site() as site:
        xml = (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
            "<item><guid>d</guid><link>http://127.0.0.1:9/none</link><title>Dateline only</title>"
            "<description>SANTA FE, N.M.</description></item>"
            "<item><guid>e</guid><title>Plan 5 approved</title><description>"
            "The council approved plan 5 on Monday after a long debate in the town hall. "
            "Residents will vote on it next month.</description></item></channel></rss>"
        )
        site.server.route(
            "/feed.xml", Response(200, xml.encode(), {"Content-Type": "application/rss+xml"})
        )
        result = poll(store, f"{site.url}/feed.xml", polite(timeout=1.0))
    assert result.new_articles == 1 and not result.error


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NEWSDIGEST_FETCH_ALLOW": "127.0.0.0/8", "NEWSDIGEST_FETCH_TIMEOUT": "5"}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_digest_of_a_teaser_feed_reads_the_articles() -> None:
    with Site() as site:
        site.server.route(
            "/feed.xml",
            Response(
                200,
                feed_xml(site.url, [(1, "/articles/1.html"), (2, "/articles/missing.html")])[
                    : -len(b"</channel></rss>")
                ]
                + b"<item><guid>x</guid><link>"
                + site.url.encode()
                + b"/articles/gone.html</link>"
                b"<title>Dateline only</title><description>SANTA FE, N.M.</description></item></channel></rss>",
                {"Content-Type": "application/rss+xml"},
            ),
        )
        followed = run_cli("digest", f"{site.url}/feed.xml", "--format", "json")
        own = run_cli("digest", f"{site.url}/feed.xml", "--format", "json", "--no-follow")
        extracted = run_cli("extract", f"{site.url}/feed.xml")
    assert followed.returncode == 0, followed.stderr
    items = [json.loads(line) for line in followed.stdout.splitlines()]
    assert len(items) == 2  # the dateline-only item is skipped, not fatal
    assert "skipped 'Dateline only'" in followed.stderr
    full, teaser = items
    assert full["outlet"] == teaser["outlet"] == "Coast Ledger"  # the feed's title
    assert not full["teaser_only"] and len(full["sections"]) >= 2
    assert teaser["teaser_only"] and "404" in teaser["teaser_reason"]
    assert own.returncode == 0
    assert all(len(json.loads(line)["sections"]) == 1 for line in own.stdout.splitlines())
    assert "What happens next" in extracted.stdout and "Engineers told members" in extracted.stdout


def test_a_failed_page_is_retried_on_the_backoff_and_the_teaser_upgraded(store: Store) -> None:
    from support.loopback_site import article_html

    calls = []

    def flaky(_request: object) -> Response:
        calls.append(1)
        if len(calls) == 1:
            return Response(503, b"busy")
        return Response(200, article_html(4).encode(), {"Content-Type": "text/html"})

    with Site() as site:
        site.server.route("/articles/flaky.html", flaky)
        url = site.add_feed("/feed.xml", [(4, "/articles/flaky.html")])
        channel = store.channel("test", "C1")
        assert channel is not None
        source, _ = store.subscribe(channel.id, url)
        settings = polite()
        follow = TeaserPages(PageReader(settings))

        def poll_at(when: datetime) -> PollResult:
            fresh = store.source_by_id(source.id)
            assert fresh is not None
            return asyncio.run(poll_source(store, fresh, settings, when, follow=follow))

        poll_at(NOW)
        [teaser] = stored(store)
        assert teaser.teaser and "503" in teaser.teaser
        poll_at(NOW + timedelta(minutes=1))  # before the backoff: not asked again
        assert len(calls) == 1
        result = poll_at(NOW + timedelta(minutes=20))  # after it: read, the teaser upgraded
        assert len(calls) == 2 and len(result.upgraded) == 1
    [article] = stored(store)
    assert article.teaser is None and len(article.sentences) >= 12


def test_the_feeds_date_decides_what_is_new_not_a_yearless_page_date(store: Store) -> None:
    """A feed item published 3 hours ago whose printable page prints "04/23 06:41" (no year)
    is new, dated by the feed: the page's guess of a year never makes it old."""
    from email.utils import format_datetime

    from support.loopback import LoopbackServer, Response

    now = datetime.now(UTC).replace(microsecond=0)
    if (now.month, now.day) == (4, 23):
        now += timedelta(days=2)  # the printed date must differ from today
    body = (
        "Ferry service resumes after storm04/23 06:41\n\n"
        + " ".join(
            f"The harbour ferry resumed service on day {n} after the storm damaged the pier, "
            f"and {n + 20} passengers crossed in the first hour, the operator said."
            for n in range(1, 12)
        )
        + "\n"
    )
    with LoopbackServer() as server:
        item = (
            f"<item><guid>{server.url}/story</guid><link>{server.url}/story</link>"
            f"<title>Ferry service resumes</title>"
            f"<pubDate>{format_datetime(now - timedelta(hours=3))}</pubDate>"
            "<description>The ferry is back.</description></item>"
        )
        rss = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Coast Ledger</title>{item}</channel></rss>'
        server.route(
            "/feed.xml", Response(200, rss.encode(), {"Content-Type": "application/rss+xml"})
        )
        server.route("/story", Response(200, body.encode(), {"Content-Type": "text/plain"}))
        server.route("/robots.txt", Response(404, b""))
        channel = store.channel("test", "C1")
        assert channel is not None
        source, _ = store.subscribe(channel.id, f"{server.url}/feed.xml")
        settings = polite()
        follow = TeaserPages(PageReader(settings))
        result = asyncio.run(poll_source(store, source, settings, now, follow=follow))
    assert result.new_articles == 1
    [article_id] = store.new_articles_for(channel.id, now - timedelta(hours=48), 10)
    article = store.article(article_id)
    assert article is not None and article.teaser is None  # the page was read
    assert article.published is not None
    assert abs(article.published - (now - timedelta(hours=3))) < timedelta(minutes=1)
