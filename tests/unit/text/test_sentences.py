"""Sentence splitting: abbreviations, numbers, quotes and initials; no text is ever lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.paths import ROOT

from bot.text.sentences import split_sentences


def test_abbreviations_and_numbers_do_not_split() -> None:
    text = (
        "The U.S. and the U.N. met in Geneva. Mr. Kim said it cost $1.5 billion. "
        "He left on Jan. 5 for Moscow."
    )
    assert split_sentences(text) == [
        "The U.S. and the U.N. met in Geneva.",
        "Mr. Kim said it cost $1.5 billion.",
        "He left on Jan. 5 for Moscow.",
    ]


def test_quotes_and_ellipses() -> None:
    text = '"We will win." Then he left... and came back. Really? Yes! It was over... The end.'
    assert split_sentences(text) == [
        '"We will win."',
        "Then he left... and came back.",
        "Really?",
        "Yes!",
        "It was over...",
        "The end.",
    ]


def test_initialism_at_sentence_end_splits_before_a_sentence_starter() -> None:
    assert split_sentences("He lives in the U.S. The rest live abroad.") == [
        "He lives in the U.S.",
        "The rest live abroad.",
    ]
    assert split_sentences("The U.S. Senate voted.") == ["The U.S. Senate voted."]


def test_middle_initials_and_titles() -> None:
    assert split_sentences("John F. Kennedy spoke. Dr. Smith listened.") == [
        "John F. Kennedy spoke.",
        "Dr. Smith listened.",
    ]


def test_whitespace_only_gives_nothing() -> None:
    assert split_sentences("  \n ") == []


@given(st.text(max_size=500), st.sampled_from(["en", "de", "fr", "zh", "ja", "ar"]))
def test_sentences_cover_the_text(text: str, language: str) -> None:
    joined = "".join("".join(split_sentences(text, language)).split())  # no-break spaces are kept
    assert joined == "".join(text.split())


SPLITS = ROOT / "bench" / "data" / "sentence-splits"


@pytest.mark.parametrize("path", sorted(SPLITS.glob("*.jsonl")), ids=lambda p: p.stem)
def test_the_labelled_paragraphs_are_split_right_in_each_language(path: Path) -> None:
    cases = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    wrong = [c["why"] for c in cases if split_sentences(c["text"], path.stem) != c["sentences"]]
    assert len(cases) >= 30
    assert 1 - len(wrong) / len(cases) >= 0.97, wrong


def test_chinese_japanese_spanish_and_german_boundaries() -> None:
    assert split_sentences("经济增长放缓。专家认为，利率仍将维持高位！", "zh") == [
        "经济增长放缓。",
        "专家认为，利率仍将维持高位！",
    ]
    assert split_sentences(
        "社長は「責任は私にある。辞任する。」と語った。後任は未定だ。", "ja"
    ) == [
        "社長は「責任は私にある。辞任する。」と語った。",
        "後任は未定だ。",
    ]
    assert split_sentences("¿Qué pasó? ¡Nadie lo sabe!", "es") == ["¿Qué pasó?", "¡Nadie lo sabe!"]
    assert split_sentences("La Dra. Gómez llegó ayer.", "es") == ["La Dra. Gómez llegó ayer."]
    assert split_sentences("Es gilt ab dem 5. Mai 2015. Der 1. FC Köln gewann.", "de") == [
        "Es gilt ab dem 5. Mai 2015.",
        "Der 1. FC Köln gewann.",
    ]
    assert split_sentences("هل تنجح المفاوضات؟ يرى مراقبون ذلك.", "ar") == [
        "هل تنجح المفاوضات؟",
        "يرى مراقبون ذلك.",
    ]
