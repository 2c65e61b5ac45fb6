import pytest

from bot.digest.article_digest import summarize_article
from bot.digest.plain_text import summarize_text
from bot.digest.sections import build_article
from bot.errors import InputError
from bot.ingest.plaintext import parse_plaintext
from bot.models import Article
from bot.summarize.extractive import ExtractiveSummarizer
from bot.summarize.standalone import announcement


def test_deterministic_and_cites_sentences(sample_text: str) -> None:
    article = build_article(parse_plaintext(sample_text, "s"))
    first = ExtractiveSummarizer().summarize(article)
    second = ExtractiveSummarizer().summarize(article)
    assert first == second
    texts = {s.id: s.text for s in article.sentences}
    for bullet in first.summary:
        sentences = [texts[i] for i in bullet.sentence_ids]
        if len(sentences) == 1:  # the sentence, without a connective ("And for Kim, …")
            assert sentences[0].endswith(bullet.text[1:])
        else:  # an announcement joined with what it announces, every word of each kept
            assert bullet.text.startswith(sentences[0].rstrip(".") + ":")
            assert all(s in bullet.text for s in sentences[1:])


def test_an_announcing_sentence_brings_what_it_announces() -> None:
    text = (
        "The council approved the harbour plan on Tuesday after a year of public hearings.\n\n"
        "The mayor has two big worries as building starts.\n\n"
        "Costs have risen by a third since the plan was first drawn up in 2022.\n\n"
        "The contractor has also warned that steel deliveries could slip into next spring.\n\n"
        "Work on the sea wall is due to begin in March and to last about two years.\n\n"
        "The harbour will stay open to fishing boats for the whole of the construction work."
    )
    bullets = summarize_text(text, 3)
    assert "The mayor has two big worries as building starts." not in bullets  # never alone
    worries = next(b for b in bullets if "worries" in b)
    assert worries.startswith("The mayor has two big worries as building starts: Costs have")
    assert "steel deliveries" in worries


def test_an_announcement_too_long_to_join_gives_way_to_what_it_announces() -> None:
    long_point = " ".join(["The first reason is that the old bridge"] + ["was built"] * 20) + "."
    text = (
        "The city will close the old bridge for good at the end of the month.\n\n"
        "Here's why:\n\n"
        f"{long_point}\n\n"
        "The second is that a new crossing opens two streets away in the same week.\n\n"
        "Residents were told about the closure in letters sent out on Friday morning."
    )
    bullets = summarize_text(text, 3)
    assert all(not b.startswith("Here's why") for b in bullets)
    assert any("a new crossing opens" in b for b in bullets)


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


@pytest.mark.parametrize(
    ("text", "language", "count"),
    [
        ("Kim has two urgent concerns as he heads to the summit.", "en", 2),
        ("There are three reasons to be cautious.", "en", 3),
        ("Here's why.", "en", 0),
        ("The reasons:", "en", 0),
        ("What we know so far", "en", 0),
        ("Es gibt zwei Gründe dafür.", "de", 2),
        ("Voici pourquoi.", "fr", 0),
        ("Police arrested two suspects on Monday.", "en", None),
        ("Two factories closed and 300 jobs were lost.", "en", None),
    ],
)
def test_which_sentences_announce(text: str, language: str, count: int | None) -> None:
    assert announcement(text, language) == count
