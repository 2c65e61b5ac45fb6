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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from bot.models import Article, Bullet, Digest, Paragraph, Section, SectionDigest, Sentence
from bot.summarize.base import DEFAULT_SECTION_BULLETS, DEFAULT_SUMMARY_BULLETS
from bot.summarize.standalone import (
    announcement,
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
    return _worthy(sentence.text, sentence.truncated, language)


@lru_cache(maxsize=512)  # one article's sentences, asked about by each ranking pass
def _worthy(text: str, truncated: bool, language: str) -> bool:
    if truncated or text.endswith(_UNFINISHED):
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
    if announcement(text, language) is not None:
        return False  # "Kim has two urgent concerns.": what follows is the bullet
    lowered = text.lower()
    return not (any(k in lowered for k in _JUNK_KEYWORDS) and _JUNK_ANYWHERE.search(text))


@dataclass(frozen=True)
class Announcement:
    sentence: Sentence  # "Kim has two urgent concerns as he heads to the summit."
    items: tuple[Sentence, ...]  # the sentences that tell them


Announced = Mapping[int, Announcement]  # by the announcing sentence's id
ANNOUNCED_MAX_ITEMS = 4
JOINED_MAX_WORDS = 70  # an announcement joined with its items stays one readable bullet


def announced_items(
    paragraphs: Sequence[Paragraph], language: str = "en"
) -> dict[int, Announcement]:
    """What each announcing sentence announces: the next sentences of its paragraph, or, when
    it ends its paragraph ("Kim has two urgent concerns as he heads to the summit."), the
    first sentence of each of the paragraphs that follow, as many as it counts (two when it
    does not say)."""
    found: dict[int, Announcement] = {}
    for p, paragraph in enumerate(paragraphs):
        for n, sentence in enumerate(paragraph.sentences):
            count = announcement(sentence.text, language)
            if count is None:
                continue
            wanted = min(count or 2, ANNOUNCED_MAX_ITEMS)
            if n + 1 < len(paragraph.sentences):
                items = paragraph.sentences[n + 1 : n + 1 + wanted]
            else:
                following = paragraphs[p + 1 : p + 1 + wanted]
                items = tuple(q.sentences[0] for q in following if q.sentences)
            if items:
                found[sentence.id] = Announcement(sentence, tuple(items))
    return found


def rank_sentences(
    sentences: Sequence[Sentence],
    k: int,
    settings: RankerWeights = RankerWeights(),
    language: str = "en",
    announced: Announced | None = None,
) -> list[Sentence]:
    """Choose up to k sentences, returned in reading order."""
    if k <= 0:
        return []
    scored, vectors, eligible = _score(sentences, settings, language, announced)
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
    announced: Announced | None = None,
) -> list[Sentence]:
    """The bullet-worthy sentences, best first (no redundancy control)."""
    scored, _, _ = _score(sentences, settings, language, announced)
    return [sentences[i] for _, i in scored]


def _reading_order(sentences: Sequence[Sentence], announced: Announced | None) -> list[int]:
    """Positions, with what a sentence announces moved up to where it is announced: the
    announcement's place in the story is theirs."""
    if not announced:
        return list(range(len(sentences)))
    index = {s.id: i for i, s in enumerate(sentences)}
    order: list[int] = []
    placed: set[int] = set()
    for i, sentence in enumerate(sentences):
        told = announced[sentence.id].items if sentence.id in announced else ()
        for j in [index[t.id] for t in told if t.id in index] + [i]:
            if j not in placed:
                placed.add(j)
                order.append(j)
    return order


