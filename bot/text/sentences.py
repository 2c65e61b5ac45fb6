"""Sentence segmentation tuned for news copy.

A single compiled regex proposes boundaries and a few cheap rules veto the
false ones ("U.S. officials", "Mr. Kim", "Jan. 5", "$1.5 billion", "..." inside
a quote). It is an order of magnitude faster than pysbd, which matters because
splitting dominates end-to-end summarization time.
"""

from __future__ import annotations

import re

from bot.text.lexicon import words

# Titles and other abbreviations that are practically never the end of a sentence.
_NEVER_FINAL = words("abbreviations")
# Abbreviations that often do end a sentence: split when a sentence clearly starts next.
_MAYBE_FINAL = words("abbreviations-maybe-final")
# Capitalised words that start sentences far more often than they follow "U.S." in a name.
_SENTENCE_STARTERS = words("sentence-starters")

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
