"""The default summarizer: offline, deterministic, a few milliseconds an article.

News puts its facts first, so position is the strongest signal; what Lead-3 gets
wrong is the junk and the weak sentences it takes blindly (bylines, captions,
questions, teasers, quotes without context). The ranker keeps the position prior,
adds centrality against the article's own word distribution, drops sentences no
reader wants as a bullet, and refuses near-duplicates.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.models import Article, Bullet, Digest, Section, SectionDigest, Sentence
from bot.summarize.base import DEFAULT_SECTION_BULLETS, DEFAULT_SUMMARY_BULLETS
from bot.summarize.standalone import (
    is_boilerplate_sentence,
    opens_with_pronoun,
    without_connective,
)
from bot.text.words import CJK, base, content_words, word_count

_JUNK_START = re.compile(
    r"""(?:by\s|photo|image|picture|video|file\s+photo|caption|credit|source:|editor'?s\s+note|
    click\s|scroll\s|read\s+more|see\s+also|related:|watch:|listen:|follow\s|sign\s+up|subscribe|
    (?:last\s+)?(?:updated|published|posted|modified)\b|copyright|©|all\s+rights|advertisement|
    share\s+this|email\s+this|this\s+(?:article|story)\s+(?:was|has\s+been|originally))""",
    re.IGNORECASE | re.VERBOSE,
)
_JUNK_ANYWHERE = re.compile(
    r"""scroll\s+down\s+for|click\s+here|(?:\bcnn|\bap|associated\s+press|reuters)\s+contributed
    |getty\s+images?\s*$|pictured\s*:|\(pictured\)\s*$
    |,\s*(?:left|right|centre|center|above|below|top|bottom|far\s+left|far\s+right)\s*[,.]""",
    re.IGNORECASE | re.VERBOSE,
)
_JUNK_KEYWORDS = (
    "scroll",
    "click",
    "contributed",
    "getty",
    "pictured",
    "left",
    "right",
    "centre",
    "center",
    "above",
    "below",
    "top",
    "bottom",
)
_MIN_WORDS = 6
_MAX_WORDS = 60
_MAX_CHARS = 400
MAX_CJK_CHARS = 200  # a Chinese or Japanese bullet longer than this is a paragraph, not a sentence
_UNFINISHED = (":", "?", ",", ";", "：", "？", "，", "；", "、")


@dataclass(frozen=True)
class RankerWeights:
    """The few knobs of the ranker; defaults were measured on news, not fitted to one article."""

    position_weight: float = 1.0
    position_decay: float = 0.5
    centrality_weight: float = 0.4
    short_penalty: float = 0.2
    redundancy_threshold: float = 0.55
    lead_sentences: int = 2  # the lead restates names on purpose: only near-copies count as repeats
    lead_redundancy: float = 0.8


def is_bullet_worthy(sentence: Sentence, language: str = "en") -> bool:
    """A sentence a reader would accept as a bullet on its own."""
    text = sentence.text
    if sentence.truncated or text.endswith(_UNFINISHED):
        return False
    if language in CJK and len(text) > MAX_CJK_CHARS:
        return False
    words = _sentence_words(text, language)
    if words < _MIN_WORDS - 1 or words > _MAX_WORDS * 2:
        return False
    if _JUNK_START.match(text) or is_boilerplate_sentence(text):
        return False
    if without_connective(text) is None:
        return False  # "And so it goes.": nothing left once the connective is dropped
    lowered = text.lower()
    return not (any(k in lowered for k in _JUNK_KEYWORDS) and _JUNK_ANYWHERE.search(text))


def rank_sentences(
    sentences: Sequence[Sentence],
    k: int,
    settings: RankerWeights = RankerWeights(),
    language: str = "en",
) -> list[Sentence]:
    """Choose up to k sentences, returned in reading order."""
    if k <= 0:
        return []
    scored, vectors, eligible = _score(sentences, settings, language)
    lead = set(eligible[: settings.lead_sentences])
    banned: set[int] = set()
    while True:
        chosen = _select(scored, vectors, sentences, k, lead, banned, settings)
        first = min(chosen, default=None)
        if first is None or not opens_with_pronoun(sentences[first].text):
            return [sentences[i] for i in sorted(chosen)]
        if len(banned) >= 3 or len(banned) + k >= len(scored):
            return [sentences[i] for i in sorted(chosen)]  # nothing better to open with
        banned.add(first)  # a first bullet "He said…" names nobody: open with another


def best_first(
    sentences: Sequence[Sentence],
    settings: RankerWeights = RankerWeights(),
    language: str = "en",
) -> list[Sentence]:
    """The bullet-worthy sentences, best first (no redundancy control)."""
    scored, _, _ = _score(sentences, settings, language)
    return [sentences[i] for _, i in scored]


def _score(
    sentences: Sequence[Sentence], settings: RankerWeights, language: str = "en"
) -> tuple[list[tuple[float, int]], list[Counter[str]], list[int]]:
    vectors = [Counter(content_words(s.text, language)) for s in sentences]
    doc_freq: Counter[str] = Counter()
    for vec in vectors:
        doc_freq.update(vec.keys())
    n = len(sentences)
    idf = {w: math.log(1 + n / df) for w, df in doc_freq.items()}
    weighted = [{w: c * idf[w] for w, c in vec.items()} for vec in vectors]
    centroid: dict[str, float] = {}
    for weights in weighted:
        for word, value in weights.items():
            centroid[word] = centroid.get(word, 0.0) + value
    centroid_norm = _norm(centroid)
    eligible = [i for i, s in enumerate(sentences) if is_bullet_worthy(s, language)] or [
        i
        for i, s in enumerate(sentences)
        if not s.truncated
        and _sentence_words(s.text, language) >= 3
        and not (language in CJK and len(s.text) > MAX_CJK_CHARS)
    ]
    scored: list[tuple[float, int]] = []
    for rank, i in enumerate(eligible):
        sentence = sentences[i]
        position = math.exp(-settings.position_decay * rank)
        centrality = _cosine(weighted[i], centroid, centroid_norm)
        words = _sentence_words(sentence.text, language)
        length = 1.0 if words >= _MIN_WORDS * 2 else 1.0 - settings.short_penalty
        score = (
            settings.position_weight * position + settings.centrality_weight * centrality
        ) * length
        scored.append((score, i))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return scored, vectors, eligible


def _select(
    scored: list[tuple[float, int]],
    vectors: list[Counter[str]],
    sentences: Sequence[Sentence],
    k: int,
    lead: set[int],
    banned: set[int],
    settings: RankerWeights,
) -> list[int]:
    chosen: list[int] = []
    for _, i in scored:
        if i in banned:
            continue
        limit = settings.lead_redundancy if i in lead else settings.redundancy_threshold
        twin = next((j for j in chosen if _overlap(vectors[i], vectors[j]) > limit), None)
        if twin is None:
            chosen.append(i)
        elif _elaborates(vectors[i], vectors[twin]) and len(sentences[i].text) <= _MAX_CHARS:
            chosen[chosen.index(twin)] = i  # same fact, told more fully: keep the fuller one
        if len(chosen) == k:
            break
    return chosen


def _elaborates(longer: Counter[str], shorter: Counter[str]) -> bool:
    """True when one sentence repeats nearly all of another and adds as much again."""
    return sum((longer & shorter).values()) >= 0.8 * sum(shorter.values()) and sum(
        longer.values()
    ) >= 1.6 * sum(shorter.values())


def _norm(vec: dict[str, float]) -> float:
    return math.sqrt(sum(v * v for v in vec.values())) or 1.0


def _cosine(vec: dict[str, float], centroid: dict[str, float], centroid_norm: float) -> float:
    dot = sum(v * centroid.get(w, 0.0) for w, v in vec.items())
    return dot / (_norm(vec) * centroid_norm)


def _overlap(a: Counter[str], b: Counter[str]) -> float:
    """Share of the shorter sentence's words that the other one repeats."""
    if not a or not b:
        return 0.0
    common = sum((a & b).values())
    return common / min(sum(a.values()), sum(b.values()))


