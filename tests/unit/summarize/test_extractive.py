import pytest

from bot.digest.article_digest import summarize_article
from bot.digest.plain_text import summarize_text
from bot.digest.sections import build_article
from bot.errors import InputError
from bot.ingest.plaintext import parse_plaintext
from bot.models import Article
from bot.summarize.extractive import ExtractiveSummarizer


def test_deterministic_and_cites_sentences(sample_text: str) -> None:
    article = build_article(parse_plaintext(sample_text, "s"))
    first = ExtractiveSummarizer().summarize(article)
    second = ExtractiveSummarizer().summarize(article)
    assert first == second
    texts = {s.id: s.text for s in article.sentences}
    for bullet in first.summary:
        assert [texts[i] for i in bullet.sentence_ids] == [bullet.text]


def test_junk_sentences_are_never_bullets() -> None:
    text = (
        "By . Daily Mail Reporter . Scroll down for video. The mayor opened the new library on "
        "Monday after three years of construction work. Click here for more pictures of the day. "
        "The library holds 80,000 books and a maker space for teenagers in the city. "
        "Officials said the building cost $12 million and was paid for by a local bond measure."
    )
    bullets = summarize_text(text, 3)
    assert bullets and all("Scroll" not in b and "Click here" not in b for b in bullets)
    assert bullets[0].startswith("The mayor opened")


def test_near_duplicates_are_dropped() -> None:
    text = (
        "The council approved the new budget on Tuesday night after a long debate. "
        "The council approved the new budget on Tuesday night after a long debate in the chamber. "
        "Teachers will receive a raise of four percent under the plan starting in the autumn. "
        "Road repairs get an extra two million dollars for the coming year."
    )
    bullets = summarize_text(text, 3)
    assert sum("approved the new budget" in b for b in bullets) == 1


def test_empty_article_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="No article text"):
        summarize_article(Article(title="t", sections=(), source="s"))
