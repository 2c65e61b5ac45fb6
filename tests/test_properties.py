"""Ingestion and sectioning never raise on arbitrary input; they return or fail with InputError."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.chat.commands import COMMANDS
from bot.chat.grammar import parse_text
from bot.digest.sections import build_article
from bot.errors import InputError, NewsdigestError
from bot.ingest import parse_bytes
from bot.ingest.plaintext import parse_plaintext
from bot.text.sentences import split_sentences

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


@given(st.text(max_size=500))
def test_sentences_cover_the_text(text: str) -> None:
    joined = "".join(split_sentences(text)).replace(" ", "")
    assert joined == "".join(text.split()).replace(" ", "")


@given(st.text(max_size=200))
def test_command_parser_never_raises(text: str) -> None:
    try:  # a command, or an error a user can read: never anything else
        assert parse_text(text, COMMANDS).command.name
    except NewsdigestError as exc:
        assert exc.message
