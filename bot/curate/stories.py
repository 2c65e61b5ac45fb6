"""One event told by several outlets becomes one digest item; items are ranked by importance.

Two reports are of one event when they agree on who, what, where and when: the same names,
the same figures (normalized: "$13.7bn" is "$13.7 billion"), the same words. Reports on one
topic share most of their words ("World Cup final", "France", "4-2"), so a topic is not an
event. What tells events apart:

* each article is compared on three things (its words, its names and its figures), each
  weighted by how rare it is in the batch (TF-IDF), and the three similarities averaged;
  between two languages, whose words differ, what they say alike stands in for the words:
  event types and countries as shared concepts ("Erdbeben" and "earthquake", "Turchia" and
  "Turkey": bot/text/concepts.py) and years;
* reports are grouped by average linkage: a report joins a group only when it resembles the
  group as a whole, so one near twin cannot chain two events together (the 2018 and 2022
  finals share a score, but Argentina, Messi and Lusail are in one group and not the other);
* a group whose leads agree on a figure (two or more reports put "970,000 subscribers" or
  "magnitude 6.8" in their headline or first sentence) does not join a group that never
  mentions it: serial events (two quarters, two rate decisions) differ exactly there.

A false merge hides a story, a miss only repeats one, so the threshold favours precision.
Measured on real reports from many outlets with same-topic distractors (`make bench`).
An inverted index on the rarer terms keeps this near-linear for thousands of articles.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from bot.text.concepts import concepts
from bot.text.names import proper_names
from bot.text.quantities import Quantity, quantities
from bot.text.sentences import split_sentences
from bot.text.words import base, content_tokens

WINDOW = timedelta(hours=48)
THRESHOLD = 0.24  # average similarity between two groups for them to be one event
MAX_POSTINGS = 200  # a term in more articles than this names no particular story
NAME_WEIGHT = FIGURE_WEIGHT = 0.5  # beside the words (1.0)
WORDS_ALONE = 0.3  # without a figure in common, the words must agree this much: one town or
# one hospital named in two short reports is not one event
ACROSS_LANGUAGES = 0.8  # two languages share names, figures and concepts only: some of it
# is chance
_TRIVIAL = 10  # whole numbers below this are counts of anything ("two people", "6 a.m.")


@dataclass(frozen=True)
class StoryItem:
    article_id: int
    title: str
    lead: str  # the opening of the article (about its first 150 words)
    outlet: str
    url: str | None
    published: datetime | None
    words: int  # how full this version is
    language: str = "en"  # across languages only names and figures are compared


@dataclass
class Story:
    items: list[StoryItem] = field(default_factory=list)

    @property
    def shown(self) -> StoryItem:
        """The fullest version is summarized; the others are named with their links."""
        return max(self.items, key=lambda i: (i.words, -i.article_id))

    @property
    def others(self) -> list[StoryItem]:
        shown = self.shown
        return [i for i in self.items if i is not shown]

    @property
    def outlets(self) -> int:
        return len({i.outlet for i in self.items})

    @property
    def newest(self) -> datetime | None:
        times = [i.published for i in self.items if i.published]
        return max(times) if times else None


@dataclass(frozen=True)
class Signature:
    """What a report says about its event: words, names and figures (years count as words:
    a story mentions many, and the one that dates it is not told apart from the others)."""

    words: Counter[str]
    names: Counter[str]
    figures: Counter[str]
    headline_figures: frozenset[Quantity]  # in the title or first sentence
    all_figures: frozenset[Quantity]
    # what any language says alike: event types and countries as concept ids ("earthquake",
    # "@TR"), and years; compared in place of the words across languages
    neutral: Counter[str] = field(default_factory=Counter)


@lru_cache(maxsize=8192)
def signature(item: StoryItem) -> Signature:
    """What an item says, read once: the same article reaches every channel that follows its
    feed, and each channel's digest groups it again (the item is its own key: same text, same
    signature)."""
    language = base(item.language)
    sentences = split_sentences(item.lead.split("\n\n")[0], language)
    headline = f"{item.title}\n{sentences[0] if sentences else ''}"
    found = quantities(f"{item.title}\n{item.lead}", language)
    figures = [q for q in found if q.kind != "year"]
    years = [q.term for q in found if q.kind == "year"]
    heading = content_tokens(item.title, language)
    lead = content_tokens(item.lead, language)
    heading_words = [stem for _, stem in heading]
    heading_concepts = concepts(item.title, language, heading)
    return Signature(
        words=Counter(heading_words + heading_words + [stem for _, stem in lead] + years),
        names=Counter(proper_names(item.lead, language, title=item.title)),
        figures=Counter(q.term for q in figures),
        headline_figures=frozenset(
            q
            for q in quantities(headline, language)
            if q.kind not in ("year", "date") and not _trivial(q)
        ),
        all_figures=frozenset(figures),
        neutral=Counter(
            heading_concepts + heading_concepts + concepts(item.lead, language, lead) + years
        ),
    )


def _trivial(quantity: Quantity) -> bool:
    return quantity.kind == "number" and quantity.value < _TRIVIAL and quantity.value.is_integer()


def _weighted(bags: Sequence[Counter[str]]) -> tuple[list[dict[str, float]], Counter[str]]:
    """Unit TF-IDF vectors (sublinear counts) and the document frequency of each term."""
    doc_freq: Counter[str] = Counter()
    for bag in bags:
        doc_freq.update(bag.keys())
    n = max(len(bags), 1)
    vectors = []
    for bag in bags:
        w = {t: (1 + math.log(c)) * math.log(1 + n / doc_freq[t]) for t, c in bag.items()}
        norm = math.sqrt(sum(v * v for v in w.values())) or 1.0
        vectors.append({t: v / norm for t, v in w.items()})
    return vectors, doc_freq


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


def similarity_pairs(
    items: Sequence[StoryItem], signatures: Sequence[Signature] | None = None
) -> dict[tuple[int, int], float]:
    """Similarity of every pair (i < j) sharing at least two of the rarer terms."""
    sigs = signatures if signatures is not None else [signature(i) for i in items]
    languages = [base(item.language) for item in items]
    words, names, figures = (
        _weighted([s.words for s in sigs]),
        _weighted([s.names for s in sigs]),
        _weighted([s.figures for s in sigs]),
    )
    several = len(set(languages)) > 1
    neutral = _weighted([s.neutral for s in sigs]) if several else ([{} for _ in sigs], Counter())
    # Dot products are summed term by term from the postings of the rarer terms (the pairs
    # that share none are never looked at); the few common terms, left out of the postings,
    # are added per pair from each item's short list of them. Neutral terms only count
    # between two languages (within one, the words say the same).
    postings: defaultdict[str, list[tuple[int, float]]] = defaultdict(list)
    common: tuple[list[dict[str, float]], ...] = ([], [], [], [])
    for space, (space_vectors, doc_freq) in enumerate((words, names, figures, neutral)):
        for i, vec in enumerate(space_vectors):
            common[space].append({})
            for term, weight in vec.items():
                if doc_freq[term] <= MAX_POSTINGS:
                    postings["wnfc"[space] + term].append((i, weight))
                else:
                    common[space][i][term] = weight
    shared: Counter[tuple[int, int]] = Counter()
    dots: tuple[defaultdict[tuple[int, int], float], ...] = (
        defaultdict(float),
        defaultdict(float),
        defaultdict(float),
        defaultdict(float),
    )
    for key, members in postings.items():
        dot = dots["wnfc".index(key[0])]
        across = key[0] == "c"
        for x in range(len(members)):
            i, wi = members[x]
            for y in range(x + 1, len(members)):
                j, wj = members[y]
                if across and languages[i] == languages[j]:
                    continue
                shared[(i, j)] += 1
                dot[(i, j)] += wi * wj

    vectors = (words[0], names[0], figures[0], neutral[0])

    def cosine(space: int, i: int, j: int) -> float:
        few = common[space][i]
        return dots[space].get((i, j), 0.0) + (_cosine(few, vectors[space][j]) if few else 0.0)

    pairs: dict[tuple[int, int], float] = {}
    for (i, j), count in shared.items():
        if count < 2:
            continue
        # across languages the concepts, countries and years stand in for the words
        # ("Macron", "Le Pen" and "58,5 %" read the same in French; "élection" is "election")
        by_words = cosine(0 if languages[i] == languages[j] else 3, i, j)
        by_names = cosine(1, i, j)
        by_figures = cosine(2, i, j)
        if by_words < WORDS_ALONE and not by_figures:
            continue
        if languages[i] != languages[j] and not (by_names or by_figures):
            continue  # concepts alone name a topic ("a president agrees a deal"), not an event
        total = (
            1.0
            + NAME_WEIGHT * bool(names[0][i] and names[0][j])
            + FIGURE_WEIGHT * bool(figures[0][i] and figures[0][j])
        )
        score = (by_words + NAME_WEIGHT * by_names + FIGURE_WEIGHT * by_figures) / total
        pairs[(i, j)] = score if languages[i] == languages[j] else ACROSS_LANGUAGES * score
    return pairs


class _Groups:
    """Average-linkage clustering over sparse similarities, with the rules of one event."""

    def __init__(self, items: Sequence[StoryItem], sigs: Sequence[Signature], window: timedelta):
        self.items, self.sigs, self.window = items, sigs, window
        self.members: dict[int, list[int]] = {k: [k] for k in range(len(items))}
        self.links: dict[int, dict[int, float]] = defaultdict(dict)  # summed similarities
        self.version = [0] * len(items)

    def link(self, i: int, j: int, score: float) -> None:
        self.links[i][j] = self.links[j][i] = score

    def average(self, a: int, b: int) -> float:
        return self.links[a].get(b, 0.0) / (len(self.members[a]) * len(self.members[b]))

    def may_join(self, a: int, b: int) -> bool:
        ma, mb = self.members[a], self.members[b]
        if {self.items[k].outlet for k in ma} & {self.items[k].outlet for k in mb}:
            return False  # a story has one version per outlet
        times = [t for k in ma + mb if (t := self.items[k].published) is not None]
        if times and max(times) - min(times) > self.window:
            return False
        if self._headlines_disagree(ma, mb):
            return False
        return not (self._lacks_key_figure(ma, mb) or self._lacks_key_figure(mb, ma))

    def _headlines_disagree(self, ma: list[int], mb: list[int]) -> bool:
        """Each side's headlines give figures and the other side mentions none of them."""
        heads_a = [q for k in ma for q in self.sigs[k].headline_figures]
        heads_b = [q for k in mb for q in self.sigs[k].headline_figures]
        if not heads_a or not heads_b:
            return False
        all_a = [q for k in ma for q in self.sigs[k].all_figures]
        all_b = [q for k in mb for q in self.sigs[k].all_figures]
        return not any(q.matches(m) for q in heads_a for m in all_b) and not any(
            q.matches(m) for q in heads_b for m in all_a
        )

    def _lacks_key_figure(self, group: list[int], other: list[int]) -> bool:
        """`group` agrees on a headline figure that `other` never mentions (one way is enough:
        a later event's reports recall the earlier one's figures, not the other way round)."""
        if len(group) < 2 or len(other) < 2:
            return False
        counts = Counter(q for k in group for q in self.sigs[k].headline_figures)
        mentioned = [q for k in other for q in self.sigs[k].all_figures]
        return any(
            n >= 2 and 2 * n >= len(group) and not any(q.matches(m) for m in mentioned)
            for q, n in counts.items()
        )

    def merge(self, a: int, b: int) -> None:
        self.members[a] += self.members.pop(b)
        for c, s in self.links.pop(b, {}).items():
            del self.links[c][b]
            if c != a:
                total = self.links[a].get(c, 0.0) + s
                self.link(a, c, total)
        self.links[a].pop(a, None)
        self.version[a] += 1

    def entries(self, a: int) -> Iterable[tuple[float, int, int, int, int]]:
        for c in self.links[a]:
            yield (-self.average(a, c), a, c, self.version[a], self.version[c])