def _score(
    sentences: Sequence[Sentence],
    settings: RankerWeights,
    language: str = "en",
    announced: Announced | None = None,
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
    order = _reading_order(sentences, announced)
    eligible = [i for i in order if is_bullet_worthy(sentences[i], language)] or [
        i
        for i in order
        if not sentences[i].truncated
        and _sentence_words(sentences[i].text, language) >= 3
        and not (language in CJK and len(sentences[i].text) > MAX_CJK_CHARS)
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
    # articles one summarize worker call may take (`DigestCache`): each is milliseconds of
    # CPU, less than a worker's hop and a save statement of its own cost the event loop
    batch = 16

    def __init__(self, settings: RankerWeights | None = None) -> None:
        self.settings = settings or RankerWeights()

    def summarize(
        self,
        article: Article,
        summary_bullets: int = DEFAULT_SUMMARY_BULLETS,
        section_bullets: int = DEFAULT_SECTION_BULLETS,
    ) -> Digest:
        summary = summary_groups(article, summary_bullets, self.settings)
        language = base(article.language)
        sections = tuple(
            SectionDigest(
                id=section.id,
                index=section.index,
                heading=section.heading,
                titled=section.titled,
                bullets=tuple(
                    group_bullet(g)
                    for g in ranked_groups(
                        section.sentences,
                        section_bullets,
                        self.settings,
                        language,
                        announced_items(section.paragraphs, language),
                    )
                ),
            )
            for section in article.sections
        )
        return Digest(
            article=article,
            summary=tuple(group_bullet(g) for g in summary),
            sections=sections,
            summarizer=self.name,
        )


Group = tuple[Sentence, ...]  # one bullet: a sentence, or an announcement with what it announces


def ranked_groups(
    sentences: Sequence[Sentence],
    k: int,
    settings: RankerWeights = RankerWeights(),
    language: str = "en",
    announced: Announced | None = None,
) -> list[Group]:
    """Up to k bullets in reading order; an announced item comes with its announcement when
    the two read as one bullet ("Kim has two urgent concerns…: X. Y.")."""
    groups: list[Group] = []
    for extra in range(3):  # a joined bullet takes several sentences: choose a few more
        chosen = rank_sentences(sentences, k + extra, settings, language, announced)
        groups = joined(chosen, announced or {}, language)
        if len(groups) >= k or len(chosen) < k + extra:
            break
    return groups[:k]


def joined(chosen: Sequence[Sentence], announced: Announced, language: str = "en") -> list[Group]:
    """The chosen sentences as bullets: each announced item with its announcement and the
    other items (all of them, or the item alone when together they are too long to read)."""
    owner = {item.id: a for a in announced.values() for item in a.items}
    groups: list[Group] = []
    used: set[int] = set()
    for sentence in sorted(chosen, key=lambda x: x.id):
        if sentence.id in used:
            continue
        hit = owner.get(sentence.id)
        if hit is not None:
            group = (hit.sentence, *hit.items)
            words = sum(_sentence_words(g.text, language) for g in group)
            if words <= JOINED_MAX_WORDS and not any(g.id in used for g in group[1:]):
                groups.append(group)
                used.update(g.id for g in group)
                continue
        groups.append((sentence,))
        used.add(sentence.id)
    return groups


def bullet_text(sentence: Sentence) -> str:
    """The sentence as a bullet: without a connective that points back to what came before."""
    return without_connective(sentence.text) or sentence.text


def group_text(group: Group) -> str:
    """One sentence as a bullet, or an announcement and what it announces as one:
    "Kim has two urgent concerns as he heads to the summit: X. Y." """
    if len(group) == 1:
        return bullet_text(group[0])
    head = group[0].text.rstrip()
    if head.endswith((".", "。")):
        head = head[:-1]
    opener = head if head.endswith((":", "：")) else head + ":"
    return " ".join([opener, *(bullet_text(s) for s in group[1:])])


def group_bullet(group: Group) -> Bullet:
    return Bullet(text=group_text(group), sentence_ids=tuple(s.id for s in group))


COVERAGE_MIN_WORDS = 250  # shorter articles tell one story: the lead is the summary
COVERAGE_MAX_BULLETS = 5
COVERAGE_BUDGET = 0.18  # of the article's words
COVERAGE_MIN_BUDGET = 70


def summary_sentences(
    article: Article, k: int, settings: RankerWeights = RankerWeights()
) -> list[Sentence]:
    """The sentences of the summary, in reading order (see `summary_groups`)."""
    return [s for group in summary_groups(article, k, settings) for s in group]


def summary_groups(
    article: Article, k: int, settings: RankerWeights = RankerWeights()
) -> list[Group]:
    """The summary: the lead for a one-part story; for a sectioned article, the lead plus the
    central sentence of its most important other sections, within a word budget.

    A sectioned feature puts its news after the opening ("Why now?", "What it means"); a
    lead-only summary would leave those out. A section that announces its points ("Kim has
    two urgent concerns") is covered by the points, with the announcement when they fit."""
    language = base(article.language)
    announced = {
        key: value
        for section in article.sections
        for key, value in announced_items(section.paragraphs, language).items()
    }

    def _words(group: Group) -> int:
        """What a bullet costs of the summary's budget: an announcement joined with its
        points costs what its first point would alone (the section is told either way)."""
        point = group[1] if len(group) > 1 else group[0]
        return _sentence_words(point.text, language)

    parts = [s for s in article.sections if _substantive(s, language)]
    words = sum(_sentence_words(s.text, language) for s in article.sentences)
    if len(parts) < 2 or words < COVERAGE_MIN_WORDS or k < 2:
        return ranked_groups(article.sentences, k, settings, language, announced)
    lead = ranked_groups(parts[0].sentences, 1, settings, language, announced)
    if not lead:
        return ranked_groups(article.sentences, k, settings, language, announced)
    vectors = {s.id: Counter(content_words(s.text, language)) for s in article.sentences}
    centroid = _centroid(list(vectors.values()))
    centroid_norm = _norm(centroid)
    mean_words = words / len(parts)
    within = replace(settings, position_decay=0.3, centrality_weight=0.8)
    candidates: list[tuple[float, list[Group]]] = []
    for section in parts[1:]:
        # the point, not the opener; with what announced it, when the two read as one
        best = best_first(section.sentences, within, language, announced)[:3]
        if not best:
            continue
        options = [joined([s], announced, language)[0] for s in best] + [(s,) for s in best]
        weights = {w: float(c) for w, c in vectors[best[0].id].items()}
        centrality = _cosine(weights, centroid, centroid_norm)
        size = min(
            sum(_sentence_words(s.text, language) for s in section.sentences) / mean_words, 2.0
        )
        candidates.append((centrality + 0.25 * size, options))
    limit = max(k, min(1 + len(candidates), COVERAGE_MAX_BULLETS))
    budget = max(COVERAGE_BUDGET * words, COVERAGE_MIN_BUDGET)
    chosen = [lead[0]]
    used = _words(lead[0])

    def repeats(group: Group) -> bool:
        return any(
            _overlap(vectors[s.id], vectors[c.id]) > settings.redundancy_threshold
            for s in group
            for g in chosen
            for c in g
            if s.id != c.id
        ) or any(s.id == c.id for s in group for g in chosen for c in g)

    for _, options in sorted(candidates, key=lambda c: -c[0]):
        if len(chosen) == limit:
            break
        # over budget, the section's next-best shorter sentence still covers it
        fits = [g for g in options if used + _words(g) <= budget]
        if len(chosen) < 2 and not fits:
            fits = options[:1]
        group = next((g for g in fits if not repeats(g)), None)
        if group is not None:
            chosen.append(group)
            used += _words(group)
    if len(chosen) < k:  # sections that only repeat the lead: fill from the whole article
        for sentence in rank_sentences(article.sentences, k + len(chosen), settings, language):
            if len(chosen) == k:
                break
            if not repeats((sentence,)):
                chosen.append((sentence,))
    return sorted(chosen, key=lambda g: g[0].id)


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
