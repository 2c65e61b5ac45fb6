"""Chinese and Japanese words where whole words matter: headings and section ids.

Similarity and keyword scores use character n-grams (bot/text/words.py); a heading and an id
must be made of whole words instead. Chinese is segmented by rjieba (jieba's dictionary in
Rust: 5 MB, 15 M characters a second), whose part-of-speech tags let a heading be a run of
nouns. Japanese writes its content words in kanji and katakana and its grammar in hiragana,
so runs of kanji and katakana are its noun phrases (上野動物園, 日経平均株価), with no
dictionary at all.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

_NOUN_TAGS = ("n", "nr", "ns", "nt", "nz", "nrt", "nrfg", "vn", "an", "eng", "j", "l", "i")
_JAPANESE_CONTENT = re.compile(
    r"[\u4e00-\u9fff\u3400-\u4dbf々〆ヵヶ\u30a0-\u30ffー０-９0-9Ａ-Ｚａ-ｚA-Za-z]+"
)
_MAX_PHRASE_CHARS = 12


@cache
def _jieba() -> Any:
    import rjieba

    return rjieba


def words_of(text: str, language: str) -> list[str]:
    """The text's words in reading order (punctuation left out)."""
    if language == "ja":
        return _JAPANESE_CONTENT.findall(text)
    return [w for w in _jieba().cut(text) if any(c.isalnum() for c in w)]


def noun_phrases(text: str, language: str, stopwords: frozenset[str]) -> list[str]:
    """Candidate headings in reading order: runs of nouns, at most 12 characters."""
    if language == "ja":
        runs = [w for w in _JAPANESE_CONTENT.findall(text) if len(w) >= 2 and w not in stopwords]
        return [r[:_MAX_PHRASE_CHARS] for r in runs if not r.isdigit()]
    phrases: list[str] = []
    run: list[str] = []
    for word, tag in _jieba().tag(text):
        noun = tag.startswith(_NOUN_TAGS) and word not in stopwords and not word.isdigit()
        if noun and sum(len(w) for w in run) + len(word) <= _MAX_PHRASE_CHARS:
            run.append(word)
            continue
        if run and sum(len(w) for w in run) >= 2:
            phrases.append("".join(run))
        run = [word] if noun else []
    if run and sum(len(w) for w in run) >= 2:
        phrases.append("".join(run))
    return phrases
