"""RSS and Atom feeds: entries newest first; malformed feeds are clear errors."""

from __future__ import annotations

import pytest

from bot.digest.sections import build_article
from bot.errors import InputError
from bot.ingest import parse_bytes

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Example</title>
<item><title>Older story</title><link>https://example.com/a</link><guid>a</guid>
<pubDate>Mon, 01 Jan 2024 10:00:00 GMT</pubDate>
<description>The old story has a first sentence that is long enough. It has a second one too.</description></item>
<item><title>Newer story</title><link>https://example.com/b</link><guid>b</guid>
<pubDate>Tue, 02 Jan 2024 10:00:00 GMT</pubDate>
<description>&lt;p&gt;The new story says something important about the harbour today.&lt;/p&gt;</description></item>
</channel></rss>"""


ATOM = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>Atom example</title><entry><title>Atom entry</title><link href="https://example.com/atom"/>
<id>urn:1</id><updated>2024-03-01T00:00:00Z</updated>
<content type="html">&lt;p&gt;An atom entry carries content that explains the news of the day in detail.&lt;/p&gt;</content>
</entry></feed>"""


def test_rss_entries_become_articles_newest_first() -> None:
    docs = parse_bytes(RSS, "feed.xml")
    assert [d.title for d in docs] == ["Newer story", "Older story"]
    assert docs[0].url == "https://example.com/b"
    assert build_article(docs[0]).sentences


def test_atom_feed() -> None:
    [doc] = parse_bytes(ATOM, "atom.xml")
    assert doc.title == "Atom entry" and doc.url == "https://example.com/atom"


def test_malformed_feed_and_html_without_text() -> None:
    with pytest.raises(InputError):
        parse_bytes(b"<?xml version='1.0'?><rss><channel><item><title>x", "bad.xml")
    with pytest.raises(InputError, match="No article text"):
        parse_bytes(b"<html><body><div></div></body></html>", "empty.html")
