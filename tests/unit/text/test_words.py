"""Words in any language: letters of every script stay whole; CJK as character n-grams."""

from __future__ import annotations

from bot.text.words import content_words, stem, tokens, word_count


def test_letters_of_every_script_stay_in_their_words() -> None:
    assert tokens("Les élections à Česká Lípa", "fr") == ["les", "élections", "à", "česká", "lípa"]
    assert tokens("Die Größe zählt", "de") == ["die", "grösse", "zählt"]  # case-folded whole
    assert stem("élections", "fr") == stem("élection", "fr")
    assert "élect" in content_words("Les élections municipales", "fr")
    assert "les" not in content_words("Les élections municipales", "fr")  # a stopword


def test_chinese_and_japanese_are_character_ngrams() -> None:
    words = tokens("经济增长", "zh")
    assert {"经", "济", "经济", "济增", "增长"} <= set(words)
    assert word_count("经济增长放缓") == 3  # two characters a word, as readers count
    assert word_count("plain English words") == 3


def test_english_keeps_its_own_fast_stemmer() -> None:
    assert stem("sanctions") == "sanction" and stem("voters") != stem("vote")
    assert content_words("The sanctions were lifted") == ["sanction", "lift"]
