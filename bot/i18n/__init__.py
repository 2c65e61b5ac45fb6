"""The bot's own words in the channel's language: digest headers, section labels, notes,
command replies, errors and help. Article text is never translated here.

Messages are written in English in the code, marked `_("…")` (with `{name}` placeholders
filled by `.format` after translation), extracted by Babel into `messages.pot`, and
translated in gettext catalogs, `bot/i18n/locales/<language>/LC_MESSAGES/newsdigest.po`
(a test fails on a missing or stale message). The catalogs are read with Babel the first
time a language is used, so nothing generated is kept in the repository.

Which language: `using("de")` sets it for the work in hand (a command, a channel's digest,
the command line) through a context variable, which follows the work into tasks and worker
threads (see bot/workers.py). Code that renders for a channel passes the channel's language.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from importlib import resources

DEFAULT = "en"
LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "pt", "it", "ja", "zh")
NAMES = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "pt": "Português",
    "it": "Italiano",
    "ja": "日本語",
    "zh": "中文",
}
DOMAIN = "newsdigest"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("language", default=DEFAULT)


def supported(language: str | None) -> str | None:
    """The catalog for a requested language ("pt-BR" → "pt", "zh-Hans" → "zh"), or None."""
    if not language:
        return None
    code = language.replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else None


def current() -> str:
    return _current.get()


@contextmanager
def using(language: str | None) -> Iterator[str]:
    """The bot speaks `language` (when it has a catalog for it) until the block ends."""
    code = supported(language) or DEFAULT
    token = _current.set(code)
    try:
        yield code
    finally:
        _current.reset(token)


def _(message: str) -> str:
    """`message` in the current language (English when there is no translation)."""
    language = _current.get()
    if language == DEFAULT:
        return message
    return _catalog(language).get(message) or message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form, in the current language's plural rules."""
    language = _current.get()
    if language != DEFAULT:
        _singles, plurals, rule = _read(language)
        forms = plurals.get(singular)
        if forms:
            index = min(rule(n), len(forms) - 1)
            return forms[index] or (singular if n == 1 else plural)
    return singular if n == 1 else plural


def N_(message: str) -> str:
    """Marks a message for the catalogs without translating it here (a constant whose
    translation is looked up where it is shown, with `_(constant)`)."""
    return message


def lazy(message: str) -> LazyMessage:
    """A message translated when it is shown, not when it is defined (module constants)."""
    return LazyMessage(message)


class LazyMessage(str):
    """Compares and hashes as its English text; `str(m)` and formatting translate it."""

    __slots__ = ()

    def __str__(self) -> str:
        return _(str.__str__(self))

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def _po_path(language: str) -> resources.abc.Traversable:
    return resources.files(__package__) / "locales" / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def _read(
    language: str,
) -> tuple[dict[str, str], dict[str, tuple[str, ...]], Callable[[int], int]]:
    """The catalog's messages, plural messages, and which plural form a number takes."""
    path = _po_path(language)
    if not path.is_file():
        return {}, {}, lambda n: int(n != 1)
    import gettext

    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    singles: dict[str, str] = {}
    plurals: dict[str, tuple[str, ...]] = {}
    for entry in catalog:
        if not entry.id or entry.fuzzy:
            continue
        if isinstance(entry.id, tuple):
            strings = tuple(entry.string) if isinstance(entry.string, tuple | list) else ()
            if any(strings):
                plurals[entry.id[0]] = strings
        elif entry.string:
            singles[str(entry.id)] = str(entry.string)
    rule: Callable[[int], int] = gettext.c2py(catalog.plural_expr)
    return singles, plurals, rule


def _catalog(language: str) -> dict[str, str]:
    return _read(language)[0]
