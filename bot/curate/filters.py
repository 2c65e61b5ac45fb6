"""Per-channel filters: words or regular expressions that keep items out of (or in) a digest.

Patterns come from chat users, so they run on RE2, whose matching time is linear in the
text whatever the pattern: `(a+)+$` cannot hang the bot. Words match title and text
case-insensitively on word boundaries; several words match any of them; "a phrase" in
quotes matches as a phrase. Exclude rules drop what they match; when include rules
exist, an item must match one of them.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot.errors import NewsdigestError

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

    def describe(self) -> str:
        shown = f"/{self.pattern}/" if self.is_regex else self.pattern
        return f"{self.action} {shown}"


@dataclass(frozen=True)
class Candidate:
    article_id: int
    title: str
    text: str


def parse_pattern(text: str) -> tuple[str, bool]:
    """'/REGEX/' or words; raise FilterError with the reason when it cannot be used."""
    text = text.strip()
    if not text:
        raise FilterError("Give words or a /regular expression/ to filter on.")
    if len(text) > MAX_PATTERN:
        raise FilterError(f"That filter is too long (at most {MAX_PATTERN} characters).")
    if len(text) >= 2 and text.startswith("/") and text.endswith("/"):
        pattern = text[1:-1]
        if not pattern:
            raise FilterError("That regular expression is empty.")
        _compile(pattern, True)  # raises FilterError with RE2's own reason
        return pattern, True
    _words(text)
    return text, False


def matches(rule: FilterRule, candidate: Candidate) -> bool:
    regex = _compile(rule.pattern, rule.is_regex)
    return regex.search(candidate.title + "\n" + candidate.text[:MAX_TEXT]) is not None


def apply_filters(
    rules: Sequence[FilterRule], candidates: Sequence[Candidate]
) -> tuple[list[Candidate], list[tuple[Candidate, FilterRule]]]:
    """(kept, dropped with the rule that dropped each)."""
    includes = [r for r in rules if r.action == "include"]
    excludes = [r for r in rules if r.action == "exclude"]
    kept: list[Candidate] = []
    dropped: list[tuple[Candidate, FilterRule]] = []
    for candidate in candidates:
        rule = next((r for r in excludes if matches(r, candidate)), None)
        if rule is None and includes and not any(matches(r, candidate) for r in includes):
            rule = includes[0]
        if rule is None:
            kept.append(candidate)
        else:
            dropped.append((candidate, rule))
    return kept, dropped


def _words(text: str) -> list[str]:
    try:
        words = [w for w in shlex.split(text) if w.strip()]
    except ValueError as exc:
        raise FilterError(f"Could not read those words: {exc}.") from exc
    if not words:
        raise FilterError("Give words or a /regular expression/ to filter on.")
    return words


@lru_cache(maxsize=1024)
def _compile(pattern: str, is_regex: bool) -> Any:
    import re2

    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    options.max_mem = 8 << 20
    if is_regex:
        source = pattern
    else:
        alternatives = [r"\s+".join(re.escape(p) for p in w.split()) for w in _words(pattern)]
        source = r"\b(?:" + "|".join(alternatives) + r")\b"
    try:
        return re2.compile(source, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        hint = (
            " (look-arounds and back-references are not supported)"
            if "(?" in pattern or "\\1" in pattern
            else ""
        )
        raise FilterError(f"That is not a valid regular expression: {reason}{hint}.") from exc
