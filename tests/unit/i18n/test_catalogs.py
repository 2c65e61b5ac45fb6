"""Every language's catalog holds every message of the code, translated, with the same
placeholders, and nothing stale; the bot then speaks the channel's language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from support.paths import ROOT

from bot.i18n import LANGUAGES, _, ngettext, using

KEYWORDS = {"_": None, "N_": None, "lazy": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")


def extracted() -> dict[str, str | None]:
    """msgid → its plural msgid (None for a plain message), as `make messages` extracts them."""
    found: dict[str, str | None] = {}
    for folder in ("bot", "adapters"):
        for _filename, _lineno, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            if isinstance(message, tuple):
                found[message[0]] = message[1]
            else:
                found[message] = None
    return found


MESSAGES = extracted()


def catalog(language: str):  # type: ignore[no-untyped-def]
    path = ROOT / "bot" / "i18n" / "locales" / language / "LC_MESSAGES" / "newsdigest.po"
    with Path(path).open("rb") as handle:
        return read_po(handle, locale=language)


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_every_message_is_translated_with_its_placeholders(language: str) -> None:
    entries = {(m.id[0] if isinstance(m.id, tuple) else m.id): m for m in catalog(language) if m.id}
    missing = sorted(set(MESSAGES) - set(entries))
    stale = sorted(set(entries) - set(MESSAGES))
    assert not missing, f"{language}: not in the catalog (run make messages): {missing[:5]}"
    assert not stale, f"{language}: no longer in the code (run make messages): {stale[:5]}"
    for msgid, entry in entries.items():
        strings = entry.string if isinstance(entry.string, tuple | list) else (entry.string,)
        assert all(strings) and not entry.fuzzy, f"{language}: untranslated: {msgid!r}"
        for text in strings:
            assert placeholders(text) == placeholders(msgid), (language, msgid, text)


def test_the_bot_speaks_the_language_it_is_asked_to() -> None:
    with using("de"):
        assert _("Summary") != "Summary"
        assert "3" in ngettext("{count} new article", "{count} new articles", 3).format(count=3)
    with using("xx"):  # no catalog: English
        assert _("Summary") == "Summary"
    assert _("Summary") == "Summary"
