"""Bullets that stand alone: a bullet is read without the sentence before it.

So it may not open with a connective that points back ("But…", "And…", "However,…"),
the first bullet may not open with a pronoun whose antecedent is not shown ("He said…"),
and site furniture (copyright lines, bylines, photo credits, newsletter and cookie text)
is never a bullet, whichever path the text came in by.
"""

from __future__ import annotations

import re
from functools import cache

from bot.text.lexicon import words as lexicon
from bot.text.words import base

_CONNECTIVE = re.compile(
    r"""^(?:and|but|yet|so|or|nor|plus|still|also|however|meanwhile|moreover|furthermore|
    besides|instead|nevertheless|nonetheless|then|thus|hence|indeed|anyway|otherwise|likewise|
    similarly|additionally|consequently|therefore|in\ addition|by\ contrast|on\ the\ other\ hand|
    at\ the\ same\ time|even\ so|after\ all)\b[,:]?\s+""",
    re.IGNORECASE | re.VERBOSE,
)
_PRONOUN_OPENER = re.compile(
    r"^(?:he|she|they|it|its|his|her|their|them|him|this|these|those|that|such)\b(?!['’]s\s+(?:been|not|also|time|a|an|the)\b)",
    re.IGNORECASE,
)
_DUMMY_IT = re.compile(
    r"^it(?:['’]s| is| was| has been| will be| would be| may be| could be)\b", re.I
)
_BOILERPLATE = re.compile(
    r"""personal,?\s+non-?commercial\s+use|this\s+copy\s+is\s+for\s+your|all\s+rights\s+reserved
    |\bcopyright\b|©|may\s+not\s+be\s+(?:published|reproduced|broadcast|rewritten|redistributed)
    |order\s+presentation-ready\s+copies|distribution\s+and\s+use\s+of\s+this\s+material
    |\bcookies?\b.{0,60}\b(?:accept|consent|policy|settings|browser|experience)
    |\b(?:sign\s+up|subscribe)\b.{0,60}\b(?:newsletter|updates|inbox|alerts)
    |\bnewsletter\b.{0,40}\b(?:sign\s+up|subscribe|free|delivered|inbox)
    |^(?:by|reporting\s+by|editing\s+by|written\s+by|additional\s+reporting\s+by)\s+[A-Z]
    |\b(?:contributed\s+(?:to\s+)?this\s+report)\b
    |^(?:photo|image|picture|video)(?:graph)?\s*(?:credit|courtesy|by)?\s*[:|]
    |\((?:photo|image)\s*:|/\s*(?:getty\s+images|ap\s+photo|reuters|afp|shutterstock)\s*\)?\s*$
    |^(?:follow|like)\s+(?:us|\w+)\s+on\s+(?:twitter|facebook|instagram|x)\b
    |^(?:click|tap)\s+(?:here|to)\b|^read\s+more\b|^advertisement\b""",
    re.IGNORECASE | re.VERBOSE,
)
MIN_STANDALONE_WORDS = 5


def without_connective(text: str) -> str | None:
    """The sentence without a leading connective; None when what is left is too short to stand."""
    match = _CONNECTIVE.match(text)
    if not match:
        return text
    rest = text[match.end() :].lstrip()
    if len(rest.split()) < MIN_STANDALONE_WORDS or _CONNECTIVE.match(rest):
        return None
    return rest[0].upper() + rest[1:]


def opens_with_pronoun(text: str) -> bool:
    """True for "He said…", "Their plan…", "This is…"; not for a dummy "It's clear that…"."""
    return bool(_PRONOUN_OPENER.match(text)) and not _DUMMY_IT.match(text)


def is_boilerplate_sentence(text: str) -> bool:
    return bool(_BOILERPLATE.search(text))


_WORD = re.compile(r"[^\W\d_][\w'’-]*|\d+")
ANNOUNCER_MAX_WORDS = 20  # "Kim has two urgent concerns as he heads to the summit."
CATAPHORA_MAX_WORDS = 12  # "Here's why." "What we know so far:"


def announcement(text: str, language: str = "en") -> int | None:
    """How many items a sentence announces instead of telling them: "Kim has two urgent
    concerns as he heads to the summit." → 2, "Here's why:" → 0 (a number not given); None
    for a sentence that informs by itself. Such a sentence is no bullet: what it announces is."""
    stripped = text.rstrip()
    if stripped.endswith((":", "：")):
        return 0
    if stripped.count(" ") >= ANNOUNCER_MAX_WORDS:
        return None
    words = [w.lower().replace("’", "'") for w in _WORD.findall(stripped)]
    if not words or len(words) > ANNOUNCER_MAX_WORDS:
        return None
    phrases, counts, nouns = _announcing(base(language))
    if len(words) <= CATAPHORA_MAX_WORDS:
        joined = " ".join(words)
        if any(joined.startswith(p) or joined.endswith(p) for p in phrases):
            return 0
    if sum(w.isdigit() for w in words) > 1:
        return None  # figures are facts: "two factories and 300 jobs" informs
    for n, word in enumerate(words):
        count = counts.get(word, int(word) if word.isdigit() and 2 <= int(word) <= 9 else None)
        if count is not None and any(w in nouns for w in words[n + 1 : n + 4]):
            return count
    return None


@cache
def _announcing(language: str) -> tuple[tuple[str, ...], dict[str, int], frozenset[str]]:
    """The language's announcing phrases, count words (word=number) and counted nouns."""
    counts = {}
    for line in lexicon("announcing-counts", language):
        word, _, number = line.partition("=")
        counts[word] = int(number or 0)
    phrases = tuple(sorted(lexicon("announcing-phrases", language)))
    return phrases, counts, lexicon("announcing-nouns", language)
