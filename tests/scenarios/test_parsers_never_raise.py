"""Any bytes, any text: the parsers give a document or a clear error, never a crash."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.digest.sections import build_article
from bot.errors import InputError
from bot.ingest import parse_bytes
from bot.ingest.plaintext import parse_plaintext

TAGS = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<h2>",
        "</h2>",
        "<div>",
        "</div>",
        "<br>",
        "<html>",
        "<body>",
        "<script>",
        "</script>",
        "<!--",
        "-->",
        "&amp;",
        "&#0;",
        "<![CDATA[",
        "<rss>",
        "<item>",
    ]
)


HTMLISH = st.lists(st.one_of(TAGS, st.text(max_size=40)), max_size=40).map("".join)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.text(max_size=3000))
def test_plaintext_never_raises(text: str) -> None:
    article = build_article(parse_plaintext(text, "p"))
    for sentence in article.sentences:
        assert sentence.text.strip()


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(HTMLISH)
def test_html_and_sniffing_never_raise(markup: str) -> None:
    try:
        for doc in parse_bytes(markup.encode("utf-8", "surrogatepass"), "h"):
            build_article(doc)
    except InputError:
        pass
