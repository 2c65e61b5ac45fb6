"""A loopback news site: a teaser feed, full article pages, robots.txt, and a request census.

It counts the requests in flight at once (the most it ever saw) so tests can hold the
fetcher to "at most 2 at once per host", and it can delay or drip any page.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from support.loopback import LoopbackServer, RecordedRequest, Response

HTML = {"Content-Type": "text/html; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml"}
T0 = datetime(2024, 5, 1, 6, tzinfo=UTC)

TOWNS = ["Riverton", "Ashford", "Milbrook", "Carrow", "Dunmere", "Eastleigh", "Fenwick", "Glenholm"]


def article_html(n: int, paragraphs: int = 6) -> str:
    """A real-looking article page: navigation, a promo box, sections, a comments block."""
    town = TOWNS[n % len(TOWNS)]
    body = []
    for p in range(paragraphs):
        if p == 3:
            body.append("<h2>What happens next</h2>")
        body.append(
            f"<p>The {town} council reviewed the {n}th harbour plan in session {p} on Monday, "
            f"weighing a budget of {n + p + 2} million dollars against the cost of delay. "
            f"Engineers told members that pier {p} had lost a quarter of its strength since "
            f"{2000 + p} and could close within {p + 2} years without repairs.</p>"
        )
    return f"""<!doctype html><html><head><title>Harbour plan {n} wins approval in {town}</title>
<meta property="article:published_time" content="2024-05-01T05:00:00Z"></head><body>
<nav><a href="/">Home</a> | <a href="/world">World</a> | <a href="/sport">Sport</a></nav>
<article><h1>Harbour plan {n} wins approval in {town}</h1>{"".join(body)}</article>
<aside><h3>Most read</h3><ul><li><a href="/x">Celebrity chef opens bistro</a></li></ul></aside>
<section class="comments"><h3>Comments</h3><p>Be the first to comment.</p></section>
<footer>Copyright 2024 Coast Ledger. All rights reserved.</footer></body></html>"""


def teaser(n: int) -> str:
    return f"The {TOWNS[n % len(TOWNS)]} council approved harbour plan {n} on Monday."


def feed_xml(base: str, items: list[tuple[int, str]], title: str = "Coast Ledger") -> bytes:
    """Items as (number, link path); descriptions are one-sentence teasers."""
    xml = []
    for n, path in items:
        when = format_datetime(T0 - timedelta(minutes=n))
        xml.append(
            f"<item><guid>{base}{path}</guid><link>{base}{path}</link>"
            f"<title>Harbour plan {n} approved</title><pubDate>{when}</pubDate>"
            f"<description>{teaser(n)}</description></item>"
        )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>'
        + "".join(xml)
        + "</channel></rss>"
    ).encode()


class Site:
    """`with Site() as site:`; pages under /articles/N.html, feeds added with `add_feed`."""

    def __init__(
        self, latency: float = 0.0, robots: str | None = None, host: str = "127.0.0.1"
    ) -> None:
        self.server = LoopbackServer(host)
        self.latency = latency
        self.robots = robots
        self.in_flight = 0
        self.most_in_flight = 0
        self.hits: Counter[str] = Counter()
        self.drip: set[str] = set()
        self.finished: dict[str, float] = {}
        self.feeds: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self.server.fallback = self._serve

    @property
    def url(self) -> str:
        return self.server.url

    def add_feed(self, path: str, items: list[tuple[int, str]], title: str = "Coast Ledger") -> str:
        self.feeds[path] = feed_xml(self.url, items, title)
        return self.url + path

    def _serve(self, request: RecordedRequest) -> Response:
        path = request.path.split("?")[0]
        with self._lock:
            self.hits[path] += 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.latency:
                time.sleep(self.latency)
            return self._page(path)
        finally:
            with self._lock:
                self.in_flight -= 1
                self.finished[path] = time.monotonic()

    def _page(self, path: str) -> Response:
        if path == "/robots.txt":
            if self.robots is None:
                return Response(404, b"not found")
            return Response(200, self.robots.encode(), {"Content-Type": "text/plain"})
        if path in self.feeds:
            return Response(200, self.feeds[path], RSS)
        if path in self.drip:
            return Response(200, _drip(), HTML)
        if path.startswith("/articles/") and path.endswith(".html"):
            name = path.removeprefix("/articles/").removesuffix(".html")
            if name.isdigit():
                return Response(200, article_html(int(name)).encode(), HTML)
            if name == "paywalled":
                return Response(200, b"<html><body><p>Subscribe to read.</p></body></html>", HTML)
            if name == "report":
                return Response(200, b"%PDF-1.7 binary", {"Content-Type": "application/pdf"})
        return Response(404, b"not found")

    def __enter__(self) -> Site:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)


def _drip() -> Iterator[bytes]:
    yield b"<html><body><p>"
    for _ in range(60):
        time.sleep(0.5)
        yield b"a "
