"""Proper names in a text: who and where, in scripts that write names with a capital.

A capital does not make a name at the start of a sentence ("Capping off the career…"), in a
headline written in title case, or for the days and months English capitalises; a word the
same text also writes in lower case is a common word. Names are folded (case, accents and a
possessive 's dropped: "Mbappé's" is "mbappe") so that outlets' spellings meet, and a name of
several words also yields its words ("Lionel Messi" → "lionel messi", "lionel", "messi"),
because the second mention is usually the surname alone.

German capitalises every noun: its "names" are its nouns, which still tell stories apart.
Scripts without capitals (Chinese, Japanese, Arabic, Hindi…) have no names here.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

from bot.text.sentences import split_sentences
from bot.text.words import base, stopwords

_TOKEN = re.compile(r"[^\W\d_](?:[\w'’.-]*[^\W_])?")
_POSSESSIVE = re.compile(r"['’]s?$")
_ELISION = re.compile(r"^(?:[ldjmnstc]|qu)['’](?=\w)", re.IGNORECASE)  # l’Élysée, d’Italia
_CONNECTORS = frozenset(
    {"de", "la", "le", "von", "van", "der", "del", "da", "di", "du", "al", "bin"}
)


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower case without accents: "Mbappé" and "MBAPPE" meet."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def proper_names(text: str, language: str | None = "en", title: str = "") -> list[str]:
    """The names in `title` and `text`, folded, each multi-word name followed by its words."""
    code = base(language)
    ignore = stopwords(code) | stopwords("en") | _calendar_words(code)
    sentences = [s for paragraph in text.split("\n") for s in split_sentences(paragraph, code)]
    if title and not _title_case(title):
        sentences.insert(0, title)
    tokens = [
        [_POSSESSIVE.sub("", _ELISION.sub("", t)) for t in _TOKEN.findall(s)] for s in sentences
    ]
    inside = {fold(w) for words in tokens for w in words[1:] if w[:1].isupper()}
    found: list[str] = []
    for sentence, words in zip(sentences, tokens, strict=True):
        found += _names_in(_TOKEN.findall(sentence), words, ignore, inside)
    return found


def _names_in(
    raw: list[str], tokens: list[str], ignore: frozenset[str], inside: set[str]
) -> list[str]:
    """Runs of capitalised words. A sentence's first word alone is a name only when the text
    also capitalises it inside a sentence ("Argentina beat…" after "…against Argentina")."""
    found: list[str] = []
    run: list[str] = []
    starts_sentence = False

    def close() -> None:
        nonlocal starts_sentence
        while run and fold(run[0]) in ignore | _CONNECTORS:
            run.pop(0)
        while run and fold(run[-1]) in _CONNECTORS:
            run.pop()
        if len(run) == 1 and starts_sentence and fold(run[0]) not in inside:
            run.clear()
        if run:
            words = [fold(w) for w in run]
            found.append(" ".join(words))
            if len(words) > 1:  # "Messi" after "Lionel Messi"
                found.extend(
                    w for w in words if len(w) > 2 and w not in ignore and w not in _CONNECTORS
                )
        run.clear()
        starts_sentence = False

    for n, (token, word) in enumerate(zip(raw, tokens, strict=True)):
        folded = fold(word)
        if word[:1].isupper():
            if folded in ignore or folded.rstrip("s") in ignore:
                close()
                continue
            if not run:
                starts_sentence = n == 0
            run.append(word)
        elif run and folded in _CONNECTORS and n + 1 < len(tokens) and tokens[n + 1][:1].isupper():
            run.append(word)
        else:
            close()
        if word != _ELISION.sub("", token):  # "Messi's goal": the possessive ends the name
            close()
    close()
    return found


def _title_case(title: str) -> bool:
    """ "Trump Stages Stunning Upset": every word capitalised says nothing about names."""
    words = [w for w in _TOKEN.findall(title) if len(w) > 3]
    return len(words) >= 3 and sum(w[:1].isupper() for w in words) >= 0.7 * len(words)


@cache
def _calendar_words(language: str) -> frozenset[str]:
    """Days and months (English capitalises them; they say when, not who)."""
    from babel import Locale, UnknownLocaleError

    names: set[str] = set()
    for code in {language, "en"}:
        try:
            locale = Locale.parse(code)
        except (UnknownLocaleError, ValueError):
            continue
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                names.update(fold(m).rstrip(".") for m in locale.months[context][width].values())
                names.update(fold(d).rstrip(".") for d in locale.days[context][width].values())
    names.discard("may")  # a month, but also a name (Theresa May) and a verb
    return frozenset(names)
