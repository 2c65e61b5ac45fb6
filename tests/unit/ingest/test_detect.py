"""The kind of a source, sniffed from its bytes; bad input is a clear error."""

from __future__ import annotations

import pytest

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


def test_html_served_as_feed_falls_back_to_extraction() -> None:
    page = HTML_PAGE.replace("<!doctype html>", '<?xml version="1.0"?>').encode()
    docs = parse_bytes(page, "x")
    assert docs[0].title == "Bridge plan approved"
