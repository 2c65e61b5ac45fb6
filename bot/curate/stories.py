"""One story told by several outlets becomes one digest item; items are ranked by importance.

Detection works on content: TF-IDF over each article's title and lead, with numbers and
names counting double (they are what two reports of one event share and two stories on
one topic do not). Two articles join only when they come from different outlets, were
published within the window of each other, and are similar above a threshold chosen so
that a false merge stays rarer than a miss: merging two different stories hides one.
An inverted index on the rarer terms keeps this near-linear for thousands of articles.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.text.words import content_words

WINDOW = timedelta(hours=48)
THRESHOLD = 0.30  # with a number in common (a vote count, a sum, an age)
THRESHOLD_WITHOUT_NUMBER = 0.55  # words alone must agree much more
_NUMBER = re.compile(r"\b\d[\d,.]*\b")
_NUMBER_WORDS = {
    w: str(n)
    for n, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
        ]
    )
} | {"twenty": "20", "thirty": "30", "forty": "40", "fifty": "50", "hundred": "100"}
_WORD = re.compile(r"[a-z]+")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")
MAX_POSTINGS = 200  # a term in more articles than this names no particular story


@dataclass(frozen=True)
class StoryItem:
    article_id: int
    title: str
    lead: str  # the first sentences
    outlet: str
    url: str | None
    published: datetime | None
    words: int  # how full this version is
    language: str = "en"  # only reports in the same language are compared


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


def features(item: StoryItem) -> Counter[str]:
    text = f"{item.title}. {item.title}. {item.lead}"  # the headline says what the story is
    terms = Counter(content_words(text, item.language))
    for number in _NUMBER.findall(text):
        terms["#" + number.replace(",", "").rstrip(".")] += 2
    for word in _WORD.findall(text.lower()):
        if word in _NUMBER_WORDS:
            terms["#" + _NUMBER_WORDS[word]] += 2
    for name in _NAME.findall(text):
        terms["@" + name.lower()] += 2
    return terms


def similarity_pairs(items: Sequence[StoryItem]) -> list[tuple[float, int, int, bool]]:
    """(cosine, i, j, a number in common) for the pairs sharing some rarer terms."""
    vectors = [features(i) for i in items]
    doc_freq: Counter[str] = Counter()
    for vec in vectors:
        doc_freq.update(vec.keys())
    n = max(len(items), 1)
    weighted = []
    for vec in vectors:
        w = {t: c * math.log(1 + n / doc_freq[t]) for t, c in vec.items()}
        norm = math.sqrt(sum(v * v for v in w.values())) or 1.0
        weighted.append({t: v / norm for t, v in w.items()})
    postings: defaultdict[str, list[int]] = defaultdict(list)
    for i, vec in enumerate(vectors):
        for term in vec:
            if doc_freq[term] <= MAX_POSTINGS:
                postings[term].append(i)
    shared: Counter[tuple[int, int]] = Counter()
    for members in postings.values():
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                shared[(members[x], members[y])] += 1
    pairs: list[tuple[float, int, int, bool]] = []
    for (i, j), count in shared.items():
        if count < 2:
            continue
        a, b = weighted[i], weighted[j]
        if len(a) > len(b):
            a, b = b, a
        number = any(t.startswith("#") and t in vectors[j] for t in vectors[i])
        pairs.append((sum(v * b.get(t, 0.0) for t, v in a.items()), i, j, number))
    return pairs


def group_stories(items: Sequence[StoryItem], window: timedelta = WINDOW) -> list[Story]:
    parent = list(range(len(items)))
    outlets = {k: {item.outlet} for k, item in enumerate(items)}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for score, i, j, number in sorted(similarity_pairs(items), reverse=True):
        if score < THRESHOLD:
            break
        if not number and score < THRESHOLD_WITHOUT_NUMBER:
            continue
        a, b = items[i], items[j]
        if a.outlet == b.outlet:
            continue  # one outlet's two articles are two stories (or a correction)
        if a.language.split("-")[0] != b.language.split("-")[0]:
            continue  # shared names and numbers across languages are no proof of one event
        if a.published and b.published and abs(a.published - b.published) > window:
            continue
        root_i, root_j = find(i), find(j)
        if root_i == root_j:
            continue
        if outlets[root_i] & outlets[root_j]:
            continue  # a story has one version per outlet
        parent[root_j] = root_i
        outlets[root_i] |= outlets.pop(root_j)
    groups: defaultdict[int, Story] = defaultdict(Story)
    for k, item in enumerate(items):
        groups[find(k)].items.append(item)
    return list(groups.values())


def rank_stories(stories: Sequence[Story]) -> list[Story]:
    """Most outlets first (what everyone reports matters most), then the newest."""
    epoch = datetime.min.replace(tzinfo=None)

    def key(story: Story) -> tuple[int, float, int]:
        newest = story.newest
        stamp = newest.timestamp() if newest else epoch.toordinal()
        return (-story.outlets, -stamp, -story.shown.article_id)

    return sorted(stories, key=key)
