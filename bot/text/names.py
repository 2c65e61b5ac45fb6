"""Proper names in a text: who and where, in scripts that write names with a capital.

A capital does not make a name at the start of a sentence ("Capping off the career…"), in a
headline written in title case, or for the days and months English capitalises; a word the
same text also writes in lower case is a common word. Names are folded (case, accents and a
possessive 's dropped: "Mbappé's" is "mbappe") so that outlets' spellings meet, and a name of
several words also yields its words ("Lionel Messi" → "lionel messi", "lionel", "messi"),
because the second mention is usually the surname alone.

Names in Cyrillic and Greek are written in Latin letters ("Путин" is "putin", "Τσίπρας" is
"tsipras") and the endings that transliterations spell differently meet ("Zelenskiy",
"Zelenskyy", "Зеленский" and "Зеленський" are all "zelensky"), so that reports in two
scripts share their names.

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


# Letter by letter, as English-language news spells them ("ъ" and "ь" are not written)
_CYRILLIC = (
    "а:a б:b в:v г:g д:d е:e ё:e ж:zh з:z и:i й:y к:k л:l м:m н:n о:o п:p р:r с:s т:t у:u ф:f "
    "х:kh ц:ts ч:ch ш:sh щ:shch ъ: ы:y ь: э:e ю:yu я:ya є:ye і:i ї:yi ґ:g ђ:dj ј:j љ:lj њ:nj "
    "ћ:c џ:dz"
)
_GREEK = (
    "α:a β:v γ:g δ:d ε:e ζ:z η:i θ:th ι:i κ:k λ:l μ:m ν:n ξ:x ο:o π:p ρ:r σ:s ς:s τ:t υ:y φ:f "
    "χ:ch ψ:ps ω:o ά:a έ:e ή:i ί:i ό:o ύ:y ώ:o ϊ:i ϋ:y ΐ:i ΰ:y"
)
_LATIN = str.maketrans(dict(p.split(":") for p in f"{_CYRILLIC} {_GREEK}".split()))
_NOT_LATIN = re.compile(r"[\u0370-\u03ff\u0400-\u04ff\u1f00-\u1fff]")
_UKRAINIAN = str.maketrans({"г": "h", "и": "y"})  # "Харків" is Kharkiv, "Володимир" Volodymyr
_ENDING = re.compile(r"(?<=\w{3})(?:iy|yy|yi|ij|yj|ii)$")  # Zelenskiy, Zelenskyy, Selenskyj


@lru_cache(maxsize=65536)
def latin(word: str, ukrainian: bool = False) -> str:
    """The word folded and in Latin letters, its transliterated ending spelled one way."""
    text = word.casefold()
    if _NOT_LATIN.search(text):
        text = unicodedata.normalize("NFC", text)  # й and ё are letters of their own here
        if ukrainian:
            text = text.translate(_UKRAINIAN)
        text = text.replace("ού", "u").replace("ου", "u").translate(_LATIN)  # Πούτιν: Putin
    return _ENDING.sub("y", fold(text))


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
        found += _names_in(_TOKEN.findall(sentence), words, ignore, inside, code == "uk")
    return found


def _names_in(
    raw: list[str], tokens: list[str], ignore: frozenset[str], inside: set[str], ukrainian: bool
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
            spelled = [latin(w, ukrainian) for w in run]
            found.append(" ".join(spelled))
            if len(words) > 1:  # "Messi" after "Lionel Messi"
                found.extend(
                    k
                    for k, w in zip(spelled, words, strict=True)
                    if len(w) > 2 and w not in ignore and w not in _CONNECTORS
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
