"""Sentence splitting: abbreviations, numbers, quotes and initials; no text is ever lost."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

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
