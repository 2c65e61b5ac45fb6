"""Mentions: a channel's Discord roles or Slack user groups to notify when a digest carries an
article from one source or matching some words.

A mention pings people, so only what an admin configured may ever ping: targets are stored as
the platform's ids (a role id, a user group id) and rendered by the adapter from those ids;
`@everyone`, `@here`, `<!channel>` and `<!here>` cannot be configured, and article text is
escaped as always, whatever it says.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.curate.filters import Candidate, FilterRule, WordStems, matches
from bot.errors import NewsdigestError
from bot.i18n import _

# "<@&id>" as Discord writes a role, or the id; "<!subteam^ID|@name>" as Slack writes a user
# group in a command (the brackets may already be gone), or the id
_DISCORD_ROLE = re.compile(r"^(?:<?@&(\d{15,21})>?|(\d{15,21}))$")
_SLACK_GROUP = re.compile(r"^(?:<?!subteam\^([A-Z0-9]{6,20})(?:\|[^>]*)?>?|(S[A-Z0-9]{6,20}))$")


class MentionError(NewsdigestError):
    kind = "bad_mention"


@dataclass(frozen=True)
class MentionRule:
    id: int
    target: str  # the platform's id of a role (Discord) or a user group (Slack)
    source_id: int | None = None  # only for that source's articles
    source: str | None = None
    pattern: str | None = None  # only for articles matching these words (filter syntax)
    is_regex: bool = False

    def describe(self, platform: str) -> str:
        when = []
        if self.pattern is not None:
            when.append(f"/{self.pattern}/" if self.is_regex else self.pattern)
        if self.source_id is not None:
            when.append(_("from {source}").format(source=self.source or self.source_id))
        return f"{markup(platform, self.target)} — {', '.join(when)}"

    def applies(self, candidate: Candidate, stems: WordStems | None = None) -> bool:
        if self.source_id is not None and self.source_id not in candidate.sources:
            return False
        if self.pattern is None:
            return True
        return matches(
            FilterRule(self.id, "include", self.pattern, self.is_regex), candidate, stems
        )


def mentioned(rules: Sequence[MentionRule], candidates: Sequence[Candidate]) -> list[str]:
    """The targets (each once, in the order they were configured) an article here calls for."""
    stems = WordStems()
    targets: list[str] = []
    for rule in rules:
        if rule.target not in targets and any(rule.applies(c, stems) for c in candidates):
            targets.append(rule.target)
    return targets


def parse_target(platform: str, text: str) -> str:
    """The id of the role or user group the admin named; MentionError for anything else
    (everyone, here, channel, a person, a name the platform did not turn into an id)."""
    text = text.strip()
    pattern = {"discord": _DISCORD_ROLE, "slack": _SLACK_GROUP}.get(platform)
    found = pattern.match(text) if pattern else None
    if found is None:
        if platform == "discord":
            raise MentionError(_("Choose a role to mention (not @everyone or @here)."))
        if platform == "slack":
            raise MentionError(
                _(
                    "Name a user group as Slack writes it when you pick it from the list "
                    "(@group), or give its ID (S…). @channel and @here are never used."
                )
            )
        raise MentionError(_("Mentions work on Slack and Discord only."))
    return found[1] or found[2]


def markup(platform: str, target: str) -> str:
    """How the platform writes a mention of that id."""
    return f"<@&{target}>" if platform == "discord" else f"<!subteam^{target}>"
