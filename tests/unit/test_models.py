"""The article model's derived views."""

from __future__ import annotations

from bot.models import Article, Paragraph, Section, Sentence


def section(index: int, *paragraphs: tuple[str, ...]) -> Section:
    return Section(
        f"s{index}",
        index,
        f"Part {index}",
        True,
        tuple(Paragraph(tuple(Sentence(i, text) for i, text in enumerate(p))) for p in paragraphs),
    )


def test_has_sentences_agrees_with_sentences() -> None:
    shapes = [
        (),
        (section(0),),
        (section(0, ()), section(1, (), ())),
        (section(0, ()), section(1, (), ("Only this one.",))),
        (section(0, ("One.", "Two.")),),
    ]
    for sections in shapes:
        article = Article("Title", sections, "feed")
        assert article.has_sentences is bool(article.sentences)
    assert [Article("T", s, "feed").has_sentences for s in shapes] == [
        False,
        False,
        False,
        True,
        True,
    ]
