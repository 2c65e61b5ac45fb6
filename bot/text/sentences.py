"""Sentence segmentation tuned for news copy.

A single compiled regex proposes boundaries and a few cheap rules veto the
false ones ("U.S. officials", "Mr. Kim", "Jan. 5", "$1.5 billion", "..." inside
a quote). It is an order of magnitude faster than pysbd, which matters because
splitting dominates end-to-end summarization time.
"""

from __future__ import annotations

import re

# Titles and other abbreviations that are practically never the end of a sentence.
_NEVER_FINAL = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "messrs",
        "dr",
        "prof",
        "sen",
        "rep",
        "gov",
        "gen",
        "col",
        "lt",
        "sgt",
        "capt",
        "cmdr",
        "adm",
        "maj",
        "cpl",
        "pvt",
        "st",
        "mt",
        "ft",
        "rev",
        "hon",
        "pres",
        "supt",
        "insp",
        "det",
        "fr",
        "sr",
        "jr",
        "esq",
        "vs",
        "v",
        "no",
        "nos",
        "vol",
        "pp",
        "fig",
        "approx",
        "dept",
        "univ",
        "assn",
        "bros",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "e.g",
        "i.e",
        "cf",
        "al",
        "ave",
        "blvd",
        "rd",
        "ky",
        "ga",
        "fla",
        "calif",
        "colo",
        "conn",
        "del",
        "ill",
        "ind",
        "kan",
        "mass",
        "md",
        "mich",
        "minn",
        "miss",
        "mo",
        "mont",
        "neb",
        "nev",
        "okla",
        "ore",
        "pa",
        "tenn",
        "tex",
        "va",
        "vt",
        "wash",
        "wis",
        "wyo",
        "ariz",
        "ark",
        "ala",
    ]
)
# Abbreviations that often do end a sentence: split when a sentence clearly starts next.
_MAYBE_FINAL = frozenset(
    [
        "inc",
        "co",
        "corp",
        "ltd",
        "llc",
        "plc",
        "etc",
        "a.m",
        "p.m",
        "am",
        "pm",
        "u.s",
        "u.k",
        "u.n",
        "e.u",
    ]
)
# Capitalised words that start sentences far more often than they follow "U.S." in a name.
_SENTENCE_STARTERS = frozenset(
    [
        "the",
        "a",
        "an",
        "but",
        "and",
        "or",
        "so",
        "yet",
        "he",
        "she",
        "it",
        "they",
        "we",
        "i",
        "you",
        "his",
        "her",
        "its",
        "their",
        "our",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "in",
        "on",
        "at",
        "for",
        "from",
        "with",
        "after",
        "before",
        "when",
        "while",
        "if",
        "as",
        "by",
        "to",
        "then",
        "now",
        "still",
        "also",
        "however",
        "meanwhile",
        "instead",
        "although",
        "though",
        "despite",
        "since",
        "because",
        "what",
        "who",
        "why",
        "how",
        "where",
        "which",
        "one",
        "some",
        "many",
        "most",
        "more",
        "all",
        "no",
        "not",
        "many",
        "both",
        "each",
        "police",
        "officials",
        "authorities",
    ]
)

_BOUNDARY = re.compile(r"""(?:[.!?]+|…)["'”’»)\]]*(?=\s)""")
_NEXT_TOKEN = re.compile(r"""\s+(["'“‘«(\[]*)(\S+)""")
_INITIALISM = re.compile(r"^(?:[A-Za-z]\.)+[A-Za-z]?$")


def split_sentences(text: str) -> list[str]:
    """Split one paragraph of text into sentences; whitespace inside is normalised."""
    text = " ".join(text.split())
    if not text:
        return []
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        if _is_boundary(text, start, match.start(), end):
            piece = text[start:end].strip()
            if piece:
                sentences.append(piece)
            start = end
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def _is_boundary(text: str, start: int, mark_start: int, mark_end: int) -> bool:
    nxt = _NEXT_TOKEN.match(text, mark_end)
    if nxt is None:
        return False
    opening_quote, next_word = nxt.group(1), nxt.group(2)
    first = next_word[0]
    mark = text[mark_start:mark_end]
    if first.islower() and not opening_quote:
        return False  # "the U.S. has", "... and then": a sentence does not start lower-case
    if "." not in mark or mark.startswith(("..", "…")):
        return bool(first.isupper() or first.isdigit() or opening_quote)
    if mark_start - start < 2:
        return False
    word = text[max(text.rfind(" ", start, mark_start) + 1, start) : mark_start]
    return _period_ends_sentence(word, next_word)


def _period_ends_sentence(word_before: str, next_word: str) -> bool:
    bare = word_before.lower().lstrip("'’\"$(-")
    starter = next_word.strip("\"'“‘«([").lower().rstrip(",;:")
    if len(bare) == 1 and bare.isalpha():
        return starter in _SENTENCE_STARTERS  # a middle initial, as in "John F. Kennedy"
    if bare in _NEVER_FINAL:
        return False
    if bare in _MAYBE_FINAL or _INITIALISM.match(bare):
        return starter in _SENTENCE_STARTERS
    return True
