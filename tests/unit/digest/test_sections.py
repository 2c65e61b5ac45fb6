from bot.digest.sections import build_article, slugify
from bot.ingest.plaintext import parse_plaintext
from bot.models import Block, BlockKind, Document


def test_slugs() -> None:
    assert slugify("WHY NOW?") == "why-now"
    assert slugify("So what's the bottom line?") == "bottom-line"
    assert slugify("What?") == "what"
    assert slugify("???") == "section"


def test_markdown_headings_and_duplicate_ids() -> None:
    text = (
        "# Title here\n\nIntro sentence one is here.\n\n## Results\n\nFirst result is good.\n\n"
        "## Results\n\nSecond result is better.\n"
    )
    article = build_article(parse_plaintext(text, "md"))
    assert article.title == "Title here"
    assert [s.id for s in article.sections] == ["overview", "results", "results-2"]
    assert [s.titled for s in article.sections] == [False, True, True]


def test_blank_line_runs_start_untitled_sections_with_generated_headings() -> None:
    text = (
        "Opening paragraph about the city budget is here.\n\n\n\n"
        "The harbour bridge repairs will cost more. Harbour bridge traffic is slow.\n"
    )
    article = build_article(parse_plaintext(text, "t"))
    assert len(article.sections) == 2
    second = article.sections[1]
    assert not second.titled
    assert "harbour" in second.heading.lower() or "bridge" in second.heading.lower()


def test_empty_headings_are_dropped() -> None:
    doc = Document(
        "t",
        (
            Block(BlockKind.HEADING, "Lonely"),
            Block(BlockKind.HEADING, "Real"),
            Block(BlockKind.PARAGRAPH, "Some text is here."),
        ),
        "s",
    )
    article = build_article(doc)
    assert [s.heading for s in article.sections] == ["Real"]


def test_sentence_ids_are_unique_and_ordered(sample_text: str) -> None:
    article = build_article(parse_plaintext(sample_text, "s"))
    ids = [s.id for s in article.sentences]
    assert ids == list(range(len(ids)))
