"""`/digest ask`: answers from the article itself, quoted, or says the article does not say.

The offline answer is extractive: the sentences that best match the question (BM25 over
the article's sentences), quoted with their section, so the reader sees where it comes
from. An answer is given only when the best sentence covers most of what the question is
about (weighted by how rare each word is in the article); otherwise the reply says the
article does not say. Nothing is ever invented.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.i18n import _
from bot.models import Article, Sentence
from bot.text.lexicon import words
from bot.text.words import base, content_words

if TYPE_CHECKING:
    from bot.summarize.llm import Completion

K1, B = 1.2, 0.75
MIN_COVERAGE = 0.5  # share of the question's (idf-weighted) words the best sentence must hold


@dataclass(frozen=True)
class Quote:
    heading: str
    sentence: Sentence


@dataclass(frozen=True)
class Answer:
    quotes: tuple[Quote, ...]
    said: str | None = None  # a model's one-sentence answer, grounded in the quotes

    @property
    def found(self) -> bool:
        return bool(self.quotes)


def question_terms(question: str, language: str = "en") -> list[str]:
    """What a question is about: its content words, without the words every question has."""
    asking = words("question-words", base(language))
    return [t for t in content_words(question, language) if t not in asking]


def answer_question(article: Article, question: str, max_quotes: int = 2) -> Answer:
    language = base(article.language)
    terms = list(dict.fromkeys(question_terms(question, language)))
    wants = _expected_answer(question)
    located = [
        (sec.heading, s) for sec in article.sections for s in sec.sentences if not s.truncated
    ]
    if not terms or not located:
        return Answer(())
    # a sentence is also about its section's heading ("Why now?" answers "why now")
    docs = [Counter(content_words(f"{h} {s.text}", language)) for h, s in located]
    n = len(docs)
    avg = sum(sum(d.values()) for d in docs) / n or 1.0
    df = Counter(t for d in docs for t in set(d))
    rare = math.log(1 + (n - 0.5) / 1.5)  # the weight of a word found in one sentence
    # a word the article never uses counts half as much as a rare one: questions use synonyms
    idf = {
        t: math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) if df[t] else 0.5 * rare for t in terms
    }
    total = sum(idf.values()) or 1.0
    scored = []
    for (heading, sentence), doc in zip(located, docs, strict=True):
        length = sum(doc.values()) or 1
        score = sum(
            idf[t] * doc[t] * (K1 + 1) / (doc[t] + K1 * (1 - B + B * length / avg))
            for t in terms
            if doc[t]
        )
        coverage = sum(idf[t] for t in terms if doc[t]) / total
        if wants and wants.search(sentence.text):
            score *= 1.5  # "how much" is answered by a sentence with a number in it
        scored.append((score, coverage, heading, sentence))
    scored.sort(key=lambda item: (-item[0], item[3].id))
    best_score, best_coverage, _, _ = scored[0]
    if best_score <= 0 or best_coverage < MIN_COVERAGE:
        return Answer(())
    quotes = [Quote(scored[0][2], scored[0][3])]
    for score, coverage, heading, sentence in scored[1:]:
        if len(quotes) == max_quotes or score < 0.7 * best_score:
            break
        if coverage >= MIN_COVERAGE:
            quotes.append(Quote(heading, sentence))
    if wants is not None and not any(wants.search(q.sentence.text) for q in quotes):
        # the figure asked for often follows in the next sentence of the same passage
        best = scored[0][3]
        following = [(h, s) for h, s in located if best.id < s.id <= best.id + 2]
        extra = next(((h, s) for h, s in following if wants.search(s.text)), None)
        if extra is not None:
            quotes.append(Quote(extra[0], extra[1]))
    quotes.sort(key=lambda q: q.sentence.id)
    return Answer(tuple(quotes))


_MONEY = re.compile(
    r"[$€£¥]\s?\d|\b\d[\d,.]*\s*(?:million|billion|thousand)?\s*(?:dollars|euros|pounds|yen)\b",
    re.I,
)
_QUANTITY = re.compile(r"\d|\b(?:percent|million|billion|dozen|hundred|thousand)\b", re.I)
_TIME = re.compile(
    r"\b(?:\d{4}|monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|yesterday"
    r"|tomorrow|week|month|year|spring|summer|autumn|fall|winter|january|february|march|april"
    r"|may|june|july|august|september|october|november|december)\b",
    re.I,
)


def _expected_answer(question: str) -> re.Pattern[str] | None:
    """What kind of sentence answers: a number for "how much/many", a time for "when"."""
    lowered = question.lower()
    if re.search(r"\bcost\b|\bprice\b|\bhow much\b|\bspend\b|\bpay\b|\bworth\b", lowered):
        return _MONEY
    if re.search(r"\bhow (?:much|many|big|large|long|far|old)\b|\bcost\b|\bprice\b", lowered):
        return _QUANTITY
    if re.search(r"\bwhen\b|\bwhat (?:time|date|day|year)\b", lowered):
        return _TIME
    return None


def answer_text(article: Article, question: str, answer: Answer) -> str:
    if not answer.found:
        return _("The article does not say. Nothing in “{title}” answers “{question}”.").format(
            title=article.title, question=question.strip()
        )
    lines = [_("From “{title}”:").format(title=article.title)]
    if answer.said:
        lines.append(answer.said)
    for quote in answer.quotes:
        lines.append(f"> {quote.sentence.text}")
        lines.append(f"  — {quote.heading}")
    return "\n".join(lines)


def quotes_for(article: Article, sentence_ids: list[int]) -> tuple[Quote, ...]:
    """The cited sentences with their sections, in reading order."""
    wanted = set(sentence_ids)
    return tuple(
        Quote(section.heading, s)
        for section in article.sections
        for s in section.sentences
        if s.id in wanted
    )


def grounded_answerer(complete: Completion) -> Callable[[Article, str], Answer]:
    """With an LLM configured, `/digest ask` asks it too: its answer must cite sentences of the
    article and pass the same checks as summary bullets; otherwise the extractive answer."""

    def answer(article: Article, question: str) -> Answer:
        from bot.summarize.llm import ask_article

        asked = ask_article(article, question, complete)
        if asked is None:
            return answer_question(article, question)
        text, ids = asked
        if text is None:
            return Answer(())  # the model found nothing: the article does not say
        return Answer(quotes_for(article, ids), said=text)

    return answer
