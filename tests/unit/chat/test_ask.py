"""`/digest ask`: answers quoted from the article, or "the article does not say"."""

from __future__ import annotations

from support.paths import EXAMPLE

from bot.chat.ask import answer_question, answer_text, grounded_answerer, quotes_for
from bot.digest.sections import build_article
from bot.ingest.plaintext import parse_plaintext

ARTICLE = build_article(parse_plaintext(EXAMPLE.read_text(), str(EXAMPLE)))


def test_a_fact_is_quoted_with_its_section() -> None:
    answer = answer_question(ARTICLE, "Who will build the project?")
    assert answer.found
    assert "Prairie Sun Cooperative" in answer.quotes[0].sentence.text
    when = answer_question(ARTICLE, "When does construction start?")
    assert ["next spring" in q.sentence.text for q in when.quotes] == [True]
    text = answer_text(ARTICLE, "Who will build the project?", answer)
    assert text.startswith("From “") and "> " in text and "  — " in text


def test_what_the_article_does_not_cover_is_said_plainly() -> None:
    answer = answer_question(ARTICLE, "Who is the mayor's favourite football player?")
    assert not answer.found
    assert answer_text(ARTICLE, "who?", answer).startswith("The article does not say")


def test_a_models_answer_must_cite_real_sentences_or_the_text_answers() -> None:
    ids = [s.id for s in ARTICLE.sentences if "$68 million" in s.text]
    cited = quotes_for(ARTICLE, ids)
    assert [q.sentence.id for q in cited] == ids

    def broken(_messages: list[dict[str, str]]) -> str:
        return "not json"

    fallback = grounded_answerer(broken)(ARTICLE, "Who will build the project?")
    assert fallback.found and fallback.said is None  # the extractive answer stands in


def test_a_chinese_question_about_a_chinese_article() -> None:
    from support.paths import ROOT

    from bot.ingest import load_source

    [doc] = load_source(str(ROOT / "tests" / "data" / "pages" / "zh-harbour.html"))
    article = build_article(doc)
    answer = answer_question(article, "项目总投资多少？")
    assert answer.found and "42亿元" in answer.quotes[0].sentence.text
    assert not answer_question(article, "市长喜欢什么足球队？").found
