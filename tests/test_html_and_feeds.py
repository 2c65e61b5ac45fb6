from __future__ import annotations

import gzip
import json

import pytest
from conftest import SHARED

from bot.digest.sections import build_article
from bot.errors import InputError
from bot.ingest import parse_bytes
from bot.ingest.detect import SourceKind, detect_kind

PARAGRAPH = (
    "The committee met on Monday to discuss the proposal in detail. Members raised several "
    "concerns about the cost and the timeline of the project. "
)

HTML_PAGE = f"""<!doctype html><html><head><title>Bridge plan approved</title>
<meta property="article:published_time" content="2024-05-02T10:00:00Z"></head>
<body><nav><a href="/">Home</a> | <a href="/news">News</a></nav>
<article><h1>Bridge plan approved</h1>
<p>LONDON (Reuters) - {PARAGRAPH * 2}</p>
<h2>What it costs</h2><p>{PARAGRAPH}The bridge will cost $40 million over four years.</p>
<h2>Why it matters</h2><p>{PARAGRAPH}Commuters will save twenty minutes each way.</p>
</article><footer>Copyright 2024 Example News. All rights reserved.</footer></body></html>"""

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


def test_html_keeps_headings_and_metadata() -> None:
    [doc] = parse_bytes(HTML_PAGE.encode(), "page.html")
    article = build_article(doc)
    assert article.title == "Bridge plan approved"
    assert article.published is not None and article.published.year == 2024
    assert article.dateline == "LONDON"
    ids = [s.id for s in article.sections]
    assert ids == ["overview", "it-costs", "why-it-matters"]
    text = " ".join(s.text for s in article.sentences)
    assert "All rights reserved" not in text and "Reuters" not in text


def test_rss_entries_become_articles_newest_first() -> None:
    docs = parse_bytes(RSS, "feed.xml")
    assert [d.title for d in docs] == ["Newer story", "Older story"]
    assert docs[0].url == "https://example.com/b"
    assert build_article(docs[0]).sentences


def test_atom_feed() -> None:
    [doc] = parse_bytes(ATOM, "atom.xml")
    assert doc.title == "Atom entry" and doc.url == "https://example.com/atom"


def test_kind_is_sniffed_from_content_not_name() -> None:
    assert detect_kind(RSS) is SourceKind.FEED
    assert detect_kind(HTML_PAGE.encode()) is SourceKind.HTML
    assert detect_kind(b"Just some words. And more words.") is SourceKind.TEXT


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"%PDF-1.7 ...", "PDF"),
        (b"\x89PNG\r\n\x1a\n....", "PNG"),
        (b"abc\x00def" * 10, "binary"),
    ],
)
def test_bad_input_is_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_bytes(data, "x")


def test_malformed_feed_and_html_without_text() -> None:
    with pytest.raises(InputError):
        parse_bytes(b"<?xml version='1.0'?><rss><channel><item><title>x", "bad.xml")
    with pytest.raises(InputError, match="No article text"):
        parse_bytes(b"<html><body><div></div></body></html>", "empty.html")


def test_html_served_as_feed_falls_back_to_extraction() -> None:
    page = HTML_PAGE.replace("<!doctype html>", '<?xml version="1.0"?>').encode()
    docs = parse_bytes(page, "x")
    assert docs[0].title == "Bridge plan approved"


def test_shared_extraction_pages_parse() -> None:
    truth_file = SHARED / "data" / "extraction" / "ground-truth.json"
    if not truth_file.exists():
        pytest.skip("shared extraction data not present")
    truth = json.loads(truth_file.read_text())
    for sha in sorted(truth)[:10]:
        html = gzip.decompress(
            (SHARED / "data" / "extraction" / "html" / f"{sha}.html.gz").read_bytes()
        )
        [doc] = parse_bytes(html, sha)
        assert build_article(doc).sentences
