"""Per-channel filters: words or regular expressions that keep items out of (or in) a digest.

Regular expressions come from chat users, so they run on RE2, whose matching time is linear
in the text whatever the pattern: `(a+)+$` cannot hang the bot. Words match title and text
as words in the article's language: whole words, whatever their case, in any of their
forms ("élection" matches "Élections", "vote" matches "votes" but not "voters"); several
words match any of them; "a phrase" in quotes matches as a phrase; Chinese and Japanese
words, written without spaces, match where they occur. Exclude rules drop what they match;
when include rules exist, an item must match one of them. A rule may hold for one of the
channel's sources only ("--source 2"): it then judges that source's items and no others.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot.errors import NewsdigestError
from bot.i18n import _
from bot.text.words import stem, tokens

MAX_PATTERN = 300
MAX_TEXT = 20_000  # characters of an article a rule looks at
ACTIONS = ("include", "exclude")


class FilterError(NewsdigestError):
    kind = "bad_filter"


@dataclass(frozen=True)
class FilterRule:
    id: int
    action: str  # "include" or "exclude"
    pattern: str
    is_regex: bool
    source_id: int | None = None  # None: every source of the channel
    source: str | None = None  # that source as people read it ("example.org/feed")

    def describe(self) -> str:
        shown = f"/{self.pattern}/" if self.is_regex else self.pattern
        if self.source_id is None:
            return f"{self.action} {shown}"
        return _("{action} {pattern} (from {source} only)").format(
            action=self.action, pattern=shown, source=self.source or self.source_id
        )

    def judges(self, candidate: Candidate) -> bool:
        """Whether this rule applies to that item at all."""
        return self.source_id is None or self.source_id in candidate.sources


@dataclass(frozen=True)
class Candidate:
    article_id: int
    title: str
    text: str
    language: str = "en"
    sources: frozenset[int] = frozenset()  # the channel's sources that carried it

    @property
    def searched(self) -> str:
        return self.title + "\n" + self.text[:MAX_TEXT]


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")


class WordStems:
    """A candidate's words as stems, made once however many rules look at it."""

    def __init__(self) -> None:
        self._made: dict[int, str] = {}

    def of(self, candidate: Candidate) -> str:
        made = self._made.get(candidate.article_id)
        if made is None:
            words = tokens(candidate.searched, candidate.language)
            made = self._made[candidate.article_id] = _joined(words, candidate.language)
        return made


def _joined(words: Sequence[str], language: str) -> str:
    """Stems between spaces: a phrase matches as " a b " inside " x a b y "."""
    return " " + " ".join(stem(w, language) for w in words) + " "


def parse_pattern(text: str) -> tuple[str, bool]:
    """'/REGEX/' or words; raise FilterError with the reason when it cannot be used."""
    text = text.strip()
    if not text:
        raise FilterError(_("Give words or a /regular expression/ to filter on."))
    if len(text) > MAX_PATTERN:
        raise FilterError(
            _("That filter is too long (at most {limit} characters).").format(limit=MAX_PATTERN)
        )
    if len(text) >= 2 and text.startswith("/") and text.endswith("/"):
        pattern = text[1:-1]
        if not pattern:
            raise FilterError(_("That regular expression is empty."))
        _compile(pattern, True)  # raises FilterError with RE2's own reason
        return pattern, True
    _words(text)
    return text, False


def matches(rule: FilterRule, candidate: Candidate, stems: WordStems | None = None) -> bool:
    if rule.is_regex:
        return _compile(rule.pattern, True).search(candidate.searched) is not None
    text: str | None = None
    for phrase in _words(rule.pattern):
        if _CJK.search(phrase):
            if phrase.casefold() in candidate.searched.casefold():
                return True
            continue
        wanted = _joined(tokens(phrase, candidate.language), candidate.language)
        if wanted.strip():
            text = text if text is not None else (stems or WordStems()).of(candidate)
            if wanted in text:
                return True
    return False


def apply_filters(
    rules: Sequence[FilterRule], candidates: Sequence[Candidate]
) -> tuple[list[Candidate], list[tuple[Candidate, FilterRule]]]:
    """(kept, dropped with the rule that dropped each)."""
    includes = [r for r in rules if r.action == "include"]
    excludes = [r for r in rules if r.action == "exclude"]
    kept: list[Candidate] = []
    dropped: list[tuple[Candidate, FilterRule]] = []
    stems = WordStems()
    for candidate in candidates:
        rule = next(
            (r for r in excludes if r.judges(candidate) and matches(r, candidate, stems)), None
        )
        judging = [r for r in includes if r.judges(candidate)]
        if rule is None and judging and not any(matches(r, candidate, stems) for r in judging):
            rule = judging[0]
        if rule is None:
            kept.append(candidate)
        else:
            dropped.append((candidate, rule))
    return kept, dropped


def _words(text: str) -> list[str]:
    try:
        words = [w for w in shlex.split(text) if w.strip()]
    except ValueError as exc:
        raise FilterError(_("Could not read those words: {reason}.").format(reason=exc)) from exc
    if not words:
        raise FilterError(_("Give words or a /regular expression/ to filter on."))
    return words


@lru_cache(maxsize=1024)
def _compile(pattern: str, is_regex: bool = True) -> Any:
    import re2

    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    options.max_mem = 8 << 20
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        if "(?" in pattern or "\\1" in pattern:
            message = _(
                "That is not a valid regular expression: {reason} (look-arounds and "
                "back-references are not supported)."
            )
        else:
            message = _("That is not a valid regular expression: {reason}.")
        raise FilterError(message.format(reason=reason)) from exc
