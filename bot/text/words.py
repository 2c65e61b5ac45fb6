"""Word-level helpers: tokens, stopwords and a light stemmer, all dependency-free and fast."""

from __future__ import annotations

import re
from functools import lru_cache

STOPWORDS = frozenset(
    """a about above after again against all almost also although always am among an and any
    are around as at be became because been before being below between both but by can cannot
    could did do does doing done down during each either else even ever every few for from
    further get gets got had has have having he her here hers herself him himself his how
    however i if in into is it its itself just last least less like made make many may me might
    more most much must my myself never new no nor not now of off often on once one only or
    other others our ours ourselves out over own per perhaps put quite rather really said same
    say says see seen several she should since so some still such than that the their theirs
    them themselves then there these they thing things this those though through thus to too
    told toward towards under until up upon us very via was we well were what whatever when
    where whether which while who whom whose why will with within without would year years yet
    you your yours yourself yourselves mr mrs ms s t don didn doesn isn wasn weren won wouldn
    couldn shouldn ve ll re d m also just another took take taken including according two three
    first second""".split()
)

_CLITICS = frozenset({"s", "t", "re", "ve", "ll", "d", "m"})
_TOKEN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_SUFFIXES = ("ational", "ations", "ation", "ments", "ment", "ness", "ings", "ing", "ies", "ied",
             "edly", "ers", "ed", "es", "er", "ly", "s")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A deliberately crude suffix stripper: good enough to match "sanction"/"sanctions"."""
    word = word.replace("’", "'")
    if "'" in word:
        head, _, tail = word.partition("'")
        word = head if tail in _CLITICS else head + tail
    if len(word) <= 4:
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if suffix == "ies" or suffix == "ied":
                word += "y"
            break
    return word


def content_words(text: str) -> list[str]:
    """Stemmed non-stopword tokens: the unit of similarity and keyword scoring."""
    return [stem(t) for t in tokens(text) if t not in STOPWORDS and not t.isdigit() and len(t) > 1]
