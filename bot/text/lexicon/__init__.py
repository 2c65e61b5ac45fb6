"""Word lists per language, as data: `lexicon/<language>/<name>.txt`, one word a line.

Adding a language is adding its folder; code asks for a list by name and gets the English
one where a language has none of its own (see `words`). Lines starting with # are comments.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

DEFAULT_LANGUAGE = "en"


@cache
def words(name: str, language: str = DEFAULT_LANGUAGE) -> frozenset[str]:
    """The list `name` for `language`, as a set; empty when that language has no such list."""
    path = resources.files(__package__) / language / f"{name}.txt"
    if not path.is_file():
        return frozenset()
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip() for w in lines if w.strip() and not w.startswith("#"))


@cache
def languages() -> tuple[str, ...]:
    """The languages that have a folder of word lists."""
    root = resources.files(__package__)
    return tuple(
        sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("_"))
    )