def group_stories(items: Sequence[StoryItem], window: timedelta = WINDOW) -> list[Story]:
    if len(items) < 2:  # nothing to compare: a channel with one new article reads none
        return [Story([item]) for item in items]
    sigs = [signature(i) for i in items]
    groups = _Groups(items, sigs, window)
    for (i, j), score in similarity_pairs(items, sigs).items():
        groups.link(i, j, score)
    heap = [entry for a in list(groups.links) for entry in groups.entries(a) if entry[1] < entry[2]]
    heapq.heapify(heap)
    while heap:
        negative, a, b, va, vb = heapq.heappop(heap)
        if -negative < THRESHOLD:
            break
        if a not in groups.members or b not in groups.members:
            continue
        if (va, vb) != (groups.version[a], groups.version[b]):
            continue  # stale: either group changed since
        if not groups.may_join(a, b):
            continue  # until either changes (then it comes back with a new version)
        groups.merge(a, b)
        for entry in groups.entries(a):
            heapq.heappush(heap, entry)
    stories = []
    for members in groups.members.values():
        stories.append(Story([items[k] for k in sorted(members)]))
    return stories


def rank_stories(stories: Sequence[Story]) -> list[Story]:
    """Most outlets first (what everyone reports matters most), then the newest."""
    epoch = datetime.min.replace(tzinfo=None)

    def key(story: Story) -> tuple[int, float, int]:
        newest = story.newest
        stamp = newest.timestamp() if newest else epoch.toordinal()
        return (-story.outlets, -stamp, -story.shown.article_id)

    return sorted(stories, key=key)