class ExtractiveSummarizer:
    """Picks the article's own sentences, so every bullet is traceable and nothing is invented."""

    name = "extractive"

    def __init__(self, settings: RankerWeights | None = None) -> None:
        self.settings = settings or RankerWeights()

    def summarize(
        self,
        article: Article,
        summary_bullets: int = DEFAULT_SUMMARY_BULLETS,
        section_bullets: int = DEFAULT_SECTION_BULLETS,
    ) -> Digest:
        summary = summary_sentences(article, summary_bullets, self.settings)
        language = base(article.language)
        sections = tuple(
            SectionDigest(
                id=section.id,
                index=section.index,
                heading=section.heading,
                titled=section.titled,
                bullets=tuple(
                    _bullet(s)
                    for s in rank_sentences(
                        section.sentences, section_bullets, self.settings, language
                    )
                ),
            )
            for section in article.sections
        )
        return Digest(
            article=article,
            summary=tuple(_bullet(s) for s in summary),
            sections=sections,
            summarizer=self.name,
        )


def bullet_text(sentence: Sentence) -> str:
    """The sentence as a bullet: without a connective that points back to what came before."""
    return without_connective(sentence.text) or sentence.text


def _bullet(sentence: Sentence) -> Bullet:
    return Bullet(text=bullet_text(sentence), sentence_ids=(sentence.id,))


