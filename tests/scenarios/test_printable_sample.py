"""The shared printable page: every damage the issue lists is undone."""

from __future__ import annotations

import re

import pytest

from bot.digest.article_digest import summarize_article
from bot.digest.sections import build_article
from bot.ingest.plaintext import parse_plaintext
from bot.models import Article

BOILERPLATE = re.compile(
    r"return to menu|copyright|all rights reserved|powered by|disclaimer|page 1 2", re.IGNORECASE
)


@pytest.fixture(scope="module")
def article(sample_text: str) -> Article:
    return build_article(parse_plaintext(sample_text, "sample"))


def test_title_time_and_dateline(article: Article) -> None:
    assert article.title == "NKorea's Kim Needs a Win in Putin Talks"
    assert article.published is not None
    assert (article.published.month, article.published.day) == (4, 23)
    assert (article.published.hour, article.published.minute) == (6, 41)
    assert article.dateline == "TOKYO"


def test_sections_found(article: Article) -> None:
    ids = [s.id for s in article.sections]
    assert "why-now" in ids
    assert "bottom-line" in ids
    firsts = [s.sentences[0].text for s in article.sections]
    assert any(t.startswith("Kim has two urgent concerns") for t in firsts)
    assert any(t.startswith("If Putin chooses") for t in firsts)
    assert [s.index for s in article.sections] == list(range(1, len(article.sections) + 1))
    assert article.sections[0].id == "overview"
    why_now = article.section_by_id("why-now")
    assert why_now is not None and why_now.titled
    untitled = [s for s in article.sections if not s.titled]
    assert all(s.heading for s in untitled)


def test_dateline_not_in_body(article: Article) -> None:
    assert article.sentences[0].text.startswith("When North Korean leader")
    assert not any("(AP)" in s.text for s in article.sentences)


def test_wrapped_lines_are_unwrapped_and_dashes_fixed(article: Article) -> None:
    texts = " ".join(s.text for s in article.sentences)
    assert "Russian President Vladimir Putin" in texts
    assert "---" not in texts and "  " not in texts
    assert "tenfold — to $1 billion — by 2020" in texts


def test_truncated_paragraphs_are_marked(article: Article) -> None:
    cut = [s.text for s in article.sentences if s.truncated]
    assert "But his decision to more actively court Putin undoubtedly goes deeper than" in cut
    assert len(cut) >= 5


def test_digest_bullets_are_clean(article: Article) -> None:
    digest = summarize_article(article)
    bullets = [b for b in digest.summary] + [b for s in digest.sections for b in s.bullets]
    assert 3 <= len(digest.summary) <= 5
    by_id = {s.id: s for s in article.sentences}
    for bullet in bullets:
        assert not BOILERPLATE.search(bullet.text)
        assert not bullet.text.startswith("TOKYO")
        assert bullet.text.rstrip()[-1] in ".!?\"”’'"
        assert bullet.sentence_ids and all(not by_id[i].truncated for i in bullet.sentence_ids)
        assert "goes deeper than" not in bullet.text


def test_example_article_is_handled_like_the_sample(example_text: str) -> None:
    article = build_article(parse_plaintext(example_text, "example"))
    assert article.title == "Riverton Council Backs Solar Farm on Old Rail Yard"
    assert article.dateline == "RIVERTON"
    assert {"took-long", "happens-next"} <= {s.id for s in article.sections}
    assert any(s.truncated for s in article.sentences)


def test_announced_concerns_are_told_not_announced(article: Article) -> None:
    """ "Kim has two urgent concerns as he heads to the summit." is never a bullet alone:
    the two concerns (the laborers sent home, a food shortage) are."""
    from bot.digest.channel_view import channel_view

    digest = summarize_article(article)
    announcer = "Kim has two urgent concerns as he heads to the summit."
    every = [*digest.summary, *(b for s in digest.sections for b in s.bullets)]
    assert all(b.text != announcer for b in every)
    summary = " ".join(b.text for b in digest.summary)
    for point in ("wish list", "laborers", "food shortage", "late in the game", "Washington"):
        assert point in summary, point
    view = channel_view(digest)
    shown = [b.text for b in (*view.summary, *(s.bullet for s in view.sections if s.bullet))]
    [concerns] = [text for text in shown if "urgent concerns" in text]  # posted once
    assert "laborers" in concerns and "food shortage" in concerns
