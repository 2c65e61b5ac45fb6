"""What a text is about, whatever its language: event types and countries as shared ids.

"Erdbeben", "earthquake", "séisme", "terremoto" and "地震" are one concept ("earthquake");
"Turchia", "Turquie" and "土耳其" are one country ("@TR"). Two reports of one event in two
languages share few words but these, so story grouping compares them across languages (a
topic, not an event: the figures, dates and names still tell two earthquakes apart).

The event words are data, one file a language (lexicon/<language>/event-words.txt, a line
`concept: word, phrase, …`; every language uses the English file's concept ids); countries
come from the CLDR names Babel carries, with a few everyday aliases as data
(lexicon/<language>/places.txt: `CODE: alias, …`). A word or phrase is matched on its stems
(the text's own stemmer), so "quakes" finds "quake"; Chinese and Japanese, written without
spaces, are matched as written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from bot.text.lexicon import words
from bot.text.words import CJK, base, content_tokens, tokens

_NOT_COUNTRIES = frozenset({"EZ", "QO", "XA", "XB", "ZZ"})  # CLDR's pseudo-territories
_PHRASE = tuple[str, ...]
_SHORT_STEM = 5  # a shorter stem is matched only as the word itself


def concepts(
    text: str, language: str | None = "en", written: Sequence[tuple[str, str]] | None = None
) -> list[str]:
    """The concept ids named in `text`, once per mention ("earthquake", "@TR"). `written` is
    the text's `content_tokens` when the caller has them already."""
    code = base(language)
    if code in CJK:
        pattern = _cjk_pattern(code)
        if pattern is None:
            return []
        table = _cjk_table(code)
        return [table[m.group(0)] for m in pattern.finditer(text.casefold())]
    index = _index(code)
    if not index:
        return []
    if written is None:
        written = content_tokens(text, code)
    found: list[str] = []
    i = 0
    while i < len(written):
        word, stem = written[i]
        candidates = index.get(stem) or index.get("=" + word)
        if candidates is not None:
            for phrase, concept in candidates:
                ahead = written[i : i + len(phrase)]
                if len(ahead) == len(phrase) and all(map(_fits, phrase, ahead)):
                    found.append(concept)
                    i += len(phrase) - 1
                    break
        i += 1
    return found


def _fits(key: str, token: tuple[str, str]) -> bool:
    """A key is a stem, or "=word" where the stem says too little (Snowball makes "parl" of
    "parlamento" and of "parlato"): that word as written."""
    return token[0] == key[1:] if key[0] == "=" else token[1] == key


def lexicon(language: str) -> dict[str, str]:
    """Each word or phrase of the language (as written in the data) and its concept id."""
    table: dict[str, str] = {}
    for line in words("event-words", language):
        concept, _, terms = line.partition(":")
        for term in terms.split(","):
            if term.strip():
                table[term.strip().casefold()] = concept.strip()
    for line in words("places", language):
        code, _, terms = line.partition(":")
        for term in terms.split(","):
            if term.strip():
                table[term.strip().casefold()] = "@" + code.strip().upper()
    for code, name in _countries(language):
        table.setdefault(name.casefold(), "@" + code)
    return table


@cache
def _countries(language: str) -> tuple[tuple[str, str], ...]:
    """CLDR's country names in the language, as (code, name) (Chinese in both scripts)."""
    from babel import Locale, UnknownLocaleError

    names: list[tuple[str, str]] = []
    for variant in (language, "zh_Hant") if language == "zh" else (language,):
        try:
            territories = Locale.parse(variant).territories
        except (UnknownLocaleError, ValueError):
            continue
        names += [
            (code, name)
            for code, name in territories.items()
            if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
        ]
    return tuple(names)


@cache
def _index(language: str) -> dict[str, list[tuple[_PHRASE, str]]]:
    """Phrases by their first key, the longest first. A phrase that its stopwords reduce to
    a single word ("steps down" → "step") would say too little and is left out."""
    index: dict[str, list[tuple[_PHRASE, str]]] = {}
    for term, concept in lexicon(language).items():
        phrase = tuple(_key(word, stem) for word, stem in content_tokens(term, language))
        if not phrase or (len(phrase) == 1 and len(tokens(term, language)) > 1):
            continue
        index.setdefault(phrase[0], []).append((phrase, concept))
    for candidates in index.values():
        candidates.sort(key=lambda pc: -len(pc[0]))
    return index


def _key(word: str, stem: str) -> str:
    short = len(stem) < _SHORT_STEM or len(stem) < 0.6 * len(word)
    return "=" + word if short else stem


@cache
def _cjk_table(language: str) -> dict[str, str]:
    return {term: concept for term, concept in lexicon(language).items() if len(term) >= 2}


@cache
def _cjk_pattern(language: str) -> re.Pattern[str] | None:
    terms = sorted(_cjk_table(language), key=len, reverse=True)
    return re.compile("|".join(map(re.escape, terms))) if terms else None
