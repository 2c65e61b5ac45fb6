"""Word-level helpers: tokens, stopwords and a light stemmer, all dependency-free and fast.

The word lists are data (bot/text/lexicon/en/); this module holds the rules that use them."""

from __future__ import annotations

import re
from functools import lru_cache

from bot.text.lexicon import words

STOPWORDS = words("stopwords")

_CLITICS = words("clitics")
_TOKEN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_SUFFIXES = (
    "ational",
    "ations",
    "ation",
    "ments",
    "ment",
    "ness",
    "ings",
    "ing",
    "ies",
    "ied",
    "edly",
    "ers",
    "ed",
    "es",
    "er",
    "ly",
    "s",
)


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


_CONTENT_CACHE: dict[str, str] = {}
_CONTENT_CACHE_MAX = 200_000


def _content_stem(token: str) -> str:
    """The token's stem, or "" for stopwords, numbers and single letters (memoised)."""
    cached = _CONTENT_CACHE.get(token)
    if cached is None:
        if len(_CONTENT_CACHE) > _CONTENT_CACHE_MAX:
            _CONTENT_CACHE.clear()
        keep = token not in STOPWORDS and not token.isdigit() and len(token) > 1
        cached = _CONTENT_CACHE[token] = stem(token) if keep else ""
    return cached


def content_words(text: str) -> list[str]:
    """Stemmed non-stopword tokens: the unit of similarity and keyword scoring."""
    found = _TOKEN.findall(text.lower())
    stems = list(map(_CONTENT_CACHE.get, found))
    if None in stems:
        stems = list(map(_content_stem, found))
    return [s for s in stems if s]


_VERB_BASES = words("verb-bases")
_IRREGULAR = words("verb-irregular")


def _verb_forms(base: str) -> set[str]:
    forms = {base}
    if base.endswith("e"):
        forms |= {base + "s", base + "d", base[:-1] + "ing"}
    elif base.endswith("y") and base[-2:-1] not in "aeiou":
        forms |= {base[:-1] + "ies", base[:-1] + "ied", base + "ing"}
    elif base.endswith(("s", "sh", "ch", "x", "z")):
        forms |= {base + "es", base + "ed", base + "ing"}
    else:
        forms |= {base + "s", base + "ed", base + "ing"}
        if len(base) <= 4 and base[-1] not in "aeiouwxy" and base[-2:-1] in "aeiou":
            forms |= {base + base[-1] + "ed", base + base[-1] + "ing"}  # cut → cutting
    return forms


VERB_FORMS = frozenset(f for b in _VERB_BASES for f in _verb_forms(b)) | frozenset(_IRREGULAR)
"""Common English verb forms in news: a lowercase one inside a phrase ends a noun phrase."""