COVERAGE_MIN_WORDS = 250  # shorter articles tell one story: the lead is the summary
COVERAGE_MAX_BULLETS = 5
COVERAGE_BUDGET = 0.18  # of the article's words
COVERAGE_MIN_BUDGET = 70


def summary_sentences(
    article: Article, k: int, settings: RankerWeights = RankerWeights()
) -> list[Sentence]:
    """The summary: the lead for a one-part story; for a sectioned article, the lead plus the
    central sentence of its most important other sections, within a word budget.

    A sectioned feature puts its news after the opening ("Why now?", "What it means"); a
    lead-only summary would leave those out."""
    language = base(article.language)

    def _words(sentence: Sentence) -> int:
        return _sentence_words(sentence.text, language)

    parts = [s for s in article.sections if _substantive(s, language)]
    words = sum(_words(s) for s in article.sentences)
    if len(parts) < 2 or words < COVERAGE_MIN_WORDS or k < 2:
        return rank_sentences(article.sentences, k, settings, language)
    lead = rank_sentences(parts[0].sentences, 1, settings, language)
    if not lead:
        return rank_sentences(article.sentences, k, settings, language)
    vectors = {s.id: Counter(content_words(s.text, language)) for s in article.sentences}
    centroid = _centroid(list(vectors.values()))
    centroid_norm = _norm(centroid)
    mean_words = words / len(parts)
    within = replace(settings, position_decay=0.3, centrality_weight=0.8)
    candidates: list[tuple[float, list[Sentence]]] = []
    for section in parts[1:]:
        options = best_first(section.sentences, within, language)[:3]  # the point, not the opener
        if not options:
            continue
        weights = {w: float(c) for w, c in vectors[options[0].id].items()}
        centrality = _cosine(weights, centroid, centroid_norm)
        size = min(sum(_words(s) for s in section.sentences) / mean_words, 2.0)
        candidates.append((centrality + 0.25 * size, options))
    limit = max(k, min(1 + len(candidates), COVERAGE_MAX_BULLETS))
    budget = max(COVERAGE_BUDGET * words, COVERAGE_MIN_BUDGET)
    chosen = [lead[0]]
    used = _words(lead[0])

    def repeats(sentence: Sentence) -> bool:
        return any(
            _overlap(vectors[sentence.id], vectors[c.id]) > settings.redundancy_threshold
            for c in chosen
        )

    for _, options in sorted(candidates, key=lambda c: -c[0]):
        if len(chosen) == limit:
            break
        # over budget, the section's next-best shorter sentence still covers it
        fits = [s for s in options if used + _words(s) <= budget]
        if len(chosen) < 2 and not fits:
            fits = options[:1]
        sentence = next((s for s in fits if not repeats(s)), None)
        if sentence is not None:
            chosen.append(sentence)
            used += _words(sentence)
    if len(chosen) < k:  # sections that only repeat the lead: fill from the whole article
        for sentence in rank_sentences(article.sentences, k + len(chosen), settings, language):
            if len(chosen) == k:
                break
            if sentence not in chosen and not repeats(sentence):
                chosen.append(sentence)
    return sorted(chosen, key=lambda s: s.id)


def _substantive(section: Section, language: str = "en") -> bool:
    return sum(1 for s in section.sentences if is_bullet_worthy(s, language)) >= 1 and (
        sum(_sentence_words(s.text, language) for s in section.sentences) >= 25
    )


def _sentence_words(text: str, language: str) -> int:
    """Words in a (whitespace-normalised) sentence; Chinese and Japanese counted by character."""
    if language in CJK:
        return word_count(text)
    return text.count(" ") + 1


def _centroid(vectors: list[Counter[str]]) -> dict[str, float]:
    doc_freq: Counter[str] = Counter()
    for vec in vectors:
        doc_freq.update(vec.keys())
    n = len(vectors)
    centroid: dict[str, float] = {}
    for vec in vectors:
        for word, count in vec.items():
            centroid[word] = centroid.get(word, 0.0) + count * math.log(1 + n / doc_freq[word])
    return centroid
