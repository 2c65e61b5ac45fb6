"""Word lists are data: one folder per language, one file per list."""

from __future__ import annotations

from bot.text.lexicon import languages, words


def test_lists_load_as_sets_without_comments_and_missing_lists_are_empty() -> None:
    stopwords = words("stopwords", "en")
    assert {"the", "and", "of"} <= stopwords
    assert not any(w.startswith("#") or not w.strip() for w in stopwords)
    assert words("no-such-list", "en") == frozenset()
    assert words("stopwords", "xx") == frozenset()
    assert "en" in languages()
